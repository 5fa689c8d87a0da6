-- The cache entry that answered a message (status cached), so feedback evicts exactly it.
ALTER TABLE messages ADD COLUMN cache_entry_id TEXT;
