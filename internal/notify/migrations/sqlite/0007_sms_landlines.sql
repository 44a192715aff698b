-- GOV.UK Notify's sms_to_uk_landlines permission, as a service setting: without it, text
-- messages to UK landline numbers are refused ("Not a UK mobile number").
ALTER TABLE notify_settings ADD COLUMN sms_to_uk_landlines INTEGER NOT NULL DEFAULT 0;
