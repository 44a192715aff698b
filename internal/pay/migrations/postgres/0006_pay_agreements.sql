-- Recurring card payments (GOV.UK Pay agreements) and disputes.
--
-- An agreement is a service's standing permission to charge a payer's saved card. The card is
-- saved as a payment instrument: what may be kept of it (brand, first six and last four digits,
-- expiry, name, billing address) and the provider's reusable reference to it. The card number
-- and CVC have no column here either: only the provider holds them.

CREATE TABLE pay_agreements (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	-- Agreements, like payments, belong to one mode: a test key's agreements are not a live
	-- key's.
	live BOOLEAN NOT NULL,
	reference TEXT NOT NULL,
	description TEXT NOT NULL,
	user_identifier TEXT,
	status TEXT NOT NULL CHECK (status IN ('created', 'active', 'cancelled', 'inactive')),
	-- The card recurring payments are taken with, once a set-up payment has saved one.
	payment_instrument_id TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	cancelled_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pay_agreements_service ON pay_agreements (service_id, live, created_at);
CREATE INDEX pay_agreements_reference ON pay_agreements (service_id, live, lower(reference));

-- A card saved by a set-up payment: 'created' once the provider authorised it, 'active' once
-- the payer confirmed and it became the agreement's card, 'cancelled' when the agreement was
-- cancelled or a later set-up replaced it.
CREATE TABLE pay_payment_instruments (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	live BOOLEAN NOT NULL,
	agreement_id TEXT NOT NULL,
	payment_id TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('created', 'active', 'cancelled')),
	provider TEXT NOT NULL,
	-- The provider's reference for charging the card again (a Stripe payment method, say; a
	-- random one for the sandbox).
	provider_token TEXT,
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
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pay_payment_instruments_payment ON pay_payment_instruments (payment_id);
CREATE INDEX pay_payment_instruments_agreement ON pay_payment_instruments (agreement_id);

-- Every change of an agreement, in order, named as GOV.UK Pay's ledger names them
-- (AgreementCreated, AgreementSetUp, AgreementCancelledByService, AgreementInactivated).
CREATE TABLE pay_agreement_events (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	agreement_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	event TEXT NOT NULL,
	payment_id TEXT,
	at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pay_agreement_events_agreement ON pay_agreement_events (agreement_id, id);

-- Disputes (chargebacks) a provider reports against captured payments. Amounts are pence;
-- net_amount is what the provider takes for a lost dispute (negative).
CREATE TABLE pay_disputes (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	live BOOLEAN NOT NULL,
	payment_id TEXT NOT NULL,
	provider TEXT NOT NULL,
	-- The provider's own id, so that a dispute it reports twice is recorded once.
	provider_dispute_id TEXT NOT NULL,
	amount BIGINT NOT NULL,
	fee BIGINT,
	net_amount BIGINT,
	reason TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('needs_response', 'under_review', 'lost', 'won')),
	evidence_due_date TIMESTAMPTZ,
	settled_date TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	UNIQUE (provider, provider_dispute_id)
);
CREATE INDEX pay_disputes_service ON pay_disputes (service_id, live, created_at);
CREATE INDEX pay_disputes_payment ON pay_disputes (payment_id);
