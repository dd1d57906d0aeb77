-- Schema version 7: imports in short transactions (issue 15).
--
-- A contact import used to hold the write lock for its whole file; a million rows
-- kept the dialer waiting longer than its busy timeout. Now an import writes in
-- short transactions and its one small last commit makes everything visible at
-- once. Until then what it wrote is marked with its job and found by nothing
-- that lists, counts or dials contacts.

-- The import job whose row this is while the import has not committed (an import
-- into a campaign that already existed); NULL once visible. After the job
-- completes its rows are visible through the job's status, and the mark is
-- cleared in short chunks (the dispatch index below holds only cleared rows).
ALTER TABLE contacts ADD COLUMN staged_import INTEGER;

-- The import job creating this campaign (`shofar import --create`), while it
-- runs: no lookup finds the campaign, so its contacts (not marked one by one)
-- are hidden with it. NULL once the import committed.
ALTER TABLE campaigns ADD COLUMN staged_import INTEGER;

-- When a running import last committed a chunk: what tells an import whose
-- process is gone when its lock file cannot say (shofar-store's `imports`).
ALTER TABLE import_jobs ADD COLUMN heartbeat_at TEXT;

-- Duplicates merged (--duplicates merge) into contacts that were there before
-- the import: kept aside until the import commits, then applied in short chunks.
-- No foreign key on contact_id: every contact deleted would search this table.
CREATE TABLE import_merges (
    import_id  INTEGER NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL,
    metadata   TEXT NOT NULL,
    PRIMARY KEY (import_id, contact_id)
) WITHOUT ROWID;

-- The dispatch order as in version 2, without rows an import has not made
-- visible yet: the scheduler never walks past them.
DROP INDEX contacts_dispatch;
CREATE INDEX contacts_dispatch ON contacts
    (campaign_id, ifnull(time_zone, ''), score DESC, id, next_attempt_at, attempts, consent, best_hours)
    WHERE status = 'pending' AND blacklisted = 0 AND staged_import IS NULL;

-- An import's rows not yet cleared: what a failed import deletes and a completed
-- one clears, a chunk at a time. Empty between imports.
CREATE INDEX contacts_staged ON contacts (staged_import) WHERE staged_import IS NOT NULL;

-- Foreign keys whose child had no index: deleting a parent row searched the whole
-- child table inside the write transaction (a failed import's job row: every
-- contact; a campaign it created: the whole do-not-call list). Appended to in
-- order, so cheap to keep.
CREATE INDEX contacts_import ON contacts (import_id) WHERE import_id IS NOT NULL;
CREATE INDEX blacklist_campaign ON blacklist (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX sms_records_contact ON sms_records (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX sms_replies_contact ON sms_replies (contact_id) WHERE contact_id IS NOT NULL;
