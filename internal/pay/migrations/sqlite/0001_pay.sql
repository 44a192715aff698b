-- Pay: card payments (GOV.UK Pay API v1), their state history, refunds, an append-only ledger of
-- money movements, idempotency records, one-time tokens for the hosted pages and the MOTO API,
-- and per-service settings. Card numbers and CVCs have no column: they never reach the database.

CREATE TABLE pay_settings (
	service_id TEXT PRIMARY KEY,
	-- provider takes live payments; test payments always use the sandbox.
	provider TEXT NOT NULL DEFAULT 'sandbox',
	moto_enabled INTEGER NOT NULL DEFAULT 0,
	moto_api_enabled INTEGER NOT NULL DEFAULT 0,
	allow_zero_amount INTEGER NOT NULL DEFAULT 0,
	recurring_enabled INTEGER NOT NULL DEFAULT 0,
	updated_at TIMESTAMP NOT NULL
);

CREATE TABLE pay_payments (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	-- live payments (made with live keys) and test payments are separate worlds, as GOV.UK Pay's
	-- live and test accounts are: a key only ever sees payments of its own kind.
	live INTEGER NOT NULL,
	key_type TEXT NOT NULL,
	api_key_id TEXT NOT NULL DEFAULT '',
	amount INTEGER NOT NULL,
	reference TEXT NOT NULL,
	description TEXT NOT NULL,
	return_url TEXT,
	language TEXT NOT NULL,
	email TEXT,
	delayed_capture INTEGER NOT NULL DEFAULT 0,
	moto INTEGER NOT NULL DEFAULT 0,
	metadata TEXT,
	authorisation_mode TEXT NOT NULL,
	agreement_id TEXT,
	agreement_payment_type TEXT,
	save_to_agreement INTEGER NOT NULL DEFAULT 0,
	source TEXT NOT NULL,
	provider TEXT NOT NULL,
	provider_id TEXT,
	status TEXT NOT NULL,
	-- What the service prefilled for the card page.
	prefilled_cardholder_name TEXT,
	prefilled_line1 TEXT,
	prefilled_line2 TEXT,
	prefilled_city TEXT,
	prefilled_postcode TEXT,
	prefilled_country TEXT,
	-- What the payer entered, less the card number and CVC.
	card_brand TEXT,
	card_type TEXT,
	first_digits TEXT,
	last_digits TEXT,
	expiry_date TEXT,
	cardholder_name TEXT,
	billing_line1 TEXT,
	billing_line2 TEXT,
	billing_city TEXT,
	billing_postcode TEXT,
	billing_country TEXT,
	wallet_type TEXT,
	-- 3-D Secure: whether it was asked for, and the provider's challenge for the hosted page.
	three_ds_required INTEGER,
	three_ds_data TEXT,
	can_retry INTEGER,
	corporate_surcharge INTEGER,
	fee INTEGER,
	net_amount INTEGER,
	-- Money refunded or being refunded, kept here so that one conditional update decides
	-- whether a refund fits (refunds.go).
	refunded_amount INTEGER NOT NULL DEFAULT 0,
	capture_attempts INTEGER NOT NULL DEFAULT 0,
	capture_submit_time TIMESTAMP,
	captured_at TIMESTAMP,
	settled_date TEXT,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_payments_service ON pay_payments (service_id, live, created_at);
CREATE INDEX pay_payments_status ON pay_payments (status, created_at);
CREATE INDEX pay_payments_reference ON pay_payments (service_id, live, lower(reference));

-- Every change of a payment's internal status, in order: the event history the events endpoint
-- and webhooks are derived from.
CREATE TABLE pay_events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	payment_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	from_status TEXT NOT NULL,
	to_status TEXT NOT NULL,
	event TEXT NOT NULL,
	at TIMESTAMP NOT NULL
);
CREATE INDEX pay_events_payment ON pay_events (payment_id, id);

CREATE TABLE pay_refunds (
	id TEXT PRIMARY KEY,
	payment_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	live INTEGER NOT NULL,
	amount INTEGER NOT NULL,
	status TEXT NOT NULL,
	provider_id TEXT,
	settled_date TEXT,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_refunds_payment ON pay_refunds (payment_id, created_at);
CREATE INDEX pay_refunds_service ON pay_refunds (service_id, live, created_at);

-- Money that moved, never changed afterwards: a correction is a new row. Amounts are signed
-- pence from the service's point of view (captures positive, refunds and fees negative).
CREATE TABLE pay_ledger (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	service_id TEXT NOT NULL,
	live INTEGER NOT NULL,
	payment_id TEXT NOT NULL,
	refund_id TEXT,
	kind TEXT NOT NULL CHECK (kind IN ('payment', 'capture', 'refund', 'fee')),
	amount INTEGER NOT NULL,
	at TIMESTAMP NOT NULL
);
CREATE INDEX pay_ledger_payment ON pay_ledger (payment_id);
CREATE INDEX pay_ledger_service ON pay_ledger (service_id, live, at);
CREATE TRIGGER pay_ledger_no_update BEFORE UPDATE ON pay_ledger
BEGIN SELECT RAISE(ABORT, 'pay_ledger is append-only'); END;
CREATE TRIGGER pay_ledger_no_delete BEFORE DELETE ON pay_ledger
BEGIN SELECT RAISE(ABORT, 'pay_ledger is append-only'); END;

-- A create with an Idempotency-Key, kept for 24 hours: the same key and body answer with the
-- original payment, the same key and another body are refused.
CREATE TABLE pay_idempotency (
	service_id TEXT NOT NULL,
	live INTEGER NOT NULL,
	idempotency_key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	payment_id TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (service_id, live, idempotency_key)
);
CREATE INDEX pay_idempotency_created ON pay_idempotency (created_at);

-- One-time tokens: chargeTokenId of next_url (kind 'web') and one_time_token of auth_url_post
-- (kind 'moto_api'). Only the SHA-256 is kept, so a copy of the database cannot start a payment.
CREATE TABLE pay_tokens (
	token_hash TEXT PRIMARY KEY,
	payment_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	used_at TIMESTAMP
);
CREATE INDEX pay_tokens_payment ON pay_tokens (payment_id);
CREATE INDEX pay_tokens_expires ON pay_tokens (expires_at);
