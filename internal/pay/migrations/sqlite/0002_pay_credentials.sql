-- Each service's secret for each payment provider (a Stripe secret key, say), sealed with Commons'
-- secret key (AES-GCM) and bound to its service and provider, so that a value copied to another
-- row does not open. The plain secret never reaches the database.
CREATE TABLE pay_provider_credentials (
	service_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	sealed_secret TEXT NOT NULL,
	-- key_id names the secret key that sealed the value, so that after a key rotation the rows
	-- still sealed under an old key can be found and sealed again.
	key_id TEXT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	PRIMARY KEY (service_id, provider)
);
