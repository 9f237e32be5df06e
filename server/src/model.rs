//! What the login rules read about an Organization and a member: records the store fills and
//! the core (`login/flow.rs`, `requirements.rs`) decides on, without knowing where they are kept.

use member_login_api::Organization;

/// An Organization with the settings only the server sees.
#[derive(Debug, Clone)]
pub struct OrganizationRecord {
    pub public: Organization,
    pub max_failed_logins: i64,
    pub session_seconds: i64,
    pub enforce_mfa: bool,
    pub enforce_password_renewal: bool,
    pub grace_period_seconds: i64,
    pub lock_until_unlocked: bool,
}

/// A member as the login checks need them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRecord {
    pub id: String,
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
    /// Failed logins since the last login or lock.
    pub failed_logins: i64,
    /// Locked until an administrator unlocks.
    pub locked: bool,
    /// Locked after failed logins, until then.
    pub locked_until: Option<i64>,
    /// Locks after failed logins since the last login: each lock lasts twice the one before.
    pub lockouts: i64,
    /// Base32 authenticator secret, when the member has enabled MFA.
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub first_login_at: Option<i64>,
    pub password_changed_at: Option<i64>,
    /// When the Organization's MFA requirement first applied to the member: its grace period
    /// counts from then.
    pub mfa_required_since: Option<i64>,
    /// The same for the password-renewal requirement.
    pub password_renewal_required_since: Option<i64>,
    /// How many passkeys the member has.
    pub passkeys: i64,
}

impl MemberRecord {
    /// Whether a login must be refused now: locked by an administrator (or an overdue
    /// requirement), or for a while after failed logins.
    pub fn locked_at(&self, now: i64) -> bool {
        self.locked || self.locked_until.is_some_and(|until| until > now)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use member_login_api::LoginMethod;

    /// An Organization with nothing enforced, for unit tests.
    pub fn organization() -> OrganizationRecord {
        OrganizationRecord {
            public: Organization {
                id: "o".into(),
                alias: "acme".into(),
                name: "Acme".into(),
                login_methods: vec![LoginMethod::EmailCode, LoginMethod::Password],
                logo_url: None,
                accent_color: None,
                return_urls: vec![],
                console_url: None,
            },
            max_failed_logins: 5,
            session_seconds: 3600,
            enforce_mfa: false,
            enforce_password_renewal: false,
            grace_period_seconds: 3 * 86400,
            lock_until_unlocked: false,
        }
    }

    /// A member who never logged in, for unit tests.
    pub fn member() -> MemberRecord {
        MemberRecord {
            id: "m".into(),
            organization_id: "o".into(),
            username: "kim".into(),
            email: "kim@acme.example".into(),
            password_hash: None,
            failed_logins: 0,
            locked: false,
            locked_until: None,
            lockouts: 0,
            totp_secret: None,
            totp_last_step: None,
            first_login_at: None,
            password_changed_at: None,
            mfa_required_since: None,
            password_renewal_required_since: None,
            passkeys: 0,
        }
    }
}
