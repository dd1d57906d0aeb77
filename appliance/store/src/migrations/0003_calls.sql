-- Schema version 3: call records as the telephony layer writes them.
--
-- v1's table required a campaign; a test call (`shofar call NUMBER --flow F`) has
-- none. SQLite cannot relax a NOT NULL in place, so the table is rebuilt, rows kept.
-- New: the Q.850 cause code beside its text, the Dial status, ring and talk time,
-- who ended the call, a human note, and flags for conversion and opt-out so reports
-- never parse the actions column.
CREATE TABLE call_records_v3 (
    id             INTEGER PRIMARY KEY,
    call_id        TEXT NOT NULL UNIQUE,     -- the channel id the supervisor chose
    campaign_id    INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id     INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    e164           INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'campaign'
                   CHECK (kind = 'campaign' OR kind = 'tts_fallback' OR kind = 'test'),
    status         TEXT NOT NULL
                   CHECK (status = 'dialing' OR status = 'ringing' OR status = 'answered' OR status = 'ended'),
    outcome        TEXT,     -- answered, voicemail, busy, no_answer, congestion, rejected, failed, blacklisted
    hangup_cause   TEXT,     -- the cause's name, e.g. "user busy"
    hangup_code    INTEGER,  -- the Q.850 cause code Asterisk reported
    dial_status    TEXT,     -- ANSWER, BUSY, NOANSWER, CONGESTION, ... as Asterisk's Dial said
    amd_result     TEXT,     -- HUMAN, MACHINE, NOTSURE, HANGUP; NULL when AMD did not run
    started_at     TEXT NOT NULL,
    answered_at    TEXT,
    ended_at       TEXT,
    duration_ms    INTEGER,  -- from the dial to the end
    ring_ms        INTEGER,  -- from the dial to the answer (or to the end, unanswered)
    talk_ms        INTEGER,  -- from the answer to the end
    dtmf           TEXT NOT NULL DEFAULT '',
    actions        TEXT NOT NULL DEFAULT '[]',
    converted      INTEGER NOT NULL DEFAULT 0,
    opted_out      INTEGER NOT NULL DEFAULT 0,
    ended_by       TEXT,     -- callee, flow, network, supervisor, reconcile
    detail         TEXT,     -- what a person should know: an error, why it was reconciled
    dnc_version    INTEGER,  -- the list version the pre-dial check saw
    consent_basis  TEXT,
    cost_agorot    INTEGER,
    synced_at      TEXT
);

INSERT INTO call_records_v3
    (id, call_id, campaign_id, contact_id, e164, attempt, kind, status, outcome, hangup_cause,
     amd_result, started_at, answered_at, ended_at, duration_ms, dtmf, actions, dnc_version,
     consent_basis, cost_agorot, synced_at)
SELECT id, call_id, campaign_id, contact_id, e164, attempt, kind, status, outcome, hangup_cause,
       amd_result, started_at, answered_at, ended_at, duration_ms, dtmf, actions, dnc_version,
       consent_basis, cost_agorot, synced_at
FROM call_records;

DROP TABLE call_records;
ALTER TABLE call_records_v3 RENAME TO call_records;

CREATE INDEX call_records_campaign ON call_records (campaign_id, started_at);
CREATE INDEX call_records_unsynced ON call_records (id) WHERE synced_at IS NULL;
-- Calls not yet ended: what reconciliation after a restart or reconnect looks at.
CREATE INDEX call_records_open ON call_records (call_id) WHERE status != 'ended';
