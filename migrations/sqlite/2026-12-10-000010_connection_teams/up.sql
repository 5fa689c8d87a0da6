-- Connections shared by several teams (design §2): the owning team stays
-- connections.team_id; these are the other teams whose members may use it.
CREATE TABLE connection_teams (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (connection_id, team_id)
);
CREATE INDEX connection_teams_team ON connection_teams(team_id);

-- Users managed by a team's API clients (created through an API, no password login): the
-- team's admin-scoped clients may issue their tokens.
CREATE TABLE managed_users (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- API clients found by their secret alone (a client-secret header).
CREATE INDEX api_clients_secret_hash ON api_clients(secret_hash);
