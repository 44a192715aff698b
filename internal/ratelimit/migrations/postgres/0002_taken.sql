-- How many tokens the bucket's last update took: one statement takes tokens for several
-- requests at once and reports here how many it could.
ALTER TABLE ratelimit_buckets ADD COLUMN taken BIGINT NOT NULL DEFAULT 0;
