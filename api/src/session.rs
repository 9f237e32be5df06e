//! The session a completed login opens, as `GET /api/v1/session` answers it.

use serde::{Deserialize, Serialize};

use crate::flow::UnixTime;
use crate::Organization;

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub username: String,
    pub email: String,
}

/// A security requirement the Organization enforces that the member has not met yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    UpdatePassword,
    EnableMfa,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub kind: RequirementKind,
    /// When the grace period ends and the member is locked.
    pub deadline: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub member: Member,
    pub organization: Organization,
    pub expires_at: UnixTime,
    /// The server's clock when it answered.
    pub now: UnixTime,
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}

/// The rules a new password must meet (PRODUCT.md): 12 to 128 characters, no composition
/// rules, not a common or breached password, not containing the username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordRule {
    TooShort,
    TooLong,
    /// On the list of common and breached passwords (checked by the server only).
    Common,
    ContainsUsername,
    /// Easy to guess by a strength estimate (zxcvbn: keyboard patterns, dictionary words with
    /// substitutions, dates, repeats; checked by the server only).
    TooGuessable,
    #[serde(other)]
    Unknown,
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The rules `password` breaks that need no list: length, and the username inside it (any
/// case). The app shows these as the member types; the server checks them again, and the list.
pub fn password_rules_broken(username: &str, password: &str) -> Vec<PasswordRule> {
    let mut broken = Vec::new();
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        broken.push(PasswordRule::TooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        broken.push(PasswordRule::TooLong);
    }
    let username = username.trim().to_lowercase();
    if !username.is_empty() && password.to_lowercase().contains(&username) {
        broken.push(PasswordRule::ContainsUsername);
    }
    broken
}

/// `POST /api/v1/session/password`: the member chooses a new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub new_password: String,
}

/// `POST /api/v1/session/mfa`: a new authenticator secret, not active until verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaEnrollment {
    /// Base32 (RFC 4648, no padding), as authenticator apps take it typed in.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code carries.
    pub otpauth_uri: String,
}

/// `POST /api/v1/session/mfa/verify`: a code from the authenticator proves it was set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyMfa {
    pub code: String,
}

/// The answer to a verified enrollment: the recovery codes, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_need_no_list_for_length_and_username() {
        assert_eq!(
            password_rules_broken("alex", "short"),
            [PasswordRule::TooShort]
        );
        assert!(password_rules_broken("alex", "violet-harbor-lantern").is_empty());
        assert_eq!(
            password_rules_broken("alex", "my-name-is-ALEX-ok"),
            [PasswordRule::ContainsUsername]
        );
        assert_eq!(
            password_rules_broken("alex", &"x".repeat(129)),
            [PasswordRule::TooLong]
        );
        // Characters, not bytes: twelve accented letters are long enough.
        assert!(password_rules_broken("alex", &"é".repeat(12)).is_empty());
    }
}
