-- What several servers on one database must share lives here, not in a process's memory:
-- rate-limit counters, the per-member cooldown between code emails, and a version on each
-- flow, so that of two servers changing one flow at once only one write lands (the other
-- reads the flow again and redoes its step).
ALTER TABLE flows ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX flows_organization_username ON flows(organization_id, username);

CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY NOT NULL,     -- "ip:…" or "member:<organization>:<username>"
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);

CREATE TABLE code_sends (
    organization_id TEXT NOT NULL,
    username        TEXT NOT NULL,              -- kept for unknown usernames too
    sent            INTEGER NOT NULL,           -- codes in the current run (an hour without one ends it)
    last_sent_at    INTEGER NOT NULL,
    available_at    INTEGER NOT NULL,           -- when the next code may be sent
    PRIMARY KEY (organization_id, username)
);
