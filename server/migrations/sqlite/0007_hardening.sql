-- Locks that end by themselves (doubling with each lock), unless the Organization wants
-- "locked until an administrator unlocks"; grace periods that start per requirement; an
-- expired flow's one replacement; an outbox that a background worker sends from, with
-- retries; the indexes the periodic clean-up and the per-member queries need; a row that the
-- readiness check writes.
ALTER TABLE organizations ADD COLUMN lock_until_unlocked INTEGER NOT NULL DEFAULT 0;

ALTER TABLE members ADD COLUMN locked_until INTEGER;       -- a temporary lock, until then
ALTER TABLE members ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0; -- locks since the last login
ALTER TABLE members ADD COLUMN mfa_required_since INTEGER;
ALTER TABLE members ADD COLUMN password_renewal_required_since INTEGER;

ALTER TABLE flows ADD COLUMN replaced_by TEXT;             -- the replacement of an expired flow
CREATE INDEX flows_expires_at ON flows(expires_at);

CREATE INDEX sessions_expires_at ON sessions(expires_at);

ALTER TABLE outbox ADD COLUMN sent_at INTEGER;             -- NULL: still to send
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;       -- a worker is sending it until then
UPDATE outbox SET sent_at = created_at;                    -- kept mail was sent before
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_recipient ON outbox(recipient, id);
CREATE INDEX outbox_created_at ON outbox(created_at);

CREATE INDEX rate_limits_window_start ON rate_limits(window_start);
CREATE INDEX code_sends_last_sent_at ON code_sends(last_sent_at);

CREATE TABLE health (
    id         INTEGER PRIMARY KEY NOT NULL,
    checked_at INTEGER NOT NULL
);
