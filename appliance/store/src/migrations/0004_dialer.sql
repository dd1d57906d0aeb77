-- The dialer: finding the call of a contact's attempt when a restart reconciles
-- contacts left in progress.
CREATE INDEX call_records_contact ON call_records (contact_id, attempt) WHERE contact_id IS NOT NULL;
