-- Notify: templates with their full version history, notifications, per-service sending
-- settings (reply-to addresses, text message senders, letter contact blocks, guest list,
-- callbacks, limits, retention), received text messages and delivery bookkeeping.

CREATE TABLE notify_settings (
	service_id TEXT PRIMARY KEY,
	rate_limit INTEGER NOT NULL DEFAULT 3000,
	email_daily_limit INTEGER NOT NULL DEFAULT 250000,
	sms_daily_limit INTEGER NOT NULL DEFAULT 250000,
	letter_daily_limit INTEGER NOT NULL DEFAULT 20000,
	international_sms_daily_limit INTEGER NOT NULL DEFAULT 100,
	email_sender_name TEXT NOT NULL DEFAULT '',
	email_sender_local_part TEXT NOT NULL DEFAULT '',
	prefix_sms BOOLEAN NOT NULL DEFAULT false,
	contact_link TEXT NOT NULL DEFAULT '',
	email_retention_days INTEGER NOT NULL DEFAULT 7,
	sms_retention_days INTEGER NOT NULL DEFAULT 7,
	letter_retention_days INTEGER NOT NULL DEFAULT 7,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE notify_templates (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	name TEXT NOT NULL,
	template_type TEXT NOT NULL,
	subject TEXT,
	content TEXT NOT NULL,
	postage TEXT,
	letter_contact_id TEXT,
	version INTEGER NOT NULL,
	archived BOOLEAN NOT NULL DEFAULT false,
	hidden BOOLEAN NOT NULL DEFAULT false,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ,
	created_by TEXT NOT NULL
);
CREATE INDEX notify_templates_service ON notify_templates (service_id, name);

CREATE TABLE notify_template_versions (
	template_id TEXT NOT NULL,
	version INTEGER NOT NULL,
	service_id TEXT NOT NULL,
	name TEXT NOT NULL,
	template_type TEXT NOT NULL,
	subject TEXT,
	content TEXT NOT NULL,
	postage TEXT,
	letter_contact_id TEXT,
	archived BOOLEAN NOT NULL DEFAULT false,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ,
	created_by TEXT NOT NULL,
	PRIMARY KEY (template_id, version)
);

CREATE TABLE notify_notifications (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	template_id TEXT NOT NULL,
	template_version INTEGER NOT NULL,
	notification_type TEXT NOT NULL,
	api_key_id TEXT,
	key_type TEXT NOT NULL,
	job_id TEXT,
	job_row INTEGER,
	recipient TEXT NOT NULL,
	normalised_to TEXT NOT NULL,
	international BOOLEAN NOT NULL DEFAULT false,
	personalisation TEXT,
	reference TEXT,
	client_reference TEXT,
	status TEXT NOT NULL,
	subject TEXT,
	body TEXT NOT NULL,
	postage TEXT,
	reply_to TEXT,
	sender TEXT,
	one_click_unsubscribe_url TEXT,
	billable_units INTEGER NOT NULL DEFAULT 0,
	rate_multiplier DOUBLE PRECISION NOT NULL DEFAULT 1,
	pages INTEGER NOT NULL DEFAULT 0,
	provider TEXT,
	provider_reference TEXT,
	created_by_name TEXT,
	scheduled_for TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL,
	sent_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
);
CREATE INDEX notify_notifications_list ON notify_notifications (service_id, key_type, created_at DESC, id);
CREATE INDEX notify_notifications_reference ON notify_notifications (service_id, client_reference);
CREATE INDEX notify_notifications_status ON notify_notifications (status, created_at);
CREATE INDEX notify_notifications_job ON notify_notifications (job_id);
CREATE INDEX notify_notifications_provider_ref ON notify_notifications (provider_reference);

CREATE TABLE notify_status_events (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	notification_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	status TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_status_events_notification ON notify_status_events (notification_id, id);

CREATE TABLE notify_reply_to (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	email_address TEXT NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT false,
	archived BOOLEAN NOT NULL DEFAULT false,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_reply_to_service ON notify_reply_to (service_id);

CREATE TABLE notify_sms_senders (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	sms_sender TEXT NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT false,
	inbound BOOLEAN NOT NULL DEFAULT false,
	archived BOOLEAN NOT NULL DEFAULT false,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_sms_senders_service ON notify_sms_senders (service_id);
CREATE INDEX notify_sms_senders_inbound ON notify_sms_senders (sms_sender, inbound);

CREATE TABLE notify_letter_contacts (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	contact_block TEXT NOT NULL,
	is_default BOOLEAN NOT NULL DEFAULT false,
	archived BOOLEAN NOT NULL DEFAULT false,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_letter_contacts_service ON notify_letter_contacts (service_id);

CREATE TABLE notify_guest_list (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	recipient_type TEXT NOT NULL,
	recipient TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX notify_guest_list_recipient ON notify_guest_list (service_id, recipient_type, recipient);

CREATE TABLE notify_callbacks (
	service_id TEXT NOT NULL,
	callback_type TEXT NOT NULL,
	url TEXT NOT NULL,
	bearer_token_sealed TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (service_id, callback_type)
);

CREATE TABLE notify_callback_attempts (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	callback_type TEXT NOT NULL,
	subject_id TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	url TEXT NOT NULL,
	status_code INTEGER,
	error TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_callback_attempts_service ON notify_callback_attempts (service_id, created_at DESC);

CREATE TABLE notify_inbound_sms (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	user_number TEXT NOT NULL,
	notify_number TEXT NOT NULL,
	content TEXT NOT NULL,
	provider_reference TEXT,
	provider_date TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notify_inbound_sms_service ON notify_inbound_sms (service_id, created_at DESC, id);

CREATE TABLE notify_daily_counts (
	service_id TEXT NOT NULL,
	channel TEXT NOT NULL,
	day TEXT NOT NULL,
	sent INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (service_id, channel, day)
);
