ALTER TABLE messages DROP COLUMN run_id;
