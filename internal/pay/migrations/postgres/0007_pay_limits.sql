-- A service's own rate limit: POST requests a second in each of the create, capture and other
-- POST buckets (GETs get five times as many). 0 keeps GOV.UK Pay's defaults, 15 and 75. GOV.UK
-- Pay raises limits for particular accounts in the same way, as deployment configuration.
ALTER TABLE pay_settings ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;

-- No query finds tokens by payment: a token is looked up by its hash, and spent ones are
-- deleted by expiry. The index only cost every create (and every GET that mints a token) one
-- more write in a tree keyed by a random id.
DROP INDEX pay_tokens_payment;
