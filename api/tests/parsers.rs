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
