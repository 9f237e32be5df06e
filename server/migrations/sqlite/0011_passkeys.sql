-- Passkeys (WebAuthn): a member's credentials, each with the library's record of it (public
-- key, sign counter, backup state) as JSON, the credential ID (base64url, unique across all
-- Organizations: a discoverable sign-in finds the passkey by it), and the member's name for it.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY NOT NULL,
    member_id       TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    credential      TEXT NOT NULL,
    synced          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_by_member ON passkeys (member_id, created_at);

-- A session's registration challenge, single-use, until it expires.
CREATE TABLE passkey_registrations (
    session_hash TEXT PRIMARY KEY NOT NULL,
    member_id    TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
);

-- A login flow's passkey challenge (the ceremony's state as JSON), used up by the answer.
ALTER TABLE flows ADD COLUMN passkey_challenge TEXT;
