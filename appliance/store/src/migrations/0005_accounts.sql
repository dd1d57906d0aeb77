-- Schema version 5: what the HTTP API needs — sessions, the one-time setup link,
-- API tokens that can be told apart and expire, and the indexes reports filter by.

-- A browser session: the cookie holds a random secret, the table only its SHA-256,
-- so a copy of the database lets nobody in. Logging out deletes the row.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    -- Sent back by the client in X-CSRF-Token on every state-changing request.
    csrf_token   TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    -- Idle expiry, pushed forward as the session is used; never past
    -- created_at + the absolute lifetime.
    expires_at   TEXT NOT NULL,
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- First run: a secret printed once in the log lets whoever reads it create the
-- first admin, instead of a default password.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

ALTER TABLE users ADD COLUMN password_changed_at TEXT;
ALTER TABLE users ADD COLUMN created_by TEXT;

-- The first characters of a token ("shofar_ab12…"), so a list can show which is
-- which without keeping the secret.
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;

-- History by date range across every campaign (property 46).
CREATE INDEX call_records_started ON call_records (started_at);
-- The opt-out history: the list's history by time.
CREATE INDEX blacklist_history_at ON blacklist_history (at);
