-- Payment links (pay.md §10): a reusable address at /pay/link/{slug} where anyone can pay a
-- service without the service building anything, and the payments made through each one.

CREATE TABLE pay_links (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	-- A link takes live payments or test ones (the sandbox), as an API key of that kind would.
	live INTEGER NOT NULL,
	-- slug is the last part of the link's address; addresses are shared by every service, so
	-- it is unique across all of them.
	slug TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	-- amount is in pence; NULL means the payer says how much.
	amount INTEGER,
	-- With reference_label the payer is asked for a reference under that label; without it
	-- each payment gets a generated one.
	reference_label TEXT,
	reference_hint TEXT,
	language TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_links_service ON pay_links (service_id, created_at);

-- One row per payment started through a link. The id is what the return address carries, so
-- the "payment complete" page does not put the payment's own id in a browser's history.
CREATE TABLE pay_link_payments (
	id TEXT PRIMARY KEY,
	link_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	payment_id TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_link_payments_link ON pay_link_payments (link_id, created_at);
