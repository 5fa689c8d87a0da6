-- Semantic models per connection, every saved version kept (history); the highest version
-- is the one in force. The primary key makes saving a version that exists fail, which the
-- service turns into an optimistic-locking conflict.
CREATE TABLE semantic_models (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    model TEXT NOT NULL,
    schema_fingerprint TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (connection_id, version)
);
