ALTER TABLE messages DROP COLUMN cache_entry_id;
