-- The semantic cache (SQL that passed the guard and executed, per connection, schema
-- fingerprint and semantic model version), its counters, and verified examples.
CREATE TABLE cache_entries (
    id TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    schema_fingerprint TEXT NOT NULL,
    semantic_version BIGINT NOT NULL,
    question TEXT NOT NULL,
    normalized TEXT NOT NULL,
    guards TEXT NOT NULL,
    embedder TEXT NOT NULL,
    embedding BYTEA NOT NULL,
    sql_text TEXT NOT NULL,
    source_message_id TEXT,
    hits BIGINT NOT NULL,
    last_used BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (connection_id, schema_fingerprint, semantic_version, normalized)
);
CREATE INDEX cache_entries_lru ON cache_entries (connection_id, last_used);
CREATE INDEX cache_entries_question ON cache_entries (connection_id, normalized);

CREATE TABLE cache_counters (
    connection_id TEXT PRIMARY KEY NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    exact_hits BIGINT NOT NULL,
    similar_hits BIGINT NOT NULL,
    misses BIGINT NOT NULL
);

CREATE TABLE examples (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    sql_text TEXT NOT NULL,
    source TEXT NOT NULL,
    message_id TEXT,
    verified_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX examples_connection ON examples (connection_id, created_at);
CREATE INDEX examples_message ON examples (message_id);
