-- What an Organization enforces after a member's first login, and the grace period to comply.
ALTER TABLE organizations ADD COLUMN enforce_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN enforce_password_renewal INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN grace_period_seconds INTEGER NOT NULL DEFAULT 259200; -- 3 days

-- The grace period counts from the first login (NULL: not logged in yet, or reset by an
-- administrator's unlock). password_changed_at: when the member last chose their own password.
ALTER TABLE members ADD COLUMN first_login_at INTEGER;
ALTER TABLE members ADD COLUMN password_changed_at INTEGER;
