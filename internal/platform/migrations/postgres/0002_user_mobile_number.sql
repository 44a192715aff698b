-- A team member's own mobile number, so that a trial service or a team key can text them as
-- well as email them. Stored in E.164 form ("+447700900982"); NULL when they have not given one.
ALTER TABLE users ADD COLUMN mobile_number TEXT;
