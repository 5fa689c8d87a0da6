ALTER TABLE connections DROP COLUMN ca_certificate;
