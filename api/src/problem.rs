//! Errors as `application/problem+json` (RFC 9457) with a stable machine `code`. The app maps
//! each code to a message of its own and never shows the server's text.

use serde::{Deserialize, Serialize};

use crate::flow::Flow;
use crate::session::PasswordRule;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Every error code the login API answers with. Codes are stable: new ones are added, none change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// The Organization ID or alias is not well formed.
    InvalidOrganization,
    /// No Organization has this ID or alias.
    OrganizationNotFound,
    /// No such API endpoint.
    NotFound,
    /// The endpoint exists but not with this HTTP method.
    MethodNotAllowed,
    /// The request was malformed (bad JSON, wrong types, missing fields).
    BadRequest,
    /// The request body is larger than the API accepts.
    PayloadTooLarge,
    /// The request body is not `application/json`.
    UnsupportedMediaType,
    /// No login flow has this id.
    FlowNotFound,
    /// The login flow expired; the problem carries a `replacement` flow.
    FlowExpired,
    /// The flow is not at a step where this call makes sense.
    StepNotAllowed,
    /// The Organization does not enable this login method.
    MethodNotEnabled,
    /// The username is empty, too long, or has control characters.
    InvalidUsername,
    /// The code does not have the shape of a code (wrong length, not digits).
    InvalidCodeFormat,
    /// There is no code to check: none was sent, or its tries are used up. Send a new one.
    CodeRequired,
    /// The code expired; send a new one.
    CodeExpired,
    /// The username, password or code is wrong (one answer for all, by design).
    InvalidCredentials,
    /// The member is locked: for a while after failed logins (`retry_after` says how long), or
    /// until an administrator unlocks them (no `retry_after`). Only said after a correct
    /// credential.
    AccountLocked,
    /// Too many requests; `retry_after` (and the `Retry-After` header) says when to try again.
    RateLimited,
    /// A code was emailed to this username a moment ago (for another flow): a new one may be
    /// sent after `retry_after` seconds. Not an error of the member's: a cooldown.
    ResendCooldown,
    /// A state-changing call without the custom header or from an origin not allowed.
    CsrfRejected,
    /// No valid session.
    Unauthenticated,
    /// The new password breaks rules; `rules` says which.
    PasswordRejected,
    /// A sensitive change (password, MFA) needs a recent login: log in again, then retry.
    ReauthenticationRequired,
    /// The passkey offered is not one of this Organization's members' (never added, or
    /// removed).
    PasskeyNotRecognized,
    /// The passkey offered belongs to a member of another Organization.
    PasskeyOfAnotherOrganization,
    /// The passkey's answer did not check out: no challenge (none asked for, already used or
    /// expired), another origin, a bad signature, or no user verification. Ask again.
    PasskeyRefused,
    /// The passkey name is empty, too long, or has control characters.
    InvalidPasskeyName,
    /// The member already has `passkey::MAX_PASSKEYS` passkeys: remove one to add another.
    TooManyPasskeys,
    /// Something failed on the server; trying again later may work.
    Internal,
    /// The server is too busy to answer now; `retry_after` (and the `Retry-After` header) says
    /// when to try again.
    ServiceBusy,
    /// A code this app version does not know yet.
    #[serde(other)]
    Unknown,
}

impl ProblemCode {
    /// Every code the server can answer (all but `Unknown`), for documents and tests that
    /// must list them all.
    pub const ALL: [ProblemCode; 30] = [
        Self::InvalidOrganization,
        Self::OrganizationNotFound,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::BadRequest,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::FlowNotFound,
        Self::FlowExpired,
        Self::StepNotAllowed,
        Self::MethodNotEnabled,
        Self::InvalidUsername,
        Self::InvalidCodeFormat,
        Self::CodeRequired,
        Self::CodeExpired,
        Self::InvalidCredentials,
        Self::AccountLocked,
        Self::RateLimited,
        Self::ResendCooldown,
        Self::CsrfRejected,
        Self::Unauthenticated,
        Self::PasswordRejected,
        Self::ReauthenticationRequired,
        Self::PasskeyNotRecognized,
        Self::PasskeyOfAnotherOrganization,
        Self::PasskeyRefused,
        Self::InvalidPasskeyName,
        Self::TooManyPasskeys,
        Self::Internal,
        Self::ServiceBusy,
    ];

    /// The HTTP status the server answers with for this code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidOrganization
            | Self::BadRequest
            | Self::InvalidUsername
            | Self::InvalidCodeFormat
            | Self::CodeExpired
            | Self::MethodNotEnabled
            | Self::PasswordRejected
            | Self::InvalidPasskeyName => 400,
            Self::InvalidCredentials
            | Self::Unauthenticated
            | Self::PasskeyNotRecognized
            | Self::PasskeyOfAnotherOrganization
            | Self::PasskeyRefused => 401,
            Self::AccountLocked | Self::CsrfRejected | Self::ReauthenticationRequired => 403,
            Self::OrganizationNotFound | Self::NotFound | Self::FlowNotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::StepNotAllowed | Self::CodeRequired | Self::TooManyPasskeys => 409,
            Self::FlowExpired => 410,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited | Self::ResendCooldown => 429,
            Self::Internal | Self::Unknown => 500,
            Self::ServiceBusy => 503,
        }
    }
}

/// An RFC 9457 problem document with the API's stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` when the code says it all).
    #[serde(rename = "type", default = "about_blank")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: ProblemCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// With `rate_limited`: seconds until a retry may succeed (as the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// With `invalid_credentials` on a code: wrong tries left for this code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u8>,
    /// With `password_rejected`: every rule the new password breaks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PasswordRule>,
    /// With `flow_expired`: a new flow that keeps the Organization and username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Box<Flow>>,
}

fn about_blank() -> String {
    "about:blank".into()
}

impl Problem {
    pub fn new(code: ProblemCode, title: impl Into<String>) -> Self {
        Self {
            kind: about_blank(),
            title: title.into(),
            status: code.status(),
            code,
            detail: None,
            retry_after: None,
            attempts_left: None,
            rules: Vec::new(),
            replacement: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_on_the_wire_and_unknown_ones_still_parse() {
        let p = Problem::new(ProblemCode::OrganizationNotFound, "Organization not found");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["code"], "organization_not_found");
        assert_eq!(json["status"], 404);
        assert_eq!(json["type"], "about:blank");
        let newer: Problem = serde_json::from_str(
            r#"{"type":"about:blank","title":"x","status":418,"code":"a_code_from_the_future"}"#,
        )
        .unwrap();
        assert_eq!(newer.code, ProblemCode::Unknown);
    }
}
