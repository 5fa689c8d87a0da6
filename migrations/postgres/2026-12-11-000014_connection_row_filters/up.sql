-- Row filters of a connection and whom each applies to (JSON list of
-- {table, predicate, applies_to}).
ALTER TABLE connections ADD COLUMN row_filters TEXT NOT NULL DEFAULT '[]';
