-- Token buckets shared by every node. Time is kept as integer microseconds since the epoch so
-- that the refill arithmetic is the same SQL on both engines.
CREATE TABLE ratelimit_buckets (
	bucket TEXT PRIMARY KEY,
	tokens REAL NOT NULL,
	updated_us INTEGER NOT NULL
);
