-- Bulk sending: a file of recipients uploaded in the console, checked row by row, then sent
-- now or at a scheduled time (up to 7 days ahead) by the notify.bulk_send job, which creates
-- the notifications in batches.
--
-- rows_done is how many of the file's rows with data have been dealt with, in file order:
-- each batch moves it on in the transaction that stores the batch's notifications, so a send
-- interrupted by a crash or a restart resumes where it stopped. sent_count counts the
-- notifications made and skipped_count the rows set aside (notify_bulk_skipped says why).
CREATE TABLE notify_bulk_jobs (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	template_id TEXT NOT NULL,
	template_version INTEGER NOT NULL,
	notification_type TEXT NOT NULL,
	file_name TEXT NOT NULL,
	row_count INTEGER NOT NULL,
	status TEXT NOT NULL,
	scheduled_for TIMESTAMP,
	created_by TEXT NOT NULL,
	created_by_name TEXT NOT NULL,
	rows_done INTEGER NOT NULL DEFAULT 0,
	sent_count INTEGER NOT NULL DEFAULT 0,
	skipped_count INTEGER NOT NULL DEFAULT 0,
	cancelled_by_name TEXT,
	cancelled_at TIMESTAMP,
	started_at TIMESTAMP,
	finished_at TIMESTAMP,
	created_at TIMESTAMP NOT NULL,
	updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notify_bulk_jobs_service ON notify_bulk_jobs (service_id, created_at DESC);

-- The uploaded file, kept until the job has finished or is cancelled (or, unsent, until it
-- is purged), so that a send can start or resume on any node after a restart.
CREATE TABLE notify_bulk_files (
	job_id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	content BLOB NOT NULL
);

-- Rows a send set aside without a notification: a row that no longer passed the checks when
-- its batch was sent (the team or guest list changed), or a test address that is never sent.
CREATE TABLE notify_bulk_skipped (
	job_id TEXT NOT NULL,
	job_row INTEGER NOT NULL,
	service_id TEXT NOT NULL,
	recipient TEXT NOT NULL,
	reason TEXT NOT NULL,
	PRIMARY KEY (job_id, job_row)
);

-- One notification per row of a job, whatever happens to the job: a batch stored twice fails
-- rather than sending twice. job_row is the row's number as the spreadsheet shows it (the
-- column names are row 1).
CREATE UNIQUE INDEX notify_notifications_job_row ON notify_notifications (job_id, job_row);
