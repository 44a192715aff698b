-- The hosted card pages' sessions: which payments a browser may see. The browser holds a random
-- id in a cookie; only its SHA-256 is kept, so that a copy of this table opens no payment. One
-- row per payment the browser was handed with a one-time token, until expires_at.
CREATE TABLE pay_sessions (
	session_hash TEXT NOT NULL,
	payment_id TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (session_hash, payment_id)
);
CREATE INDEX pay_sessions_expires ON pay_sessions (expires_at);
