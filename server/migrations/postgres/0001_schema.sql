-- The whole schema for PostgreSQL, matching the SQLite migrations 0001–0006 (see
-- ../sqlite/). Times are seconds since the Unix epoch, as BIGINT, on both backends.
CREATE TABLE organizations (
    id                       TEXT PRIMARY KEY,          -- lower-case UUID
    alias                    TEXT NOT NULL UNIQUE,      -- 2–32 letters a–z
    name                     TEXT NOT NULL,
    login_methods            TEXT NOT NULL,             -- comma-separated: email_code,password
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    max_failed_logins        BIGINT NOT NULL DEFAULT 5,
    session_seconds          BIGINT NOT NULL DEFAULT 43200,
    enforce_mfa              BOOLEAN NOT NULL DEFAULT FALSE,
    enforce_password_renewal BOOLEAN NOT NULL DEFAULT FALSE,
    grace_period_seconds     BIGINT NOT NULL DEFAULT 259200
);

CREATE TABLE members (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    username            TEXT NOT NULL,
    email               TEXT NOT NULL,
    password_hash       TEXT,                           -- Argon2id PHC string; NULL: none set
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    failed_logins       BIGINT NOT NULL DEFAULT 0,
    locked              BOOLEAN NOT NULL DEFAULT FALSE,
    totp_secret         TEXT,                           -- base32, RFC 4648, no padding
    totp_last_step      BIGINT,
    first_login_at      BIGINT,
    password_changed_at BIGINT,
    totp_pending_secret TEXT,
    UNIQUE (organization_id, username)
);

CREATE TABLE flows (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    state               TEXT NOT NULL,
    username            TEXT,
    member_id           TEXT REFERENCES members(id) ON DELETE CASCADE, -- NULL: unknown username
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    code_hash           TEXT,                  -- SHA-256 of flow id and code; NULL: no live code
    code_expires_at     BIGINT,
    code_attempts_left  BIGINT,
    codes_sent          BIGINT NOT NULL DEFAULT 0,
    resend_available_at BIGINT,
    version             BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX flows_member ON flows(member_id);
CREATE INDEX flows_organization_username ON flows(organization_id, username);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                -- SHA-256 of the cookie value
    member_id  TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_member ON sessions(member_id);

CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,                    -- SHA-256 of member id and code
    used_at   BIGINT,
    PRIMARY KEY (member_id, code_hash)
);

CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,              -- "ip:…" or "member:<organization>:<username>"
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);

CREATE TABLE code_sends (
    organization_id TEXT NOT NULL,
    username        TEXT NOT NULL,
    sent            BIGINT NOT NULL,
    last_sent_at    BIGINT NOT NULL,
    available_at    BIGINT NOT NULL,
    PRIMARY KEY (organization_id, username)
);
