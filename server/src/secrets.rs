//! Random secrets, their hashes, and password hashing. Everything secret is stored hashed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, Output, ParamsString, PasswordHash, PasswordHasher, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version, ARGON2ID_IDENT};
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// How long a password check or hash waits for a free hashing slot before its request is
/// answered 503 `service_busy`. Fifty logins at once on two cores wait about a second.
pub const HASH_WAIT: Duration = Duration::from_secs(10);

/// The `Retry-After` of that answer, in seconds.
pub const BUSY_RETRY_AFTER: u64 = 5;

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

/// Checks and hashes passwords, at most one per core at a time: each Argon2id run works in
/// 19 MiB, so a burst of logins would otherwise hold 19 MiB per request at once. The working
/// memory is kept and reused (one block of 19 MiB per slot), so a check allocates nothing.
///
/// A check for an unknown member, or one without a password, costs exactly as much as for a
/// known one: it then runs against a dummy hash and fails.
#[derive(Clone)]
pub struct PasswordChecker(Arc<Hashing>);

struct Hashing {
    dummy_hash: String,
    /// One permit per hash that may run at once.
    slots: Arc<Semaphore>,
    /// How long to wait for a permit (async callers).
    wait: Duration,
    /// Argon2 working memory of finished runs, at most one per slot.
    memory: Mutex<Vec<Vec<Block>>>,
}

impl Default for PasswordChecker {
    /// One slot per core, waiting at most [`HASH_WAIT`].
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, HASH_WAIT)
    }
}

impl PasswordChecker {
    /// A checker running at most `slots` hashes at once; async callers wait up to `wait` for
    /// one.
    pub fn new(slots: usize, wait: Duration) -> Self {
        let mut hashing = Hashing {
            dummy_hash: String::new(),
            slots: Arc::new(Semaphore::new(slots.max(1))),
            wait,
            memory: Mutex::new(Vec::new()),
        };
        hashing.dummy_hash = hashing
            .hash(&new_token())
            .expect("hashing a fresh random password");
        Self(Arc::new(hashing))
    }

    /// Whether `password` matches `stored`; `None` always fails, after the same work. Runs on
    /// a blocking thread once a slot is free; answers [`Error::Busy`] when none was free for
    /// the checker's wait ([`HASH_WAIT`] by default).
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool> {
        let slot = self.slot().await?;
        let hashing = self.0.clone();
        let (stored, password) = (stored.map(str::to_owned), password.to_owned());
        // The slot moves into the blocking task: it stays taken while the hash runs, even if
        // the request that asked is dropped meanwhile.
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = slot;
            hashing.verify(stored.as_deref(), &password)
        })
        .await?)
    }

    /// The Argon2id hash (PHC string) of a new password, as [`hash_password`] makes it. Runs
    /// on a blocking thread once a slot is free; answers [`Error::Busy`] when none was free
    /// for the checker's wait ([`HASH_WAIT`] by default).
    pub async fn hash(&self, password: &str) -> Result<String> {
        let slot = self.slot().await?;
        let hashing = self.0.clone();
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            hashing.hash(&password)
        })
        .await??;
        Ok(hash)
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit> {
        let acquire = self.0.slots.clone().acquire_owned();
        match tokio::time::timeout(self.0.wait, acquire).await {
            Ok(slot) => Ok(slot.expect("the slots are never closed")),
            Err(_) => Err(Error::Busy {
                retry_after: BUSY_RETRY_AFTER,
            }),
        }
    }
}

impl Hashing {
    fn verify(&self, stored: Option<&str>, password: &str) -> bool {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let verified =
            PasswordHash::new(hash).is_ok_and(|parsed| self.matches(&parsed, password.as_bytes()));
        real && verified
    }

    /// What argon2's `verify_password` does, over this checker's memory: the hash of
    /// `password` with the stored hash's algorithm, version, parameters and salt, compared in
    /// constant time.
    fn matches(&self, hash: &PasswordHash<'_>, password: &[u8]) -> bool {
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(version), Ok(params)) = (
            Algorithm::try_from(hash.algorithm),
            hash.version
                .map_or(Ok(Version::default()), Version::try_from),
            Params::try_from(hash),
        ) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut output = [0u8; Output::MAX_LENGTH];
        let output = &mut output[..expected.len()];
        let hashed = self.with_memory(blocks, |memory| {
            argon2.hash_password_into_with_memory(password, salt, output, memory)
        });
        hashed.is_ok() && Output::new(output).is_ok_and(|computed| computed == expected)
    }

    /// What [`hash_password`] makes, over this checker's memory.
    fn hash(&self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes)?;
        let params = Params::DEFAULT;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        self.with_memory(params.block_count(), |memory| {
            argon2.hash_password_into_with_memory(
                password.as_bytes(),
                raw_salt,
                &mut output,
                memory,
            )
        })?;
        Ok(PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&output)?),
        }
        .to_string())
    }

    /// Runs `work` over `blocks` blocks of kept memory (taking a kept block of the usual
    /// size, or making one), then keeps it for the next run. A stored hash asking for more
    /// than the usual memory gets memory of its own for that run only.
    fn with_memory<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        const USUAL: usize = Params::DEFAULT.block_count();
        if blocks > USUAL {
            return work(&mut vec![Block::default(); blocks]);
        }
        let kept = self.kept().pop();
        let mut memory = kept.unwrap_or_else(|| vec![Block::default(); USUAL]);
        let result = work(&mut memory[..blocks]);
        self.kept().push(memory);
        result
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
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

    #[tokio::test]
    async fn the_async_check_and_hash_agree_with_argon2s_own() {
        use argon2::password_hash::PasswordVerifier;
        let checker = PasswordChecker::default();
        let password = "violet-harbor-lantern";
        // Made here, checked by argon2's own verifier, and the other way round.
        let hash = checker.hash(password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok());
        assert!(checker.verify(Some(&hash), password).await.unwrap());
        let theirs = hash_password(password).unwrap();
        assert!(checker.verify(Some(&theirs), password).await.unwrap());
        assert!(!checker
            .verify(Some(&theirs), "violet-harbor-lanterN")
            .await
            .unwrap());
        assert!(!checker.verify(None, password).await.unwrap());
        assert!(!checker.verify(Some("not a hash"), "x").await.unwrap());
        // Hashes with other parameters: less memory than usual, and more.
        for (m, t) in [(1024, 1), (24 * 1024, 1)] {
            let params = Params::new(m, t, 1, None).unwrap();
            let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            assert!(
                checker.verify(Some(&other), password).await.unwrap(),
                "{other}"
            );
            assert!(
                !checker.verify(Some(&other), "wrong").await.unwrap(),
                "{other}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_runs_one_hash_per_slot_at_a_time() {
        let checker = PasswordChecker::new(2, HASH_WAIT);
        let hash = hash_password("violet-harbor-lantern").unwrap();
        let checks = (0..8).map(|_| {
            let (checker, hash) = (checker.clone(), hash.clone());
            async move {
                checker
                    .verify(Some(&hash), "violet-harbor-lantern")
                    .await
                    .unwrap()
            }
        });
        assert!(futures::future::join_all(checks)
            .await
            .into_iter()
            .all(|ok| ok));
        // Every run takes kept memory or makes it, and keeps it after: more than two blocks
        // would mean more than two ran at once.
        assert!(
            checker.0.kept().len() <= 2,
            "{} blocks",
            checker.0.kept().len()
        );
    }

    #[tokio::test]
    async fn no_free_slot_within_the_wait_is_busy() {
        let checker = PasswordChecker::new(1, Duration::from_millis(50));
        let hash = hash_password("violet-harbor-lantern").unwrap();
        let taken = checker.0.slots.clone().acquire_owned().await.unwrap();
        let busy = checker.verify(Some(&hash), "violet-harbor-lantern").await;
        assert!(matches!(
            busy,
            Err(Error::Busy {
                retry_after: BUSY_RETRY_AFTER
            })
        ));
        assert!(matches!(checker.hash("x").await, Err(Error::Busy { .. })));
        drop(taken);
        assert!(checker
            .verify(Some(&hash), "violet-harbor-lantern")
            .await
            .unwrap());
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
