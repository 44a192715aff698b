-- Delivery bookkeeping: a provider's repeated report of one received text message is stored
-- once; retention finds callback attempts by what they were about, and notifications by
-- channel and age.
CREATE UNIQUE INDEX notify_inbound_sms_provider_ref ON notify_inbound_sms (service_id, provider_reference)
	WHERE provider_reference IS NOT NULL;
CREATE INDEX notify_callback_attempts_subject ON notify_callback_attempts (subject_id);
CREATE INDEX notify_notifications_type_created ON notify_notifications (notification_type, created_at);
