//! Random secrets, their hashes, and password hashing. Everything secret is stored hashed.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

/// A session token: 32 random bytes, URL-safe base64.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A uniformly random code of `length` decimal digits.
pub fn new_code(length: usize) -> String {
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A new authenticator secret: 20 random bytes (160 bits, as RFC 4226 recommends).
pub fn new_totp_secret() -> [u8; 20] {
    rand::rng().random()
}

/// A recovery code: 12 characters of a–z and 2–7 (60 bits), grouped by four with dashes.
pub fn new_recovery_code() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..32)]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// SHA-256 of the parts joined by `:`, hex. For secrets that are random and short-lived
/// (codes, session tokens); passwords use [`hash_password`].
pub fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Argon2id, version 19, m = 19 MiB, t = 2, p = 1 (the OWASP recommendation; the crate default).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks passwords so that an unknown member, or one without a password, costs exactly as
/// much as a known one: the check then runs against a dummy hash and fails.
pub struct PasswordChecker {
    dummy_hash: String,
}

impl Default for PasswordChecker {
    fn default() -> Self {
        Self {
            dummy_hash: hash_password(&new_token()).expect("hashing a fresh random password"),
        }
    }
}

impl PasswordChecker {
    /// Whether `password` matches `stored`; `None` always fails, after the same work.
    pub fn check(&self, stored: Option<&str>, password: &str) -> bool {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let verified = PasswordHash::new(hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        real && verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_digits_of_the_asked_length_and_vary() {
        let codes: std::collections::HashSet<String> = (0..50).map(|_| new_code(6)).collect();
        assert!(codes
            .iter()
            .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 45, "random codes rarely repeat");
    }

    #[test]
    fn recovery_codes_are_grouped_and_normalise_to_what_is_stored() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(
            member_login_api::flow::normalize_recovery_code(&typed).unwrap(),
            code.replace('-', "")
        );
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let checker = PasswordChecker::default();
        let hash = hash_password("violet-harbor-lantern").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(checker.check(Some(&hash), "violet-harbor-lantern"));
        assert!(!checker.check(Some(&hash), "violet-harbor-lanterN"));
        assert!(!checker.check(None, "violet-harbor-lantern"));
        assert!(!checker.check(Some("not a hash"), "x"));
    }

    #[test]
    fn digest_and_same() {
        assert_eq!(
            digest(&["abc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(digest(&["a", "bc"]), digest(&["ab", "c"]));
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
