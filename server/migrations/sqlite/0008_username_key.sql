-- Usernames match case-insensitively within an Organization: each member has the lower-case
-- form of their username as its key, unique per Organization ("Sam" and "sam" are one member).
-- The username itself keeps the case it was created with, for display.
ALTER TABLE members ADD COLUMN username_key TEXT;
UPDATE members SET username_key = lower(username);
CREATE UNIQUE INDEX members_username_key ON members(organization_id, username_key);
