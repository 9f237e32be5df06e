//! Property tests of every input parser in the contract: no input makes them panic, and what
//! they accept is already in normal form.

use member_login_api::flow::{normalize_code, normalize_username, Flow, SubmitSecondFactor};
use member_login_api::{OrganizationKey, Problem};
use proptest::prelude::*;

proptest! {
    #[test]
    fn organization_keys_are_stable_once_normalised(input in ".{0,80}") {
        if let Ok(key) = OrganizationKey::parse(&input) {
            prop_assert_eq!(OrganizationKey::parse(key.as_str()), Ok(key.clone()));
            prop_assert!(key.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        }
    }

    #[test]
    fn any_uuid_in_any_case_and_padding_is_accepted(
        bytes in proptest::array::uniform16(any::<u8>()),
        upper in any::<bool>(),
        pad in "[ \t]{0,3}",
    ) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let uuid = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
        let typed = format!("{pad}{}{pad}", if upper { uuid.to_uppercase() } else { uuid.clone() });
        prop_assert_eq!(OrganizationKey::parse(&typed), Ok(OrganizationKey::Id(uuid)));
    }

    #[test]
    fn codes_are_six_digits_or_nothing(input in ".{0,40}") {
        if let Some(code) = normalize_code(&input, 6) {
            prop_assert_eq!(code.len(), 6);
            prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(normalize_code(&code, 6), Some(code.clone()));
        }
    }

    #[test]
    fn pasted_codes_with_separators_keep_their_digits(digits in "[0-9]{6}", sep in "[ -]{0,2}") {
        let pasted = format!("{}{sep}{}", &digits[..3], &digits[3..]);
        prop_assert_eq!(normalize_code(&pasted, 6), Some(digits));
    }

    #[test]
    fn usernames_are_trimmed_bounded_and_stable(input in "\\PC{0,80}") {
        if let Some(name) = normalize_username(&input) {
            prop_assert_eq!(name.trim(), name.as_str());
            prop_assert!((1..=64).contains(&name.chars().count()));
            prop_assert_eq!(normalize_username(&name), Some(name.clone()));
        }
    }

    #[test]
    fn contract_bodies_never_panic_on_any_json(input in ".{0,200}") {
        let _ = serde_json::from_str::<Flow>(&input);
        let _ = serde_json::from_str::<Problem>(&input);
        let _ = serde_json::from_str::<SubmitSecondFactor>(&input);
    }
}

/// Allowed return URL prefixes of every shape the normaliser gives.
const PREFIXES: [&str; 3] = [
    "https://console.example/",
    "https://apps.example:8443/team/",
    "http://localhost:3000/",
];

proptest! {
    #[test]
    fn an_allowed_return_target_stays_on_its_prefix(
        prefix in proptest::sample::select(PREFIXES.to_vec()),
        tail in "[a-zA-Z0-9./\\\\:@?#%&=_~ \t\n\r-]{0,24}",
        lead in "(|//|/|https:|HTTPS://|https://evil.example|javascript:)",
    ) {
        for candidate in [format!("{prefix}{tail}"), format!("{lead}{tail}"), tail.clone()] {
            if member_login_api::return_target_allowed(&candidate, &PREFIXES) {
                // A browser's parser reads it on the prefix's origin, under the prefix's path.
                let parsed = url::Url::parse(&candidate).expect("an allowed target parses");
                let base = url::Url::parse(prefix).unwrap();
                prop_assert_eq!(parsed.origin(), base.origin(), "{:?}", candidate);
                prop_assert!(parsed.as_str().starts_with(prefix), "{:?} -> {}", candidate, parsed);
            }
        }
    }

    #[test]
    fn normalised_return_prefixes_are_what_a_browser_serialises(
        scheme in "(https|HTTPS|http|Https)",
        host in "(console|CONSOLE|localhost|127\\.0\\.0\\.1|a-b\\.example|0x7f|-x)",
        port in "(|:443|:80|:8443|:0|:99999)",
        path in "(|/|/app|/app/|/a/b/|/%2e%2e/|/x?y|/#z)",
    ) {
        let input = format!("{scheme}://{host}{port}{path}");
        if let Ok(prefix) = member_login_api::handoff::normalize_return_prefix(&input) {
            let parsed = url::Url::parse(&prefix).expect("a normalised prefix parses");
            prop_assert_eq!(parsed.as_str(), prefix.as_str());
            prop_assert!(prefix.ends_with('/'));
            prop_assert_eq!(
                member_login_api::handoff::normalize_return_prefix(&prefix),
                Ok(prefix.clone())
            );
            prop_assert!(member_login_api::return_target_allowed(&prefix, &[&prefix]));
        }
    }

    #[test]
    fn accent_colours_are_stable_once_normalised(input in "#?[0-9a-fA-Fg ]{0,8}") {
        use member_login_api::branding::{accent_passes_aa, normalize_accent_color};
        if let Some(colour) = normalize_accent_color(&input) {
            prop_assert_eq!(colour.len(), 7);
            prop_assert_eq!(normalize_accent_color(&colour), Some(colour.clone()));
            prop_assert_eq!(accent_passes_aa(&colour), accent_passes_aa(input.trim()));
        }
    }
}
