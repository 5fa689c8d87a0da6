-- Integer aliases of connections (the `dw_id` of the Connecty compatibility layer, seed
-- 004): one per connection, given at creation, never reused (an identity column), gone with
-- the connection. Existing connections get theirs in creation order.
CREATE TABLE connection_aliases (
    dw_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id TEXT NOT NULL UNIQUE REFERENCES connections(id) ON DELETE CASCADE
);
INSERT INTO connection_aliases (connection_id) SELECT id FROM connections ORDER BY created_at, id;
