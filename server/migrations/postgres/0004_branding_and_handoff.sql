-- As SQLite's 0009_branding_and_handoff.sql: an Organization's logo and accent colour, the
-- URL prefixes a member may be sent back to after logging in (one a line), and its console URL.
ALTER TABLE organizations ADD COLUMN logo_url TEXT;
ALTER TABLE organizations ADD COLUMN accent_color TEXT;
ALTER TABLE organizations ADD COLUMN return_urls TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN console_url TEXT;
