DROP TABLE connection_aliases;
