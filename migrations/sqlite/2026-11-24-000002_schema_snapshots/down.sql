DROP TABLE schema_snapshots;
