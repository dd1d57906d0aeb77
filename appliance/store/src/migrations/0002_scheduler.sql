-- Schema version 2: what the scheduler reads to choose who to call next.

-- The scoring model's estimate that a call reaches the person; until a model has
-- scored a contact, the population default.
ALTER TABLE contacts ADD COLUMN score REAL NOT NULL DEFAULT 0.5;

-- The predicted best hours, as a bit mask of local hours (bit h set: the hour
-- starting at h:00 in the contact's zone is a good one). Replaces v1's JSON text,
-- which no release had filled, so a query can test an hour without parsing.
ALTER TABLE contacts DROP COLUMN best_hours;
ALTER TABLE contacts ADD COLUMN best_hours INTEGER;

-- The dispatch order: per campaign and zone, best score first, then import order.
-- Only contacts that may still be dialed are in it, and the columns the filters read
-- are carried in it, so choosing the next contacts never reads the table itself
-- for a contact it skips.
CREATE INDEX contacts_dispatch ON contacts
    (campaign_id, ifnull(time_zone, ''), score DESC, id, next_attempt_at, attempts, consent, best_hours)
    WHERE status = 'pending' AND blacklisted = 0;

-- Calls in flight are few; finding them (restart reconciliation, completion) must
-- not scan a campaign.
CREATE INDEX contacts_in_progress ON contacts (campaign_id) WHERE status = 'in_progress';
