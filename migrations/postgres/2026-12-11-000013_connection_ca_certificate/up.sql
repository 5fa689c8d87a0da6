-- The CA certificate (PEM) a connection verifies its target's TLS certificate against
-- (ssl_mode verify-ca / verify-full); not a secret.
ALTER TABLE connections ADD COLUMN ca_certificate TEXT;
