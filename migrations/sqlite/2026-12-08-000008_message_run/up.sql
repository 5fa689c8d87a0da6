-- The run (asking, approval or edit) a message belongs to: a run's final write lands only
-- while the message is still its own, so a stale pipeline never overwrites a newer one.
ALTER TABLE messages ADD COLUMN run_id TEXT;
