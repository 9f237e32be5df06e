-- As SQLite's 0007_hardening.sql: temporary locks, grace periods per requirement, an expired
-- flow's one replacement, an outbox sent by a background worker with retries, indexes for the
-- clean-up and per-member queries, and the readiness check's row.
ALTER TABLE organizations ADD COLUMN lock_until_unlocked BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE members ADD COLUMN locked_until BIGINT;
ALTER TABLE members ADD COLUMN lockouts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN mfa_required_since BIGINT;
ALTER TABLE members ADD COLUMN password_renewal_required_since BIGINT;

ALTER TABLE flows ADD COLUMN replaced_by TEXT;
CREATE INDEX flows_expires_at ON flows(expires_at);

CREATE INDEX sessions_expires_at ON sessions(expires_at);

ALTER TABLE outbox ADD COLUMN sent_at BIGINT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
UPDATE outbox SET sent_at = created_at;
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_recipient ON outbox(recipient, id);
CREATE INDEX outbox_created_at ON outbox(created_at);

CREATE INDEX rate_limits_window_start ON rate_limits(window_start);
CREATE INDEX code_sends_last_sent_at ON code_sends(last_sent_at);

CREATE TABLE health (
    id         BIGINT PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
