-- What happens to messages after they leave Commons: email bounces and complaints reported by
-- the mail system, letters handed to the printer and posted in print batches, and letters
-- that come back. None of these tables holds a recipient's details: they point at the
-- notification, which keeps those for as long as its retention allows.

-- A recipient's complaint about an email (marking it as spam). A notification has at most
-- one: a mail system that reports the same complaint again changes nothing.
CREATE TABLE notify_complaints (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	complaint_type TEXT NOT NULL DEFAULT '',
	complaint_date TIMESTAMP NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX notify_complaints_notification ON notify_complaints (notification_id);
CREATE INDEX notify_complaints_service ON notify_complaints (service_id, created_at DESC, id);

-- A print batch: the letters in one download of the print batch zip, recorded so that
-- marking the batch as sent to print, and later as posted, moves exactly those letters.
CREATE TABLE notify_print_batches (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	letter_count INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	printed_by TEXT,
	printed_at TIMESTAMP,
	posted_by TEXT,
	posted_at TIMESTAMP
);
CREATE INDEX notify_print_batches_service ON notify_print_batches (service_id, created_at DESC, id);

CREATE TABLE notify_print_batch_letters (
	batch_id TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	service_id TEXT NOT NULL,
	PRIMARY KEY (batch_id, notification_id)
);
CREATE INDEX notify_print_batch_letters_notification ON notify_print_batch_letters (notification_id);

-- A letter the post office returned to the service, recorded once.
CREATE TABLE notify_returned_letters (
	notification_id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	reported_by TEXT NOT NULL,
	reported_at TIMESTAMP NOT NULL
);
CREATE INDEX notify_returned_letters_service ON notify_returned_letters (service_id, reported_at DESC);
