-- An authenticator secret being set up: active (moved to totp_secret) once a code from it
-- has been verified.
ALTER TABLE members ADD COLUMN totp_pending_secret TEXT;
