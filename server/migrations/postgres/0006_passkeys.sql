-- As SQLite's 0011_passkeys.sql: members' passkeys (the library's record as JSON, the
-- credential ID unique across Organizations), a session's registration challenge, and a login
-- flow's passkey challenge.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    member_id       TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    credential      TEXT NOT NULL,
    synced          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT
);
CREATE INDEX passkeys_by_member ON passkeys (member_id, created_at);

CREATE TABLE passkey_registrations (
    session_hash TEXT PRIMARY KEY,
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);

ALTER TABLE flows ADD COLUMN passkey_challenge TEXT;
