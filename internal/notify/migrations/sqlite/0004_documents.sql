-- The download page for files sent by email counts wrong answers to "what is your email
-- address?", so that a link that has leaked cannot be used to guess the address: after a few
-- the file is locked and only a new email from the service gives access again.
ALTER TABLE notify_documents ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
