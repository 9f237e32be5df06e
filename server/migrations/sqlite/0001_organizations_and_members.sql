-- Organizations and their members: what a login needs to find and check.
CREATE TABLE organizations (
    id            TEXT PRIMARY KEY NOT NULL,          -- lower-case UUID
    alias         TEXT NOT NULL UNIQUE,               -- 2–32 letters a–z
    name          TEXT NOT NULL,
    login_methods TEXT NOT NULL,                      -- comma-separated: email_code,password
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE members (
    id              TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    username        TEXT NOT NULL,
    email           TEXT NOT NULL,
    password_hash   TEXT,                             -- Argon2id PHC string; NULL: no password set
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (organization_id, username)
);
