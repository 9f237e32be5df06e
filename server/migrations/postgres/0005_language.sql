-- As SQLite's 0010_language.sql: the language of a flow's emails ('en', 'fr'), and of a
-- session's, taken from the flow that opened it. Rows from before are English.
ALTER TABLE flows ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE sessions ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
