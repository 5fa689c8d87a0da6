-- Invitations to join a team: pending until accepted (which creates the user and the
-- membership) or revoked (deleted). Only the SHA-256 of the one-time token is kept.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
);
CREATE INDEX invitations_team ON invitations (team_id, created_at);
CREATE UNIQUE INDEX invitations_pending_email ON invitations (team_id, email) WHERE accepted_at IS NULL;
