-- Schema version 8: the sync agent's feed (shofar-sync, shofar-store's `sync`).
--
-- Every call record that ends and every SMS record that reaches a final status
-- appends one row here, written by the triggers below in the same transaction as
-- the change itself. The sync agent (another process) reads the feed in `seq`
-- order, ships the records, and deletes what the cloud has. AUTOINCREMENT: a seq
-- is never given out again, even after every row was pruned, so the agent's
-- position never points at a different record.
CREATE TABLE sync_feed (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind = 'call' OR kind = 'sms'),
    ref  INTEGER NOT NULL,   -- call_records.id or sms_records.id
    at   TEXT NOT NULL       -- when the entry was written (UTC, RFC 3339, ms)
);

-- A call ends once (the store ignores a second end): one entry per call, and one
-- insert on the dialer's hot path per ended call.
CREATE TRIGGER sync_feed_call_ended AFTER UPDATE OF status ON call_records
WHEN NEW.status = 'ended' AND OLD.status <> 'ended'
BEGIN
    INSERT INTO sync_feed (kind, ref, at)
    VALUES ('call', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- A record written ended at once (a number the pre-dial check refused).
CREATE TRIGGER sync_feed_call_inserted_ended AFTER INSERT ON call_records
WHEN NEW.status = 'ended'
BEGIN
    INSERT INTO sync_feed (kind, ref, at)
    VALUES ('call', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- An SMS can reach several final statuses in turn (sent, then delivered): each
-- move to one is an entry, and downstream the later one supersedes the earlier
-- by the record's key.
CREATE TRIGGER sync_feed_sms_final AFTER UPDATE OF status ON sms_records
WHEN NEW.status IS NOT OLD.status
     AND (NEW.status = 'sent' OR NEW.status = 'delivered' OR NEW.status = 'failed'
          OR NEW.status = 'undeliverable')
BEGIN
    INSERT INTO sync_feed (kind, ref, at)
    VALUES ('sms', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER sync_feed_sms_inserted_final AFTER INSERT ON sms_records
WHEN NEW.status = 'sent' OR NEW.status = 'delivered' OR NEW.status = 'failed'
     OR NEW.status = 'undeliverable'
BEGIN
    INSERT INTO sync_feed (kind, ref, at)
    VALUES ('sms', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- What a box had before this version is shipped once: every ended call and every
-- SMS in a final status, in the order they ended (their ids after that).
INSERT INTO sync_feed (kind, ref, at)
SELECT 'call', id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM call_records WHERE status = 'ended'
ORDER BY ended_at, id;

INSERT INTO sync_feed (kind, ref, at)
SELECT 'sms', id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM sms_records
WHERE status = 'sent' OR status = 'delivered' OR status = 'failed' OR status = 'undeliverable'
ORDER BY coalesce(delivered_at, sent_at, queued_at), id;

-- The box's own opt-outs, which the agent publishes: found without walking the
-- history of a whole imported list (millions of admin_import rows). Opt-outs are
-- rare, so the index is small and costs an import nothing but the check.
CREATE INDEX blacklist_history_optouts ON blacklist_history (id)
    WHERE action = 'add' AND source = 'user_optout';
