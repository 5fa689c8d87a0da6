-- Chat sessions (one connection each) and their messages. A message is one question and
-- its answer: the SQL, its status (pending approvals survive restarts here), the result
-- preview (masked values stay masked), error, provider and token accounting.
CREATE TABLE chat_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX chat_sessions_owner ON chat_sessions (owner, id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    sql_text TEXT,
    dialect TEXT NOT NULL,
    status TEXT NOT NULL,
    explanation TEXT,
    results TEXT,
    error_code TEXT,
    error_detail TEXT,
    provider TEXT,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    latency_ms BIGINT,
    options TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_session ON messages (session_id, id);
CREATE INDEX messages_status ON messages (status);
