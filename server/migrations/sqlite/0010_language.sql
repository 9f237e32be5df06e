-- The language the member is using ('en', 'fr'), for the emails the server writes: a flow's,
-- named by the app when it starts the flow and kept by its replacement, and a session's, taken
-- from the flow that opened it, for the emails about changes to the account. Rows from before
-- are English, the language every email was written in.
ALTER TABLE flows ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE sessions ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
