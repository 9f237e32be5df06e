//! The login flow: one resource per login attempt. Every step is a POST on the flow and answers
//! the whole updated flow, so the app always renders from one fresh value; `GET` resumes it
//! after a reload or Back.

use serde::{Deserialize, Serialize};

use crate::Organization;

/// Seconds since the Unix epoch, UTC.
pub type UnixTime = i64;

/// The step the flow waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// The member's username.
    Username,
    /// "Send code" or "Enter password".
    ChooseMethod,
    /// A code was emailed; waiting for it (a password may still be given instead).
    EmailCode,
    /// Waiting for an authenticator or recovery code.
    SecondFactor,
    /// Logged in: the session cookie was set.
    Complete,
}

/// What the member may know about the code sent to them. Never the code itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeStatus {
    /// How many digits the code has.
    pub length: u8,
    pub expires_at: UnixTime,
    /// Wrong tries left before a new code is needed.
    pub attempts_left: u8,
    /// When "Resend email" may be used again.
    pub resend_available_at: UnixTime,
}

/// Something the app should tell the member, by stable id (the app owns the wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowMessage {
    /// "If this username is registered, we sent a code to its email address."
    CodeSent,
    /// The flow replaced an expired one; earlier answers were kept.
    FlowRestarted,
    /// A code sent earlier for this flow is still valid: no new email was sent. The flow's
    /// `code.resend_available_at` says when a new one may be asked for.
    CodeAlreadySent,
    #[serde(other)]
    Unknown,
}

/// The login flow, as every step answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub id: String,
    pub state: FlowState,
    pub expires_at: UnixTime,
    /// The server's clock when it answered, so countdowns do not depend on the device's clock.
    pub now: UnixTime,
    pub organization: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<FlowMessage>,
    /// At `second_factor`: what the member has set up to answer it, in the order to offer it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub second_factors: Vec<SecondFactorMethod>,
}

/// A way to answer the second-factor step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A passkey (`POST …/passkey/options`, then `POST …/passkey`).
    Passkey,
    /// A code from an authenticator app.
    Totp,
    /// One of the recovery codes given with the authenticator.
    RecoveryCode,
    #[serde(other)]
    Unknown,
}

/// `POST /api/v1/flows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFlow {
    /// Organization ID or alias.
    pub organization: String,
    /// Start with this username already given (a resumed or replaced flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The language the member is using (`en`, `fr`): the flow's emails are written in it.
    /// Absent or a language the server does not write: English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// `POST /api/v1/flows/{id}/username`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitUsername {
    pub username: String,
}

/// `POST /api/v1/flows/{id}/code/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCode {
    /// The code as typed or pasted; spaces and dashes are ignored.
    pub code: String,
}

/// `POST /api/v1/flows/{id}/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitPassword {
    pub password: String,
}

/// `POST /api/v1/flows/{id}/second-factor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum SubmitSecondFactor {
    /// A 6-digit code from an authenticator app.
    Totp { code: String },
    /// One of the member's single-use recovery codes.
    RecoveryCode { code: String },
}

/// Usernames: 1–64 characters, none of them control characters; surrounding spaces ignored.
pub fn normalize_username(input: &str) -> Option<String> {
    let name = input.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && !name
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c));
    ok.then(|| name.to_owned())
}

/// Unicode format characters (general category Cf): invisible, yet they change how a name
/// looks or reads — right-to-left overrides, zero-width spaces and joiners, the byte-order mark,
/// tag characters. A username never needs them, and they let one name pass for another.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// The digits of a typed or pasted code of `length` digits: spaces and dashes are dropped,
/// anything else makes it no code.
pub fn normalize_code(input: &str, length: usize) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == length && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code as typed: case, spaces and dashes do not matter; 8 to 32 letters and digits.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ((8..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_digits_and_lose_spaces_and_dashes() {
        assert_eq!(normalize_code("123456", 6).as_deref(), Some("123456"));
        assert_eq!(normalize_code(" 123-456 ", 6).as_deref(), Some("123456"));
        assert_eq!(normalize_code("1 2 3 4 5 6", 6).as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345", 6), None);
        assert_eq!(normalize_code("1234567", 6), None);
        assert_eq!(normalize_code("12345a", 6), None);
        assert_eq!(normalize_code("１２３４５６", 6), None);
    }

    #[test]
    fn usernames_are_trimmed_and_bounded() {
        assert_eq!(normalize_username("  alex ").as_deref(), Some("alex"));
        assert_eq!(normalize_username(""), None);
        assert_eq!(normalize_username("   "), None);
        assert_eq!(normalize_username("a\u{0}b"), None);
        assert!(normalize_username(&"é".repeat(64)).is_some());
        assert_eq!(normalize_username(&"é".repeat(65)), None);
    }

    #[test]
    fn usernames_with_invisible_format_characters_are_refused() {
        for name in [
            "ad\u{202E}nim", // right-to-left override
            "al\u{200B}ex",  // zero-width space
            "al\u{200D}ex",  // zero-width joiner
            "\u{FEFF}alex",  // byte-order mark
            "alex\u{E0041}", // tag letter
            "alex\u{2066}",  // left-to-right isolate
        ] {
            assert_eq!(normalize_username(name), None, "{name:?}");
        }
        assert!(normalize_username("zoë-o'brien").is_some());
    }

    #[test]
    fn recovery_codes_ignore_case_spaces_and_dashes() {
        assert_eq!(
            normalize_recovery_code(" ABCD-ef12 ").as_deref(),
            Some("abcdef12")
        );
        assert_eq!(normalize_recovery_code("abcd"), None);
        assert_eq!(normalize_recovery_code("abcd-ef1!"), None);
    }

    #[test]
    fn second_factor_is_tagged_by_method() {
        let json = serde_json::to_value(SubmitSecondFactor::RecoveryCode {
            code: "abcd-efgh".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"method": "recovery_code", "code": "abcd-efgh"})
        );
    }
}
