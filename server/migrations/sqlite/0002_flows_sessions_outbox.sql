-- Login flows, email codes, sessions, the outbox, and the settings and counters that lock members.
ALTER TABLE organizations ADD COLUMN max_failed_logins INTEGER NOT NULL DEFAULT 5;
ALTER TABLE organizations ADD COLUMN session_seconds INTEGER NOT NULL DEFAULT 43200;

ALTER TABLE members ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE flows (
    id                  TEXT PRIMARY KEY NOT NULL,
    organization_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    state               TEXT NOT NULL,
    username            TEXT,
    member_id           TEXT REFERENCES members(id) ON DELETE CASCADE, -- NULL for an unknown username
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    code_hash           TEXT,                   -- SHA-256 of flow id and code; NULL: no live code
    code_expires_at     INTEGER,
    code_attempts_left  INTEGER,
    codes_sent          INTEGER NOT NULL DEFAULT 0,
    resend_available_at INTEGER
);
CREATE INDEX flows_member ON flows(member_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,       -- SHA-256 of the cookie value
    member_id  TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_member ON sessions(member_id);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
