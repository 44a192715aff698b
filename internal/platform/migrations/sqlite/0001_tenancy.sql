-- Tenancy: organisations own services; users join services as team members with permissions;
-- services hold API keys. Permission lists are comma-separated names from the vocabularies in
-- Go, which validates them, so the schema needs no lookup tables.
CREATE TABLE organisations (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisations_name ON organisations (lower(name));

CREATE TABLE services (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	organisation_id TEXT REFERENCES organisations (id),
	live INTEGER NOT NULL DEFAULT 0,
	permissions TEXT NOT NULL DEFAULT '',
	archived_at TIMESTAMP,
	created_at TIMESTAMP NOT NULL
);
-- Archiving a service frees its name for a new one.
CREATE UNIQUE INDEX services_name ON services (coalesce(organisation_id, ''), lower(name)) WHERE archived_at IS NULL;

CREATE TABLE users (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	password_hash TEXT,
	platform_admin INTEGER NOT NULL DEFAULT 0,
	failed_attempts INTEGER NOT NULL DEFAULT 0,
	totp_failed_attempts INTEGER NOT NULL DEFAULT 0,
	locked_until TIMESTAMP,
	totp_secret TEXT,
	totp_pending TEXT,
	totp_last_step INTEGER,
	last_sign_in_at TIMESTAMP,
	created_at TIMESTAMP NOT NULL
);

CREATE TABLE members (
	service_id TEXT NOT NULL REFERENCES services (id),
	user_id TEXT NOT NULL REFERENCES users (id),
	permissions TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (service_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL REFERENCES services (id),
	name TEXT NOT NULL,
	key_type TEXT NOT NULL,
	secret_sealed TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	created_by_user_id TEXT,
	created_by_label TEXT NOT NULL,
	revoked_at TIMESTAMP,
	last_used_at TIMESTAMP
);
CREATE INDEX api_keys_service ON api_keys (service_id);
CREATE UNIQUE INDEX api_keys_name ON api_keys (service_id, lower(name)) WHERE revoked_at IS NULL;

-- One-time links and console sessions keep only the SHA-256 of their random value, so a copy of
-- the database cannot be used to sign in.
CREATE TABLE sign_in_tokens (
	token_hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id),
	purpose TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	used_at TIMESTAMP
);
CREATE INDEX sign_in_tokens_user ON sign_in_tokens (user_id);

CREATE TABLE sessions (
	id_hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id),
	mfa_done INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Append-only: the store has no method that updates or deletes audit rows. seq numbers rows
-- in the order they were written, which orders events made in the same instant (the
-- engine assigns it).
CREATE TABLE audit_events (
	seq INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	service_id TEXT,
	actor_user_id TEXT,
	actor_api_key_id TEXT,
	actor_label TEXT NOT NULL,
	action TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id TEXT NOT NULL,
	details TEXT NOT NULL DEFAULT '{}',
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_service ON audit_events (service_id, seq);
