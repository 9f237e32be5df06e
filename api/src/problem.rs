//! Errors as `application/problem+json` (RFC 9457) with a stable machine `code`. The app maps
//! each code to a message of its own and never shows the server's text.

use serde::{Deserialize, Serialize};

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
    /// The request was malformed (bad JSON, wrong types, too large).
    BadRequest,
    /// Something failed on the server; trying again later may work.
    Internal,
    /// A code this app version does not know yet.
    #[serde(other)]
    Unknown,
}

impl ProblemCode {
    /// The HTTP status the server answers with for this code.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidOrganization | Self::BadRequest => 400,
            Self::OrganizationNotFound | Self::NotFound => 404,
            Self::Internal | Self::Unknown => 500,
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
