//! The one SQLite database: opened (and created on first start), migrated, and queried here only.

use std::path::Path;
use std::str::FromStr;

use member_login_api::{LoginMethod, Organization, OrganizationKey};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// An Organization to create.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub id: String,
    pub alias: String,
    pub name: String,
    pub login_methods: Vec<LoginMethod>,
    /// Consecutive failed logins that lock a member.
    pub max_failed_logins: i64,
    /// How long a session lasts.
    pub session_seconds: i64,
    pub security: SecuritySettings,
}

/// What an Organization enforces after a member's first login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecuritySettings {
    pub enforce_mfa: bool,
    pub enforce_password_renewal: bool,
    /// Time to comply, from the first login.
    pub grace_period_seconds: i64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            enforce_mfa: false,
            enforce_password_renewal: false,
            grace_period_seconds: 3 * 86400,
        }
    }
}

/// A change of an Organization's settings: `None` keeps a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub login_methods: Option<Vec<LoginMethod>>,
    pub max_failed_logins: Option<i64>,
    pub session_seconds: Option<i64>,
    pub enforce_mfa: Option<bool>,
    pub enforce_password_renewal: Option<bool>,
    pub grace_period_seconds: Option<i64>,
}

/// A member to create.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
}

impl Db {
    /// Opens the database file at `path`, creating it and its folder on first start, and applies
    /// any migration it lacks.
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL is durable across application crashes and skips an fsync per
            // commit; it also keeps a write from taking visibly longer than a read, which
            // would tell a known username (whose failure count is written) from an unknown one.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn find_organization(
        &self,
        key: &OrganizationKey,
    ) -> Result<Option<Organization>, sqlx::Error> {
        let column = match key {
            OrganizationKey::Id(_) => "id",
            OrganizationKey::Alias(_) => "alias",
        };
        let row: Option<(String, String, String, String)> = sqlx::query_as(&format!(
            "SELECT id, alias, name, login_methods FROM organizations WHERE {column} = ?"
        ))
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, alias, name, methods)| Organization {
            id,
            alias,
            name,
            login_methods: decode_methods(&methods),
        }))
    }

    pub async fn list_organizations(&self) -> Result<Vec<Organization>, sqlx::Error> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, alias, name, login_methods FROM organizations ORDER BY alias",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, alias, name, methods)| Organization {
                id,
                alias,
                name,
                login_methods: decode_methods(&methods),
            })
            .collect())
    }

    /// Creates the Organization, or leaves an existing one with the same ID as it is.
    /// Returns whether it was created.
    pub async fn ensure_organization(&self, org: &NewOrganization) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO organizations
                 (id, alias, name, login_methods, max_failed_logins, session_seconds,
                  enforce_mfa, enforce_password_renewal, grace_period_seconds)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&org.id)
        .bind(&org.alias)
        .bind(&org.name)
        .bind(encode_methods(&org.login_methods))
        .bind(org.max_failed_logins)
        .bind(org.session_seconds)
        .bind(org.security.enforce_mfa)
        .bind(org.security.enforce_password_renewal)
        .bind(org.security.grace_period_seconds)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates the member, or leaves an existing one with the same username as it is.
    /// Returns whether it was created.
    pub async fn ensure_member(&self, member: &NewMember) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO members (id, organization_id, username, email, password_hash)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (organization_id, username) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&member.organization_id)
        .bind(&member.username)
        .bind(&member.email)
        .bind(&member.password_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn encode_methods(methods: &[LoginMethod]) -> String {
    methods
        .iter()
        .map(|m| match m {
            LoginMethod::EmailCode => "email_code",
            LoginMethod::Password => "password",
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_methods(text: &str) -> Vec<LoginMethod> {
    text.split(',')
        .filter_map(|m| match m {
            "email_code" => Some(LoginMethod::EmailCode),
            "password" => Some(LoginMethod::Password),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_methods_survive_the_column_encoding_in_order() {
        for methods in [
            vec![],
            vec![LoginMethod::Password],
            vec![LoginMethod::EmailCode, LoginMethod::Password],
            vec![LoginMethod::Password, LoginMethod::EmailCode],
        ] {
            assert_eq!(decode_methods(&encode_methods(&methods)), methods);
        }
    }
}

/// An Organization with the settings only the server sees.
#[derive(Debug, Clone)]
pub struct OrganizationRecord {
    pub public: Organization,
    pub max_failed_logins: i64,
    pub session_seconds: i64,
    pub enforce_mfa: bool,
    pub enforce_password_renewal: bool,
    pub grace_period_seconds: i64,
}

/// A member as the login checks need them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRecord {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked: bool,
    /// Base32 authenticator secret, when the member has enabled MFA.
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    /// When the grace period for the Organization's requirements started.
    pub first_login_at: Option<i64>,
    pub password_changed_at: Option<i64>,
}

/// A login flow as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlowRecord {
    pub id: String,
    pub organization_id: String,
    pub state: String,
    pub username: Option<String>,
    pub member_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub code_attempts_left: Option<i64>,
    pub codes_sent: i64,
    pub resend_available_at: Option<i64>,
}

/// An email kept in the outbox.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StoredEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}

const MEMBER_COLUMNS: &str = "id, organization_id, username, email, password_hash, \
     failed_logins, locked, totp_secret, totp_last_step, first_login_at, password_changed_at";

impl Db {
    /// The pool, for tests that need to set up a case no API call can (an expired code, say).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn organization_record(
        &self,
        id: &str,
    ) -> Result<Option<OrganizationRecord>, sqlx::Error> {
        let Some(public) = self
            .find_organization(&OrganizationKey::Id(id.to_owned()))
            .await?
        else {
            return Ok(None);
        };
        let (
            max_failed_logins,
            session_seconds,
            enforce_mfa,
            enforce_password_renewal,
            grace_period_seconds,
        ): (i64, i64, bool, bool, i64) = sqlx::query_as(
            "SELECT max_failed_logins, session_seconds, enforce_mfa, enforce_password_renewal,
                    grace_period_seconds
             FROM organizations WHERE id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(OrganizationRecord {
            public,
            max_failed_logins,
            session_seconds,
            enforce_mfa,
            enforce_password_renewal,
            grace_period_seconds,
        }))
    }

    pub async fn member_by_username(
        &self,
        organization_id: &str,
        username: &str,
    ) -> Result<Option<MemberRecord>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE organization_id = ? AND username = ?"
        ))
        .bind(organization_id)
        .bind(username)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn member(&self, id: &str) -> Result<Option<MemberRecord>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Counts one failed login; locks the member when the count reaches `limit`.
    pub async fn record_failed_login(
        &self,
        member_id: &str,
        limit: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE members SET failed_logins = failed_logins + 1,
                    locked = CASE WHEN failed_logins + 1 >= ? THEN 1 ELSE locked END
             WHERE id = ?",
        )
        .bind(limit)
        .bind(member_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A completed login: the failure count starts again, and the first one starts the grace
    /// period.
    pub async fn record_login(&self, member_id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE members SET failed_logins = 0, first_login_at = COALESCE(first_login_at, ?)
             WHERE id = ?",
        )
        .bind(now)
        .bind(member_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Locks a member whose grace period ran out.
    pub async fn lock_member(&self, member_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE members SET locked = 1 WHERE id = ?")
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Changes an Organization's settings; `None` leaves one as it is.
    pub async fn update_organization_settings(
        &self,
        id: &str,
        change: &SettingsChange,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE organizations SET
                 login_methods = COALESCE(?, login_methods),
                 max_failed_logins = COALESCE(?, max_failed_logins),
                 session_seconds = COALESCE(?, session_seconds),
                 enforce_mfa = COALESCE(?, enforce_mfa),
                 enforce_password_renewal = COALESCE(?, enforce_password_renewal),
                 grace_period_seconds = COALESCE(?, grace_period_seconds)
             WHERE id = ?",
        )
        .bind(change.login_methods.as_deref().map(encode_methods))
        .bind(change.max_failed_logins)
        .bind(change.session_seconds)
        .bind(change.enforce_mfa)
        .bind(change.enforce_password_renewal)
        .bind(change.grace_period_seconds)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Locks or unlocks a member by username. Unlocking also clears the failure count and
    /// restarts the grace period at the next login. Returns whether such a member exists.
    pub async fn set_member_locked(
        &self,
        organization_id: &str,
        username: &str,
        locked: bool,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE members SET locked = ?1,
                    failed_logins = CASE WHEN ?1 THEN failed_logins ELSE 0 END,
                    first_login_at = CASE WHEN ?1 THEN first_login_at ELSE NULL END
             WHERE organization_id = ?2 AND username = ?3",
        )
        .bind(locked)
        .bind(organization_id)
        .bind(username)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn list_members(
        &self,
        organization_id: &str,
    ) -> Result<Vec<MemberRecord>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE organization_id = ? ORDER BY username"
        ))
        .bind(organization_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The member's new password, chosen by themself: it meets the password-renewal
    /// requirement.
    pub async fn set_password(
        &self,
        member_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE members SET password_hash = ?, password_changed_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now)
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of the member but the one with `keep_hash`.
    pub async fn end_other_sessions(
        &self,
        member_id: &str,
        keep_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE member_id = ? AND token_hash != ?")
            .bind(member_id)
            .bind(keep_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_totp_pending(&self, member_id: &str, secret: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE members SET totp_pending_secret = ? WHERE id = ?")
            .bind(secret)
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn totp_pending(&self, member_id: &str) -> Result<Option<String>, sqlx::Error> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT totp_pending_secret FROM members WHERE id = ?")
                .bind(member_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(secret,)| secret))
    }

    /// Makes the pending secret the member's authenticator (with `step` already used) and
    /// replaces their recovery codes with these hashes, all at once.
    pub async fn activate_totp(
        &self,
        member_id: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE members SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
                    totp_last_step = ? WHERE id = ?",
        )
        .bind(step)
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE member_id = ?")
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (member_id, code_hash) VALUES (?, ?)")
                .bind(member_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Records `step` as the member's last used authenticator step, only if it is later than
    /// the last one: of two requests with the same code, only one succeeds.
    pub async fn claim_totp_step(&self, member_id: &str, step: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE members SET totp_last_step = ?
             WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        )
        .bind(step)
        .bind(member_id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up the recovery code with this hash, if the member has it unused.
    pub async fn use_recovery_code(
        &self,
        member_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = ?
             WHERE member_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(member_id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_flow(&self, flow: &FlowRecord) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO flows (id, organization_id, state, username, member_id, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&flow.id)
        .bind(&flow.organization_id)
        .bind(&flow.state)
        .bind(&flow.username)
        .bind(&flow.member_id)
        .bind(flow.created_at)
        .bind(flow.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn flow(&self, id: &str) -> Result<Option<FlowRecord>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM flows WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Writes every mutable column of the flow back.
    pub async fn update_flow(&self, flow: &FlowRecord) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE flows SET state = ?, username = ?, member_id = ?, code_hash = ?,
                    code_expires_at = ?, code_attempts_left = ?, codes_sent = ?,
                    resend_available_at = ?
             WHERE id = ?",
        )
        .bind(&flow.state)
        .bind(&flow.username)
        .bind(&flow.member_id)
        .bind(&flow.code_hash)
        .bind(flow.code_expires_at)
        .bind(flow.code_attempts_left)
        .bind(flow.codes_sent)
        .bind(flow.resend_available_at)
        .bind(&flow.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Only the newest code is valid: forgets the codes of the other flows for the same
    /// Organization and username. Keyed by the username, not the member, so that the same
    /// happens whether or not a member has it.
    pub async fn forget_other_codes(
        &self,
        organization_id: &str,
        username: &str,
        keep_flow: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE flows SET code_hash = NULL, code_expires_at = NULL, code_attempts_left = NULL
             WHERE organization_id = ? AND username = ? AND id != ?",
        )
        .bind(organization_id)
        .bind(username)
        .bind(keep_flow)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The codes sent, and when the next may be, over the flows for this Organization and
    /// username started since `since`: the resend cooldown holds across flows.
    pub async fn code_history(
        &self,
        organization_id: &str,
        username: &str,
        since: i64,
    ) -> Result<(i64, i64), sqlx::Error> {
        let (sent, available): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT MAX(codes_sent), MAX(resend_available_at) FROM flows
             WHERE organization_id = ? AND username = ? AND created_at >= ?",
        )
        .bind(organization_id)
        .bind(username)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((sent.unwrap_or(0), available.unwrap_or(0)))
    }

    /// Uses one try of the flow's code, if that code is still the live one and has tries left;
    /// the last try forgets the code. Returns the tries left, or `None` when the code was gone.
    /// One statement, so parallel guesses cannot share a try.
    pub async fn take_code_try(
        &self,
        flow_id: &str,
        code_hash: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE flows SET code_attempts_left = code_attempts_left - 1,
                    code_hash = CASE WHEN code_attempts_left <= 1 THEN NULL ELSE code_hash END
             WHERE id = ? AND code_hash = ? AND code_attempts_left > 0
             RETURNING code_attempts_left",
        )
        .bind(flow_id)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(left,)| left))
    }

    /// Uses up the flow's code if it is still the live one. Of two requests with the same
    /// right code, only one gets `true`.
    pub async fn consume_code(&self, flow_id: &str, code_hash: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE flows SET code_hash = NULL, code_expires_at = NULL, code_attempts_left = NULL
             WHERE id = ? AND code_hash = ?",
        )
        .bind(flow_id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether the member has this recovery code unused (it is not used up here).
    pub async fn has_recovery_code(
        &self,
        member_id: &str,
        code_hash: &str,
    ) -> Result<bool, sqlx::Error> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM recovery_codes WHERE member_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(member_id)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        member_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO sessions (token_hash, member_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(member_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The member and expiry of a live session.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT member_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn store_email(
        &self,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO outbox (recipient, subject, body, created_at) VALUES (?, ?, ?, strftime('%s','now'))")
            .bind(to)
            .bind(subject)
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The outbox, newest first, optionally for one recipient.
    pub async fn emails(&self, to: Option<&str>) -> Result<Vec<StoredEmail>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM outbox WHERE ?1 IS NULL OR recipient = ?1 ORDER BY id DESC LIMIT 100",
        )
        .bind(to)
        .fetch_all(&self.pool)
        .await
    }
}
