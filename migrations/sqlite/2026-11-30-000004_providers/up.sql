-- LLM provider configurations per team (API keys encrypted by the vault), and per-message
-- self-correction attempts and cost.
CREATE TABLE provider_configs (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    base_url TEXT,
    model TEXT,
    encrypted_api_key TEXT,
    options TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (team_id, name)
);

ALTER TABLE messages ADD COLUMN attempts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN cost_usd REAL;
CREATE INDEX messages_created ON messages (created_at);
