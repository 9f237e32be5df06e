-- A member's second factor: an authenticator (TOTP) secret, the last time step used (a code is
-- never accepted twice), and single-use recovery codes stored hashed.
ALTER TABLE members ADD COLUMN totp_secret TEXT;        -- base32, RFC 4648, no padding
ALTER TABLE members ADD COLUMN totp_last_step INTEGER;

CREATE TABLE recovery_codes (
    member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,                            -- SHA-256 of member id and code
    used_at   INTEGER,
    PRIMARY KEY (member_id, code_hash)
);
