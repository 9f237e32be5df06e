-- As SQLite's 0008_username_key.sql: usernames match case-insensitively within an Organization.
ALTER TABLE members ADD COLUMN username_key TEXT;
UPDATE members SET username_key = lower(username);
ALTER TABLE members ALTER COLUMN username_key SET NOT NULL;
CREATE UNIQUE INDEX members_username_key ON members(organization_id, username_key);
