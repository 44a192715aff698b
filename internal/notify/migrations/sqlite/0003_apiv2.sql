-- Letter PDFs kept for GET /v2/notifications/{id}/pdf: the PDF a service sent as a precompiled
-- letter, and the PDF Commons rendered for a templated one. Deleted with the notification when
-- its retention ends.
CREATE TABLE notify_letter_pdfs (
	notification_id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	pdf BLOB NOT NULL,
	precompiled INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX notify_letter_pdfs_service ON notify_letter_pdfs (service_id);

-- Files sent by email (a personalisation value {"file": …}): the recipient downloads them from
-- a link in the email. The link carries a random key of which only the SHA-256 is kept here.
-- When confirm_email is set the recipient must type the address the email went to first.
CREATE TABLE notify_documents (
	id TEXT PRIMARY KEY,
	service_id TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	key_hash TEXT NOT NULL,
	filename TEXT NOT NULL DEFAULT '',
	mime_type TEXT NOT NULL,
	content BLOB NOT NULL,
	confirm_email TEXT NOT NULL DEFAULT '',
	expires_at TIMESTAMP NOT NULL,
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX notify_documents_notification ON notify_documents (notification_id);
CREATE INDEX notify_documents_expiry ON notify_documents (expires_at);
