-- What an Organization shows on its login pages and where members go after logging in. The
-- admin CLI stores each in the normal form of the contract's normalisers (api/src/branding.rs,
-- api/src/handoff.rs); NULL or '' is unset.
ALTER TABLE organizations ADD COLUMN logo_url TEXT;                 -- absolute https:// URL
ALTER TABLE organizations ADD COLUMN accent_color TEXT;             -- #rrggbb, lower case
ALTER TABLE organizations ADD COLUMN return_urls TEXT NOT NULL DEFAULT ''; -- prefixes, one a line
ALTER TABLE organizations ADD COLUMN console_url TEXT;              -- absolute URL
