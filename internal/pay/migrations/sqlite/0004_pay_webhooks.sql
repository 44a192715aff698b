-- Webhooks (pay.md §9): where a service wants to hear about its payments, the messages queued
-- for each, and every attempt to deliver them; and the optional confirmation email a service
-- sends payers through Notify when a payment succeeds.

-- One webhook of a service, for its live or its test payments. The signing secret is sealed with
-- Commons' secret key and bound to its row; key_id names the key that sealed it, so that rows
-- sealed under an old key can be found after a rotation.
CREATE TABLE pay_webhooks (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	live INTEGER NOT NULL,
	callback_url TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
	sealed_secret TEXT NOT NULL,
	key_id TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_webhooks_service ON pay_webhooks (service_id, live, status);

-- The event types each webhook subscribes to.
CREATE TABLE pay_webhook_subscriptions (
	webhook_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	PRIMARY KEY (webhook_id, event_type)
);

-- One event for one webhook. body is the exact JSON sent, fixed at the first attempt so that
-- every retry sends (and signs) the same bytes. Deleted 7 days after it was made.
CREATE TABLE pay_webhook_messages (
	id TEXT PRIMARY KEY,
	webhook_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	event_at TIMESTAMP NOT NULL,
	body TEXT,
	status TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCESSFUL', 'FAILED', 'WILL_NOT_SEND')),
	attempts INTEGER NOT NULL DEFAULT 0,
	last_attempt_at TIMESTAMP,
	next_attempt_at TIMESTAMP,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_webhook_messages_webhook ON pay_webhook_messages (webhook_id, created_at);
CREATE INDEX pay_webhook_messages_created ON pay_webhook_messages (created_at);

-- Every try at delivering a message, and every decision not to.
CREATE TABLE pay_webhook_attempts (
	id TEXT PRIMARY KEY,
	message_id TEXT NOT NULL,
	webhook_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	result TEXT NOT NULL CHECK (result IN ('SUCCESSFUL', 'FAILED', 'WILL_NOT_SEND')),
	status_code INTEGER,
	error TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_webhook_attempts_webhook ON pay_webhook_attempts (webhook_id, created_at);
CREATE INDEX pay_webhook_attempts_message ON pay_webhook_attempts (message_id, created_at);
CREATE INDEX pay_webhook_attempts_created ON pay_webhook_attempts (created_at);

-- A service's confirmation email: whether to send one when a payment succeeds, and which of the
-- service's Notify email templates to send.
CREATE TABLE pay_confirmation_email_settings (
	service_id TEXT PRIMARY KEY,
	enabled INTEGER NOT NULL DEFAULT 0,
	template_id TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMP NOT NULL
);

-- One confirmation email per payment, queued in the transaction that made the payment succeed;
-- the row keeps the job from sending twice. No address is kept here: it is read from the
-- payment when the email is sent.
CREATE TABLE pay_confirmation_emails (
	payment_id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	template_id TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'skipped', 'failed')),
	error TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL,
	sent_at TIMESTAMP
);
CREATE INDEX pay_confirmation_emails_created ON pay_confirmation_emails (created_at);
