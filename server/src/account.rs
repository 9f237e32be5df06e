//! What a logged-in member does to their own account to meet their Organization's security
//! requirements: choose a new password, and set up an authenticator (MFA) with recovery codes.

use std::collections::HashSet;
use std::sync::OnceLock;

use axum::extract::State;
use axum::Json;
use member_login_api::flow::normalize_code;
use member_login_api::session::{
    password_rules_broken, ChangePassword, MfaEnrollment, PasswordRule, RecoveryCodes, Session,
    VerifyMfa,
};
use member_login_api::ProblemCode;

use crate::error::{Error, Result};
use crate::mail_text::{self, Email};
use crate::problem::ApiJson;
use crate::secrets::{digest, new_recovery_code, new_totp_secret};
use crate::session::Authenticated;
use crate::state::AppState;
use crate::totp;

/// Recovery codes given when MFA is set up.
pub const RECOVERY_CODES: usize = 10;

/// Common and breached passwords of 12+ characters, lower-cased (data/common-passwords.txt).
fn common_passwords() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_lowercase)
            .collect()
    })
}

/// The lowest zxcvbn score a new password may have (0–4): 3 is "safely unguessable" against
/// an online attack slowed down by rate limits and Argon2id.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Every rule `password` breaks for `username`: length and username (as the app checks as
/// the member types), the list of common and breached passwords, and, once those are met, a
/// strength estimate (zxcvbn, which also knows keyboard patterns, dates, repeats and words
/// with swapped letters).
pub fn rules_broken(username: &str, password: &str) -> Vec<PasswordRule> {
    let mut broken = password_rules_broken(username, password);
    if common_passwords().contains(&password.to_lowercase()) {
        broken.push(PasswordRule::Common);
    }
    // Estimated only once every other rule is met: "too short" says more than "guessable",
    // and zxcvbn's cost grows with the length.
    if broken.is_empty() && zxcvbn::zxcvbn(password, &[username]).score() < MIN_STRENGTH {
        broken.push(PasswordRule::TooGuessable);
    }
    broken
}

/// `POST /api/v1/session/password`: this session stays; the member's other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<Session>> {
    let member = &auth.member;
    auth.require_recent_login(state.clock.now())?;
    let broken = rules_broken(&member.username, &body.new_password);
    if !broken.is_empty() {
        return Err(Error::password_rejected(broken));
    }
    let password = body.new_password;
    let hash = state.passwords.hash(&password).await?;
    let now = state.clock.now();
    state.db.set_password(&member.id, &hash, now).await?;
    state
        .db
        .end_other_sessions(&member.id, &auth.token_hash)
        .await?;
    tell_member(&state, &auth, mail_text::password_changed_email).await?;
    auth.session(&state).await.map(Json)
}

/// `POST /api/v1/session/mfa`: a new authenticator secret to scan; MFA is not on until a code
/// from it is verified. Asking again replaces the secret not yet verified.
pub async fn start_mfa(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<MfaEnrollment>> {
    auth.require_recent_login(state.clock.now())?;
    let Authenticated { member, org, .. } = auth;
    if member.totp_secret.is_some() {
        return Err(Error::new(
            ProblemCode::StepNotAllowed,
            "MFA is already enabled",
        ));
    }
    let secret = totp::base32_encode(&new_totp_secret());
    state.db.set_totp_pending(&member.id, &secret).await?;
    let issuer = format!("Member Login ({})", org.public.name);
    let otpauth_uri = format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        percent_encode(&issuer),
        percent_encode(&member.username),
        percent_encode(&issuer),
    );
    Ok(Json(MfaEnrollment {
        secret,
        otpauth_uri,
    }))
}

/// `POST /api/v1/session/mfa/verify`: a code from the new authenticator turns MFA on and
/// answers the recovery codes, the only time they are shown.
pub async fn verify_mfa(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<VerifyMfa>,
) -> Result<Json<RecoveryCodes>> {
    auth.require_recent_login(state.clock.now())?;
    let member = &auth.member;
    let not_started = || Error::new(ProblemCode::StepNotAllowed, "Start setting up MFA first");
    let pending = state
        .db
        .totp_pending(&member.id)
        .await?
        .ok_or_else(not_started)?;
    let secret = totp::base32_decode(&pending).ok_or_else(not_started)?;
    let code = normalize_code(&body.code, totp::DIGITS)
        .ok_or_else(|| Error::new(ProblemCode::InvalidCodeFormat, "A code is 6 digits"))?;
    let step = totp::matching_step(&secret, &code, state.clock.now(), None)
        .ok_or_else(Error::invalid_credentials)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| digest(&[&member.id, &c.replace('-', "")]))
        .collect();
    state.db.activate_totp(&member.id, step, &hashes).await?;
    tell_member(&state, &auth, mail_text::mfa_enabled_email).await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Emails the member about a change to their account, so that a change they did not make
/// does not go unnoticed: `email` (one of `mail_text`'s), in the session's language.
async fn tell_member(
    state: &AppState,
    auth: &Authenticated,
    email: fn(mail_text::Language, &str, &str) -> Email,
) -> Result<()> {
    let email = email(
        auth.session.language,
        &auth.member.username,
        &auth.org.public.name,
    );
    state
        .mail
        .send(Some(&auth.member.email), &email.subject, &email.body)
        .await
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for the otpauth URI.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_list_is_loaded_and_checked_in_any_case() {
        assert!(common_passwords().len() > 40_000);
        assert!(rules_broken("kim", "1qaz2wsx3edc").contains(&PasswordRule::Common));
        assert!(rules_broken("kim", "1QAZ2WSX3EDC").contains(&PasswordRule::Common));
        assert!(rules_broken("kim", "violet-harbor-lantern").is_empty());
    }

    #[test]
    fn easily_guessed_passwords_are_refused_by_the_estimate() {
        for weak in [
            "            ",
            "password123456",
            "P@ssw0rd1234",
            "qwertyuiopasdf",
            "aaaaaaaaaaaa",
        ] {
            // Refused by the list or by the estimate: either way with a reason.
            let broken = rules_broken("kim", weak);
            assert!(
                broken.contains(&PasswordRule::TooGuessable)
                    || broken.contains(&PasswordRule::Common),
                "{weak:?}: {broken:?}"
            );
        }
        for strong in [
            "amber-river-telescope",
            "quiet-meadow-compass",
            "Tr4in-gl0ve-s0ft-nine",
        ] {
            assert!(rules_broken("kim", strong).is_empty(), "{strong:?}");
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            percent_encode("Member Login (Acme)"),
            "Member%20Login%20%28Acme%29"
        );
        assert_eq!(percent_encode("kim.o_k~-"), "kim.o_k~-");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
