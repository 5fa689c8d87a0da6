-- The analytics workspace: saved queries (with their tags, one row each, for exact tag
-- filters) and their runs, dashboards (widgets are JSON inside), workflows and their runs,
-- assistants, and asynchronous questions. A row dies with what owns it: a saved query with
-- its connection, a run with its query or workflow, everything with its team.
CREATE TABLE saved_queries (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    question TEXT,
    sql_text TEXT NOT NULL,
    tags TEXT NOT NULL,
    provider TEXT,
    message_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- name, description, question and SQL, lower-cased by the server (the same on both
    -- backends, whatever the database's collation), for the text filter.
    search_text TEXT NOT NULL
);
CREATE INDEX saved_queries_team ON saved_queries (team_id, id);
CREATE INDEX saved_queries_connection ON saved_queries (connection_id, id);

CREATE TABLE saved_query_tags (
    query_id TEXT NOT NULL REFERENCES saved_queries(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (query_id, tag)
);
CREATE INDEX saved_query_tags_tag ON saved_query_tags (tag, query_id);

CREATE TABLE query_runs (
    id TEXT PRIMARY KEY NOT NULL,
    query_id TEXT NOT NULL REFERENCES saved_queries(id) ON DELETE CASCADE,
    run_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    row_count BIGINT,
    truncated BOOLEAN NOT NULL,
    error_code TEXT,
    error_detail TEXT,
    snapshot TEXT
);
CREATE INDEX query_runs_query ON query_runs (query_id, started_at, id);

CREATE TABLE dashboards (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    widgets TEXT NOT NULL,
    refresh_seconds BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX dashboards_team ON dashboards (team_id, id);

CREATE TABLE workflows (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    enabled BOOLEAN NOT NULL,
    schedule TEXT,
    steps TEXT NOT NULL,
    next_run_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX workflows_team ON workflows (team_id, id);
CREATE INDEX workflows_due ON workflows (enabled, next_run_at);

-- UNIQUE (workflow_id, scheduled_for): a second line of defence behind the slot claim's
-- compare-and-set, so a slot never runs twice (manual runs have no slot: NULLs differ).
CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    run_trigger TEXT NOT NULL,
    scheduled_for BIGINT,
    missed_slots BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    steps TEXT NOT NULL,
    error TEXT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (workflow_id, scheduled_for)
);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, id);
CREATE INDEX workflow_runs_lease ON workflow_runs (status, lease_expires_at);

CREATE TABLE assistants (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    provider TEXT,
    model TEXT,
    instructions TEXT,
    options TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX assistants_team ON assistants (team_id, id);
CREATE INDEX assistants_connection ON assistants (connection_id);

-- A question outlives its assistant (the profile no longer applies: assistant_id is
-- cleared), not its connection.
CREATE TABLE async_questions (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    provider TEXT,
    assistant_id TEXT REFERENCES assistants(id) ON DELETE SET NULL,
    state TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    results TEXT,
    error_code TEXT,
    error_detail TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX async_questions_queue ON async_questions (state, created_at, id);
CREATE INDEX async_questions_lease ON async_questions (state, lease_expires_at);
CREATE INDEX async_questions_connection ON async_questions (connection_id);
CREATE INDEX async_questions_assistant ON async_questions (assistant_id);
