-- The latest schema snapshot of each connection (JSON), with its structural fingerprint.
CREATE TABLE schema_snapshots (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    taken_at BIGINT NOT NULL
);
