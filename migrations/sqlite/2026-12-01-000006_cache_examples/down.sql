DROP TABLE examples;
DROP TABLE cache_counters;
DROP TABLE cache_entries;
