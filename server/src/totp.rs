//! Time-based one-time passwords (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps, and the
//! base32 text (RFC 4648) authenticator apps exchange secrets in.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const DIGITS: usize = 6;
pub const STEP_SECONDS: i64 = 30;
/// Steps before and after the current one that are still accepted (clock skew).
pub const SKEW_STEPS: i64 = 1;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The time step that `unix_time` falls in.
pub fn step_at(unix_time: i64) -> i64 {
    unix_time.div_euclid(STEP_SECONDS)
}

/// The code of `secret` for time step `step` (RFC 4226 dynamic truncation).
pub fn code_at(secret: &[u8], step: i64, digits: usize) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]) & 0x7fff_ffff;
    let code = binary % 10u32.pow(digits as u32);
    format!("{code:0digits$}")
}

/// The step whose code `code` is, among the current one ±[`SKEW_STEPS`], if any is later than
/// `after` (so that a code already used, or an older one, is refused).
pub fn matching_step(secret: &[u8], code: &str, now: i64, after: Option<i64>) -> Option<i64> {
    let current = step_at(now);
    (current - SKEW_STEPS..=current + SKEW_STEPS)
        .filter(|step| after.is_none_or(|last| *step > last))
        .find(|step| crate::secrets::same(&code_at(secret, *step, DIGITS), code))
}

/// Base32 without padding, as authenticator apps show and take keys.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(char::from(BASE32[((bits >> (35 - 5 * i)) & 31) as usize]));
        }
    }
    out
}

/// Decodes base32 in any case, ignoring spaces and padding; `None` for any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32
            .iter()
            .position(|b| char::from(*b) == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits), and their last 6 digits.
    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, step_at(time), 8), expected, "time {time}");
            assert_eq!(
                code_at(secret, step_at(time), 6),
                expected[2..],
                "time {time}"
            );
        }
    }

    #[test]
    fn accepts_one_step_of_skew_each_way_and_never_a_used_step_again() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let current = step_at(now);
        for step in [current - 1, current, current + 1] {
            let code = code_at(secret, step, DIGITS);
            assert_eq!(matching_step(secret, &code, now, None), Some(step));
            assert_eq!(
                matching_step(secret, &code, now, Some(step)),
                None,
                "replay"
            );
        }
        for step in [current - 2, current + 2] {
            let code = code_at(secret, step, DIGITS);
            if (current - 1..=current + 1).all(|s| code_at(secret, s, DIGITS) != code) {
                assert_eq!(matching_step(secret, &code, now, None), None);
            }
        }
        // Once a later step was used, an earlier code is refused too.
        let earlier = code_at(secret, current - 1, DIGITS);
        assert_eq!(matching_step(secret, &earlier, now, Some(current)), None);
    }

    #[test]
    fn base32_matches_rfc_4648_and_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw 6ytb oi").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZ1"), None);
        let secret: Vec<u8> = (0..20).collect();
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
    }
}
