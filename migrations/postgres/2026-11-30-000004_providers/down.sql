DROP INDEX messages_created;
ALTER TABLE messages DROP COLUMN cost_usd;
ALTER TABLE messages DROP COLUMN attempts;
DROP TABLE provider_configs;
