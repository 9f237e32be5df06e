//! Where the server keeps everything, behind traits: Organizations, members, flows, sessions,
//! the mail outbox, rate-limit counters and the authenticator replay guard. Two
//! implementations: SQLite (one file, the embedded default) and PostgreSQL (for several
//! replicas). Both run the same SQL (`sql.rs`) and pass the same conformance suite
//! (`server/tests/store_conformance.rs`).
//!
//! Nothing that matters across replicas lives in a process's memory, and every change that
//! parallel requests could race on is one atomic statement or a compare-and-swap on a version.

mod postgres;
mod sql;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use member_login_api::{LoginMethod, Organization, OrganizationKey};

pub use self::postgres::PostgresStore;
pub use self::sqlite::SqliteStore;
use crate::error::{Error, Result};
use crate::login::flow::Flow;
use crate::mail_text::Language;
pub use crate::model::{MemberRecord, OrganizationRecord};

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
    pub public: PublicSettings,
}

/// What an Organization shows on its login pages and where its members go after logging in,
/// all of it in the public `Organization` answer. Values are in the normal form of the
/// contract's normalisers (`member_login_api::branding`, `member_login_api::handoff`): the
/// admin CLI checks them; the store keeps what it is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicSettings {
    /// An absolute `https://` URL of the logo.
    pub logo_url: Option<String>,
    /// `#rrggbb`, lower case.
    pub accent_color: Option<String>,
    /// Allowed `return_to` prefixes, each an absolute URL whose path ends in `/`.
    pub return_urls: Vec<String>,
    /// Where members go after logging in when there is no allowed `return_to`.
    pub console_url: Option<String>,
}

/// What an Organization enforces after a member's first login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecuritySettings {
    pub enforce_mfa: bool,
    pub enforce_password_renewal: bool,
    /// Time to comply, from when a requirement first applies to the member.
    pub grace_period_seconds: i64,
    /// Failed logins lock until an administrator unlocks, instead of for a while.
    pub lock_until_unlocked: bool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            enforce_mfa: false,
            enforce_password_renewal: false,
            grace_period_seconds: 3 * 86400,
            lock_until_unlocked: false,
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
    pub lock_until_unlocked: Option<bool>,
    /// `Some(None)` removes the logo.
    pub logo_url: Option<Option<String>>,
    /// `Some(None)` removes the accent colour.
    pub accent_color: Option<Option<String>>,
    /// Replaces the whole list; `Some(vec![])` empties it.
    pub return_urls: Option<Vec<String>>,
    /// `Some(None)` removes the console URL.
    pub console_url: Option<Option<String>>,
}

/// A member to create.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
}

/// An email kept in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct StoredEmail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    /// When it went out; `None` while still to send.
    pub sent_at: Option<i64>,
    /// Tries so far.
    pub attempts: i64,
}

/// A live session: whose, since when, until when, and in which language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub member_id: String,
    /// When the member logged in to open it: a recent login proves the member for sensitive
    /// changes.
    pub created_at: i64,
    pub expires_at: i64,
    /// The language of the login flow that opened it: emails about the account's changes are
    /// written in it.
    pub language: Language,
}

/// A member's failed logins after counting one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct FailedLogins {
    pub failed_logins: i64,
    pub lockouts: i64,
}

/// What the periodic clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub flows: u64,
    pub sessions: u64,
    pub emails: u64,
    pub counters: u64,
}

/// The codes emailed for one Organization and username in the current run, across all its
/// flows: the resend cooldown is per member, not per flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeSends {
    pub sent: i64,
    pub last_sent_at: i64,
    /// When the next code may be sent.
    pub available_at: i64,
}

/// One request counted against a rate limit: how many in the current window, and when it
/// started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub hits: i64,
    pub window_start: i64,
}

#[async_trait]
pub trait Organizations {
    async fn find_organization(&self, key: &OrganizationKey) -> Result<Option<Organization>>;
    async fn list_organizations(&self) -> Result<Vec<Organization>>;
    async fn organization_record(&self, id: &str) -> Result<Option<OrganizationRecord>>;
    /// Creates the Organization, or leaves an existing one with the same ID (or alias) as it
    /// is, also when another process creates it at the same moment (replicas seeding the demo
    /// together). Returns whether it was created.
    async fn ensure_organization(&self, org: &NewOrganization) -> Result<bool>;
    /// Changes an Organization's settings; `None` leaves one as it is.
    async fn update_organization_settings(&self, id: &str, change: &SettingsChange) -> Result<()>;
}

#[async_trait]
pub trait Members {
    async fn member(&self, id: &str) -> Result<Option<MemberRecord>>;
    async fn member_by_username(
        &self,
        organization_id: &str,
        username: &str,
    ) -> Result<Option<MemberRecord>>;
    /// The ID of the member with this username, if any. One row of one column answers either
    /// way, so a known and an unknown username cost the same.
    async fn member_id_by_username(
        &self,
        organization_id: &str,
        username: &str,
    ) -> Result<Option<String>>;
    async fn list_members(&self, organization_id: &str) -> Result<Vec<MemberRecord>>;
    /// Creates the member, or leaves an existing one with the same username as it is.
    /// Returns whether it was created.
    async fn ensure_member(&self, member: &NewMember) -> Result<bool>;
    /// Counts one failed login, in one statement, and answers the counts. For an unknown
    /// member ID it matches no row (and does the same work).
    async fn count_failed_login(&self, member_id: &str) -> Result<Option<FailedLogins>>;
    /// Locks the member if they have `limit` failed logins or more: until `until`, or, with
    /// `None`, until an administrator unlocks. Starts the failure count again and counts the
    /// lock. Of parallel requests only one locks (`true`).
    async fn lock_after_failures(
        &self,
        member_id: &str,
        limit: i64,
        until: Option<i64>,
    ) -> Result<bool>;
    /// A completed login: failures and locks start again; the first login is kept.
    async fn record_login(&self, member_id: &str, now: i64) -> Result<()>;
    /// Starts the grace period of each requirement that applies (`mfa`, `renewal`) and has not
    /// started yet.
    async fn start_requirements(
        &self,
        member_id: &str,
        now: i64,
        mfa: bool,
        renewal: bool,
    ) -> Result<()>;
    /// Locks a member whose grace period ran out.
    async fn lock_member(&self, member_id: &str) -> Result<()>;
    /// Locks or unlocks a member by username. Unlocking also clears the failure count and any
    /// temporary lock, and restarts the grace periods at the next login. Returns whether such a
    /// member exists.
    async fn set_member_locked(
        &self,
        organization_id: &str,
        username: &str,
        locked: bool,
    ) -> Result<bool>;
    /// The member's new password, chosen by themself: it meets the password-renewal
    /// requirement.
    async fn set_password(&self, member_id: &str, hash: &str, now: i64) -> Result<()>;
    async fn set_totp_pending(&self, member_id: &str, secret: &str) -> Result<()>;
    async fn totp_pending(&self, member_id: &str) -> Result<Option<String>>;
    /// Makes the pending secret the member's authenticator (with `step` already used) and
    /// replaces their recovery codes with these hashes, all at once.
    async fn activate_totp(
        &self,
        member_id: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<()>;
    /// Whether the member has this recovery code unused (it is not used up here).
    async fn has_recovery_code(&self, member_id: &str, code_hash: &str) -> Result<bool>;
    /// Uses up the recovery code with this hash, if the member has it unused. Of two
    /// requests with the same code, only one gets `true`.
    async fn use_recovery_code(&self, member_id: &str, code_hash: &str, now: i64) -> Result<bool>;
}

#[async_trait]
pub trait Flows {
    async fn insert_flow(&self, flow: &Flow) -> Result<()>;
    async fn flow(&self, id: &str) -> Result<Option<Flow>>;
    /// Writes the flow back if nobody saved it since it was read (same `version`), and moves
    /// its version on. `false`: it changed meanwhile; read it again and redo the step.
    async fn save_flow(&self, flow: &mut Flow) -> Result<bool>;
    /// Records `replacement` as the replacement of the expired flow `expired`, if its
    /// replacement is still `previous` (compare-and-swap). `false`: another request replaced it
    /// first.
    async fn set_replacement(
        &self,
        expired: &str,
        previous: Option<&str>,
        replacement: &str,
    ) -> Result<bool>;
    async fn delete_flow(&self, id: &str) -> Result<()>;
    /// Only the newest code is valid: forgets the codes of the other flows for the same
    /// Organization and username. Keyed by the username, not the member, so that the same
    /// happens whether or not a member has it.
    async fn forget_other_codes(
        &self,
        organization_id: &str,
        username: &str,
        keep_flow: &str,
    ) -> Result<()>;
}

#[async_trait]
pub trait Sessions {
    async fn insert_session(
        &self,
        token_hash: &str,
        member_id: &str,
        now: i64,
        expires_at: i64,
        language: Language,
    ) -> Result<()>;
    /// The session with this token hash, if it is live at `now`.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Ends every session of the member but the one with `keep_hash`.
    async fn end_other_sessions(&self, member_id: &str, keep_hash: &str) -> Result<()>;
}

#[async_trait]
pub trait Outbox {
    /// Queues an email; the mail worker sends it.
    async fn enqueue_email(&self, to: &str, subject: &str, body: &str, now: i64) -> Result<()>;
    /// The oldest email due to be sent, claimed for `lease` seconds (another worker, on this
    /// replica or another, does not take it meanwhile).
    async fn claim_email(&self, now: i64, lease: i64) -> Result<Option<StoredEmail>>;
    async fn email_sent(&self, id: i64, now: i64) -> Result<()>;
    /// A failed try: the email is tried again from `retry_at`.
    async fn email_failed(&self, id: i64, retry_at: i64) -> Result<()>;
    /// The outbox, newest first (at most 100), optionally for one recipient.
    async fn emails(&self, to: Option<&str>) -> Result<Vec<StoredEmail>>;
}

#[async_trait]
pub trait RateLimits {
    /// Counts one request for `key`, in one statement: a window of `window` seconds starts
    /// with the first request after the last one ended.
    async fn hit(&self, key: &str, now: i64, window: i64) -> Result<Hit>;
    /// The codes sent to this Organization and username so far, if any.
    async fn code_sends(&self, organization_id: &str, username: &str) -> Result<Option<CodeSends>>;
    /// Records a code sent, if the record is still `expected` (compare-and-swap; `None`:
    /// there was none). `false`: another request sent one meanwhile.
    async fn replace_code_sends(
        &self,
        organization_id: &str,
        username: &str,
        expected: Option<CodeSends>,
        new: CodeSends,
    ) -> Result<bool>;
}

/// A member's passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRecord {
    /// The server's ID for it (not the credential ID).
    pub id: String,
    pub member_id: String,
    pub organization_id: String,
    /// The WebAuthn credential ID, unpadded base64url: unique across all Organizations.
    pub credential_id: String,
    pub name: String,
    /// The WebAuthn library's record of the credential (public key, sign counter, backup
    /// state), as JSON.
    pub credential: String,
    /// Backed up or synced by its provider.
    pub synced: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[async_trait]
pub trait Passkeys {
    /// Adds a passkey; `false` if its credential ID is already stored (for any member).
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<bool>;
    /// The member's passkeys, oldest first.
    async fn passkeys(&self, member_id: &str) -> Result<Vec<PasskeyRecord>>;
    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyRecord>>;
    /// Renames one of the member's passkeys; `None` if the member has none with this ID.
    async fn rename_passkey(
        &self,
        member_id: &str,
        id: &str,
        name: &str,
    ) -> Result<Option<PasskeyRecord>>;
    /// Removes one of the member's passkeys; `false` if the member has none with this ID. When
    /// it was their last second factor, the MFA requirement's grace period starts again.
    async fn delete_passkey(&self, member_id: &str, id: &str) -> Result<bool>;
    /// A login with the passkey: its updated record (sign counter, backup state) and when, in
    /// place of the record `read` before the check. `false` when it is no longer that record
    /// (removed, or used by another login since): the login must not count.
    async fn passkey_used(
        &self,
        id: &str,
        read: &str,
        credential: &str,
        synced: bool,
        now: i64,
    ) -> Result<bool>;
    /// Keeps the registration challenge of a session (replacing any earlier one) until
    /// `expires_at`.
    async fn set_passkey_registration(
        &self,
        session_hash: &str,
        member_id: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// Takes the session's registration challenge out, in one statement (of two requests only
    /// one gets it): its state, if it was the member's and has not expired.
    async fn take_passkey_registration(
        &self,
        session_hash: &str,
        member_id: &str,
        now: i64,
    ) -> Result<Option<String>>;
}

#[async_trait]
pub trait TotpReplayGuard {
    /// Records `step` as the member's last used authenticator step, only if it is later than
    /// the last one: of two requests with the same code, only one gets `true`.
    async fn claim_totp_step(&self, member_id: &str, step: i64) -> Result<bool>;
}

#[async_trait]
pub trait Maintenance {
    /// Removes what no rule needs any more at `now`: flows and sessions a day past their
    /// expiry, emails a week old (sent or given up), rate-limit counters and code cooldowns a
    /// day old, passkey registration challenges once expired.
    async fn purge(&self, now: i64) -> Result<Purged>;
    /// Writes to the database: `Ok` when it takes writes (the readiness check).
    async fn check_writable(&self, now: i64) -> Result<()>;
}

/// Everything the server keeps.
pub trait Store:
    Organizations
    + Members
    + Flows
    + Sessions
    + Outbox
    + RateLimits
    + TotpReplayGuard
    + Passkeys
    + Maintenance
    + Send
    + Sync
{
    /// Which backend this is, for logs and benchmarks: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
}

/// A shared handle to the store, as the server and the admin CLI hold it.
pub type Db = Arc<dyn Store>;

/// Opens (creating and migrating) the store a URL names: `sqlite://PATH` (also a plain path)
/// or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Db> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))
    {
        open_sqlite(Path::new(path)).await
    } else if url.contains("://") {
        Err(Error::DatabaseUrl(url.into()))
    } else {
        open_sqlite(Path::new(url)).await
    }
}

/// Opens (creating it and its folder on first start) the SQLite file at `path`.
pub async fn open_sqlite(path: &Path) -> Result<Db> {
    Ok(Arc::new(SqliteStore::open(path).await?))
}

fn encode_methods(methods: &[LoginMethod]) -> String {
    methods
        .iter()
        .map(|m| match m {
            LoginMethod::EmailCode => "email_code",
            LoginMethod::Password => "password",
            LoginMethod::Passkey => "passkey",
            LoginMethod::Unknown => "",
        })
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_methods(text: &str) -> Vec<LoginMethod> {
    text.split(',')
        .filter_map(|m| match m {
            "email_code" => Some(LoginMethod::EmailCode),
            "password" => Some(LoginMethod::Password),
            "passkey" => Some(LoginMethod::Passkey),
            _ => None,
        })
        .collect()
}

/// Return URL prefixes in one column, one a line (a prefix holds no whitespace).
fn encode_urls(urls: &[String]) -> String {
    urls.join("\n")
}

fn decode_urls(text: &str) -> Vec<String> {
    text.lines()
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_survive_the_column_encoding_in_order() {
        for urls in [
            vec![],
            vec!["https://console.example/".to_owned()],
            vec![
                "https://b.example/app/".to_owned(),
                "http://localhost:3000/".to_owned(),
            ],
        ] {
            assert_eq!(decode_urls(&encode_urls(&urls)), urls);
        }
    }

    #[test]
    fn login_methods_survive_the_column_encoding_in_order() {
        for methods in [
            vec![],
            vec![LoginMethod::Password],
            vec![LoginMethod::EmailCode, LoginMethod::Password],
            vec![LoginMethod::Password, LoginMethod::EmailCode],
            vec![
                LoginMethod::Passkey,
                LoginMethod::EmailCode,
                LoginMethod::Password,
            ],
        ] {
            assert_eq!(decode_methods(&encode_methods(&methods)), methods);
        }
    }

    #[tokio::test]
    async fn a_url_names_its_backend() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite3");
        let store = open(&format!("sqlite://{}", path.display())).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        assert!(path.is_file());
        let plain = dir.path().join("b.sqlite3");
        assert_eq!(
            open(plain.to_str().unwrap()).await.unwrap().backend(),
            "sqlite"
        );
        assert!(matches!(
            open("mysql://localhost/x").await,
            Err(Error::DatabaseUrl(_))
        ));
    }
}
