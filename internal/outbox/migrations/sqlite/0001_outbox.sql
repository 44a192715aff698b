CREATE TABLE outbox_messages (
	id TEXT PRIMARY KEY,
	service_id TEXT,
	channel TEXT NOT NULL,
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	body TEXT NOT NULL,
	reference TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_messages_created ON outbox_messages (created_at DESC);
CREATE INDEX outbox_messages_reference ON outbox_messages (reference);
