//! Passkeys (WebAuthn): a login method, and a second factor that meets the Organization's MFA
//! requirement. The ceremonies' options and the browser's answers travel as WebAuthn Level 3's
//! JSON forms (binary fields as unpadded base64url); the server checks them with a WebAuthn
//! library, and this crate names only what the app reads itself.
//!
//! Account (a session; adding and removing need a recent login, like a password change):
//! - `POST {PASSKEYS_PATH}/options` answers `{"publicKey": PublicKeyCredentialCreationOptionsJSON}`
//!   for `navigator.credentials.create`: a discoverable credential, user verification required,
//!   the member's passkeys excluded. It replaces any earlier registration challenge of the
//!   session; each challenge is single-use and expires after [`CHALLENGE_SECONDS`].
//! - `POST {PASSKEYS_PATH}` with `{"name": "...", "credential": RegistrationResponseJSON}`
//!   adds it: 201 and the [`Passkey`]. The member is emailed. A member with [`MAX_PASSKEYS`]
//!   gets 409 [`crate::ProblemCode::TooManyPasskeys`] from both calls.
//! - `GET {PASSKEYS_PATH}` answers [`Passkeys`].
//! - `PATCH {PASSKEYS_PATH}/{id}` with [`RenamePasskey`] answers the renamed [`Passkey`].
//! - `DELETE {PASSKEYS_PATH}/{id}`: 204; the member is emailed.
//!
//! Login (a flow of an Organization that enables [`crate::LoginMethod::Passkey`]):
//! - `POST {FLOWS_PATH}/{id}/passkey/options` answers
//!   `{"publicKey": PublicKeyCredentialRequestOptionsJSON}` for `navigator.credentials.get`.
//!   Before a password or code (states `username`, `choose_method`, `email_code`): a
//!   discoverable sign-in, no `allowCredentials`, no username needed. At `second_factor`: the
//!   flow's member's passkeys. Each call replaces the flow's earlier challenge.
//! - `POST {FLOWS_PATH}/{id}/passkey` with `{"credential": AuthenticationResponseJSON}` checks
//!   it against the flow's challenge (used up either way) and answers the [`crate::flow::Flow`],
//!   `complete` with the session cookie set. A passkey is a whole login: it needs no second
//!   factor. Refusals: [`crate::ProblemCode::PasskeyNotRecognized`],
//!   [`crate::ProblemCode::PasskeyOfAnotherOrganization`],
//!   [`crate::ProblemCode::PasskeyRefused`], and `account_locked` as for any credential.

use serde::{Deserialize, Serialize};

use crate::flow::UnixTime;

/// The member's passkeys: list, add, rename, remove.
pub const PASSKEYS_PATH: &str = "/api/v1/session/passkeys";

/// How long a registration or login challenge may be answered.
pub const CHALLENGE_SECONDS: i64 = 300;

/// The most passkeys a member may have: each is listed in every registration's
/// `excludeCredentials` and second-factor `allowCredentials`, so their number is bounded.
pub const MAX_PASSKEYS: usize = 20;

/// The longest passkey name, in characters.
pub const PASSKEY_NAME_MAX_CHARS: usize = 64;

/// One of the member's passkeys, as their list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkey {
    /// The server's id of this passkey (not the credential id).
    pub id: String,
    /// What the member called it ("Work laptop").
    pub name: String,
    pub created_at: UnixTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<UnixTime>,
    /// Backed up or synced by its provider (the authenticator's backup state flag), so that it
    /// survives losing this one device.
    #[serde(default)]
    pub synced: bool,
}

/// `GET {PASSKEYS_PATH}`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkeys {
    pub passkeys: Vec<Passkey>,
}

/// `PATCH {PASSKEYS_PATH}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenamePasskey {
    pub name: String,
}

/// Passkey names: 1–64 characters once surrounding spaces are trimmed, none of them control
/// or invisible format characters (the same rule as usernames).
pub fn normalize_passkey_name(input: &str) -> Option<String> {
    crate::flow::normalize_username(input)
        .filter(|name| name.chars().count() <= PASSKEY_NAME_MAX_CHARS)
}

/// The path of one of the member's passkeys.
pub fn passkey_path(id: &str) -> String {
    format!("{PASSKEYS_PATH}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkey_names_are_trimmed_bounded_and_visible() {
        assert_eq!(
            normalize_passkey_name("  Work laptop ").as_deref(),
            Some("Work laptop")
        );
        assert_eq!(normalize_passkey_name("   "), None);
        assert_eq!(normalize_passkey_name("a\u{202E}b"), None);
        assert!(normalize_passkey_name(&"é".repeat(64)).is_some());
        assert_eq!(normalize_passkey_name(&"é".repeat(65)), None);
    }

    #[test]
    fn a_passkey_from_an_older_server_is_not_synced() {
        let passkey: Passkey =
            serde_json::from_str(r#"{"id":"p1","name":"Phone","created_at":5}"#).unwrap();
        assert!(!passkey.synced);
        assert_eq!(passkey.last_used_at, None);
    }
}
