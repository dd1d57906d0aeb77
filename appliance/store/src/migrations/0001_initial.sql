-- Schema version 1: the whole product's tables. Later issues fill them; later
-- migrations add to them. Times are UTC RFC 3339 text with milliseconds
-- ('2026-11-21T13:05:00.000Z'); phone numbers are the digits of their E.164 form as
-- an INTEGER (+972525551234 is 972525551234).

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL DEFAULT 'voice'
                CHECK (kind IN ('voice', 'sms', 'hybrid')),
    status      TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')),
    purpose     TEXT NOT NULL DEFAULT 'informational'
                CHECK (purpose IN ('donation', 'advertising', 'political', 'informational', 'emergency')),
    -- Windows, time zone, retries, pacing, caller ID, audio/IVR/SMS references:
    -- validated JSON owned by the campaign layer.
    settings    TEXT NOT NULL DEFAULT '{}',
    consent_override_reason TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    created_by  TEXT
);

CREATE TABLE import_jobs (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL DEFAULT 'contacts' CHECK (kind IN ('contacts', 'blacklist')),
    file_name     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    total_rows    INTEGER NOT NULL DEFAULT 0,
    imported      INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    invalid       INTEGER NOT NULL DEFAULT 0,
    blacklisted   INTEGER NOT NULL DEFAULT 0,
    summary       TEXT,          -- the full JSON summary shown to the user
    rejected_file TEXT,          -- where the rejected-rows CSV was written
    error         TEXT,
    actor         TEXT
);

CREATE TABLE contacts (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    e164            INTEGER NOT NULL,
    -- The hot tables spell their checks as OR chains: SQLite builds a temporary
    -- b-tree for every `IN (list)` at every insert, which made a million-row
    -- import several times slower.
    line_type       TEXT NOT NULL
                    CHECK (line_type = 'mobile' OR line_type = 'fixed_line' OR line_type = 'voip'
                           OR line_type = 'toll_free' OR line_type = 'other'),
    sms_capable     INTEGER NOT NULL CHECK (sms_capable = 0 OR sms_capable = 1),
    -- Every other column of the imported row, header -> text.
    metadata        TEXT NOT NULL DEFAULT '{}',
    time_zone       TEXT,
    consent         TEXT CHECK (consent = 'given' OR consent = 'refused'),
    consent_at      TEXT,
    consent_source  TEXT,
    -- Mirrors the do-not-call list; the pre-dial check is still the authority.
    blacklisted     INTEGER NOT NULL DEFAULT 0 CHECK (blacklisted = 0 OR blacklisted = 1),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status = 'pending' OR status = 'in_progress' OR status = 'completed'
                           OR status = 'failed' OR status = 'blacklisted'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    next_attempt_at TEXT,
    -- Scoring: the predicted best hours (JSON), filled by the model.
    best_hours      TEXT,
    import_id       INTEGER REFERENCES import_jobs(id) ON DELETE SET NULL,
    source_row      INTEGER,
    -- One index serves both "is this number in the campaign" and "which contacts
    -- have this number" (blacklisting marks them in every campaign). Each extra
    -- index on this table costs a million-row import seconds; the scheduler's
    -- index comes with the scheduler.
    UNIQUE (e164, campaign_id)
);
-- A campaign's contacts in import order: appended to, so cheap to keep.
CREATE INDEX contacts_campaign ON contacts (campaign_id, id);

-- The do-not-call list: one row per listed number, kept until an explicit removal.
CREATE TABLE blacklist (
    e164        INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL
                CHECK (source = 'user_optout' OR source = 'admin_import' OR source = 'compliance'
                       OR source = 'central'),
    added_at    TEXT NOT NULL,
    added_by    TEXT,
    -- For 'compliance': the date the national registry was checked.
    checked_on  TEXT,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL
);

-- Every addition and removal, append-only: nothing is silently forgotten, and the
-- id is the change feed other processes follow to keep their index in step.
CREATE TABLE blacklist_history (
    id      INTEGER PRIMARY KEY,
    e164    INTEGER NOT NULL,
    action  TEXT NOT NULL CHECK (action = 'add' OR action = 'remove'),
    reason  TEXT NOT NULL DEFAULT '',
    source  TEXT,
    at      TEXT NOT NULL,
    actor   TEXT
);
CREATE INDEX blacklist_history_e164 ON blacklist_history (e164);

CREATE TABLE call_records (
    id             INTEGER PRIMARY KEY,
    call_id        TEXT NOT NULL UNIQUE,     -- the channel id the supervisor chose
    campaign_id    INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id     INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    e164           INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'campaign'
                   CHECK (kind = 'campaign' OR kind = 'tts_fallback' OR kind = 'test'),
    status         TEXT NOT NULL
                   CHECK (status = 'dialing' OR status = 'ringing' OR status = 'answered' OR status = 'ended'),
    outcome        TEXT,   -- answered, busy, no_answer, failed, congestion, voicemail, blacklisted, ...
    hangup_cause   TEXT,
    amd_result     TEXT,
    started_at     TEXT NOT NULL,
    answered_at    TEXT,
    ended_at       TEXT,
    duration_ms    INTEGER,
    dtmf           TEXT NOT NULL DEFAULT '',
    actions        TEXT NOT NULL DEFAULT '[]',
    dnc_version    INTEGER,                  -- the list version the pre-dial check saw
    consent_basis  TEXT,
    cost_agorot    INTEGER,
    synced_at      TEXT
);
CREATE INDEX call_records_campaign ON call_records (campaign_id, started_at);
CREATE INDEX call_records_unsynced ON call_records (id) WHERE synced_at IS NULL;

CREATE TABLE sms_records (
    id                  INTEGER PRIMARY KEY,
    campaign_id         INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id          INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    e164                INTEGER NOT NULL,
    body                TEXT NOT NULL,
    provider            TEXT,
    provider_message_id TEXT,
    status              TEXT NOT NULL
                        CHECK (status = 'queued' OR status = 'sent' OR status = 'delivered'
                               OR status = 'failed' OR status = 'undeliverable'),
    attempts            INTEGER NOT NULL DEFAULT 0,
    queued_at           TEXT NOT NULL,
    sent_at             TEXT,
    delivered_at        TEXT,
    failure_reason      TEXT,
    tts_fallback_call   TEXT,      -- call_records.call_id of the fallback call
    dnc_version         INTEGER,
    cost_agorot         INTEGER,
    synced_at           TEXT
);
CREATE INDEX sms_records_campaign ON sms_records (campaign_id, queued_at);

CREATE TABLE sms_replies (
    id          INTEGER PRIMARY KEY,
    e164        INTEGER NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    contact_id  INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    campaign_id INTEGER REFERENCES campaigns(id) ON DELETE SET NULL
);

CREATE TABLE audio_files (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL,
    duration_ms INTEGER,
    sha256      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT
);

CREATE TABLE ivr_flows (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,         -- the IVR engine's JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,      -- argon2id PHC string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'analyst')),
    locale        TEXT NOT NULL DEFAULT 'he',
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    last_login_at TEXT
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'analyst')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,      -- e.g. 'blacklist.remove', 'campaign.start'
    subject_kind TEXT,
    subject_id   TEXT,
    details      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE pacing_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    campaign_id  INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,  -- NULL: the whole box
    old_cps      REAL NOT NULL,
    new_cps      REAL NOT NULL,
    old_channels INTEGER,
    new_channels INTEGER,
    reason       TEXT NOT NULL
);
CREATE INDEX pacing_log_at ON pacing_log (at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
