//! Organizations and the one rule for what a member may type to name one.

use serde::{Deserialize, Serialize};

/// A login method an Organization can enable for its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMethod {
    /// A one-time code sent to the member's email address.
    EmailCode,
    /// The member's password.
    Password,
    /// A passkey (WebAuthn), asked for after the Organization step with no username to type; it
    /// also serves as the second factor, and members may add passkeys only where it is enabled.
    Passkey,
    /// A method this app version does not know yet: not offered.
    #[serde(other)]
    Unknown,
}

/// What the login API tells anyone about an Organization: nothing more than a login page needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// The Organization ID: a lower-case UUID.
    pub id: String,
    /// The short name members may type instead of the ID.
    pub alias: String,
    /// The display name.
    pub name: String,
    /// The login methods its members may use, in the order the app offers them.
    pub login_methods: Vec<LoginMethod>,
    /// The Organization's logo: an absolute `https://` URL (`branding::normalize_logo_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The Organization's accent colour, `#rrggbb` in lower case
    /// (`branding::normalize_accent_color`). The app uses it only when
    /// `branding::accent_passes_aa` holds, and its own colour otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    /// Where a member may be sent back to after logging in (`?return_to=`): URL prefixes in
    /// the form `handoff::normalize_return_prefix` gives (absolute, path ending in `/`), matched
    /// by `handoff::return_target_allowed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_urls: Vec<String>,
    /// Where a member goes after logging in when no `return_to` was given or allowed
    /// (`handoff::normalize_console_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
}

/// Why a typed Organization ID or alias was refused before anything was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationInputError {
    /// Nothing (or only spaces) was typed.
    Empty,
    /// Neither a UUID nor an alias of 2–32 lower-case letters.
    Malformed,
}

/// A normalised Organization key: a lower-case UUID, or an alias of 2–32 letters a–z.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrganizationKey {
    Id(String),
    Alias(String),
}

impl OrganizationKey {
    /// Parses what a member typed (or a `?organization=` link carried): surrounding spaces are
    /// ignored and a UUID is accepted in any case; an alias must already be lower case.
    pub fn parse(input: &str) -> Result<Self, OrganizationInputError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(OrganizationInputError::Empty);
        }
        if is_uuid(input) {
            return Ok(Self::Id(input.to_ascii_lowercase()));
        }
        if (2..=32).contains(&input.len()) && input.bytes().all(|b| b.is_ascii_lowercase()) {
            return Ok(Self::Alias(input.to_owned()));
        }
        Err(OrganizationInputError::Malformed)
    }

    /// The normalised text, as it appears in API paths and links.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Id(s) | Self::Alias(s) => s,
        }
    }
}

/// `8-4-4-4-12` hexadecimal digits, any case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_in_any_case_with_spaces_is_normalised_to_lower_case() {
        let key = OrganizationKey::parse("  6F1C2A4E-8B3D-4C5E-9F60-7A8B9C0D1E2F \t").unwrap();
        assert_eq!(
            key,
            OrganizationKey::Id("6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f".into())
        );
    }

    #[test]
    fn alias_of_two_to_thirty_two_lower_case_letters() {
        assert_eq!(
            OrganizationKey::parse(" demo ").unwrap(),
            OrganizationKey::Alias("demo".into())
        );
        assert!(OrganizationKey::parse("ab").is_ok());
        assert!(OrganizationKey::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn refuses_what_is_neither() {
        use OrganizationInputError::*;
        for (input, want) in [
            ("", Empty),
            ("   ", Empty),
            ("a", Malformed),
            (&"a".repeat(33), Malformed),
            ("Demo", Malformed),
            ("de-mo", Malformed),
            ("démo", Malformed),
            ("demo1", Malformed),
            ("6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2", Malformed),
            ("6f1c2a4e8b3d4c5e9f607a8b9c0d1e2f", Malformed),
            ("6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2g", Malformed),
            ("6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f-", Malformed),
        ] {
            assert_eq!(OrganizationKey::parse(input), Err(want), "input {input:?}");
        }
    }

    #[test]
    fn organization_round_trips_through_json_with_snake_case_methods() {
        let org = Organization {
            id: "6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f".into(),
            alias: "demo".into(),
            name: "Demo Organization".into(),
            login_methods: vec![LoginMethod::EmailCode, LoginMethod::Password],
            logo_url: None,
            accent_color: None,
            return_urls: vec![],
            console_url: None,
        };
        let json = serde_json::to_value(&org).unwrap();
        assert_eq!(
            json["login_methods"],
            serde_json::json!(["email_code", "password"])
        );
        // Unset branding and hand-off fields are left out, so the answer is as before.
        assert_eq!(
            json.as_object().unwrap().len(),
            4,
            "only id, alias, name, login_methods: {json}"
        );
        assert_eq!(serde_json::from_value::<Organization>(json).unwrap(), org);
    }

    #[test]
    fn branding_and_hand_off_fields_round_trip_and_may_be_missing() {
        let org = Organization {
            id: "6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2f".into(),
            alias: "demo".into(),
            name: "Demo Organization".into(),
            login_methods: vec![LoginMethod::Password],
            logo_url: Some("https://cdn.example/logo.svg".into()),
            accent_color: Some("#0b5fff".into()),
            return_urls: vec!["https://console.example/".into()],
            console_url: Some("https://console.example/home".into()),
        };
        let json = serde_json::to_value(&org).unwrap();
        assert_eq!(json["logo_url"], "https://cdn.example/logo.svg");
        assert_eq!(json["accent_color"], "#0b5fff");
        assert_eq!(
            json["return_urls"],
            serde_json::json!(["https://console.example/"])
        );
        assert_eq!(json["console_url"], "https://console.example/home");
        assert_eq!(serde_json::from_value::<Organization>(json).unwrap(), org);

        // An answer from before these fields existed still parses.
        let older: Organization = serde_json::from_str(
            r#"{"id":"x","alias":"demo","name":"Demo","login_methods":["password"]}"#,
        )
        .unwrap();
        assert_eq!(older.logo_url, None);
        assert_eq!(older.accent_color, None);
        assert!(older.return_urls.is_empty());
        assert_eq!(older.console_url, None);
    }
}
