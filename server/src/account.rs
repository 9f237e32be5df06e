//! What a logged-in member does to their own account to meet their Organization's security
//! requirements: choose a new password, and set up an authenticator (MFA) with recovery codes.

use std::collections::HashSet;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use member_login_api::flow::normalize_code;
use member_login_api::session::{
    password_rules_broken, ChangePassword, MfaEnrollment, PasswordRule, RecoveryCodes, Session,
    VerifyMfa,
};
use member_login_api::ProblemCode;

use crate::problem::{ApiError, ApiJson};
use crate::secrets::{digest, hash_password, new_recovery_code, new_totp_secret};
use crate::session::{authenticated, session_of};
use crate::state::{now, AppState};
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

/// Every rule `password` breaks for `username`, the list included.
pub fn rules_broken(username: &str, password: &str) -> Vec<PasswordRule> {
    let mut broken = password_rules_broken(username, password);
    if common_passwords().contains(&password.to_lowercase()) {
        broken.push(PasswordRule::Common);
    }
    broken
}

/// `POST /api/v1/session/password`: this session stays; the member's other sessions end.
pub async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Json<Session>, ApiError> {
    let (member, _, token_hash) = authenticated(&state, &headers).await?;
    let broken = rules_broken(&member.username, &body.new_password);
    if !broken.is_empty() {
        let mut err = ApiError::new(
            ProblemCode::PasswordRejected,
            "The new password does not meet the rules",
        );
        err.0.rules = broken;
        return Err(err);
    }
    let password = body.new_password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::new(ProblemCode::Internal, "Internal server error"))?
        .map_err(|_| ApiError::new(ProblemCode::Internal, "Internal server error"))?;
    state.db.set_password(&member.id, &hash, now()).await?;
    state.db.end_other_sessions(&member.id, &token_hash).await?;
    session_of(&state, &member.id, &token_hash).await.map(Json)
}

/// `POST /api/v1/session/mfa`: a new authenticator secret to scan; MFA is not on until a code
/// from it is verified. Asking again replaces the secret not yet verified.
pub async fn start_mfa(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<MfaEnrollment>, ApiError> {
    let (member, org, _) = authenticated(&state, &headers).await?;
    if member.totp_secret.is_some() {
        return Err(ApiError::new(
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
    headers: HeaderMap,
    ApiJson(body): ApiJson<VerifyMfa>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let (member, _, _) = authenticated(&state, &headers).await?;
    let not_started = || ApiError::new(ProblemCode::StepNotAllowed, "Start setting up MFA first");
    let pending = state
        .db
        .totp_pending(&member.id)
        .await?
        .ok_or_else(not_started)?;
    let secret = totp::base32_decode(&pending).ok_or_else(not_started)?;
    let code = normalize_code(&body.code, totp::DIGITS)
        .ok_or_else(|| ApiError::new(ProblemCode::InvalidCodeFormat, "A code is 6 digits"))?;
    let step = totp::matching_step(&secret, &code, now(), None)
        .ok_or_else(ApiError::invalid_credentials)?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| digest(&[&member.id, &c.replace('-', "")]))
        .collect();
    state.db.activate_totp(&member.id, step, &hashes).await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
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
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(
            percent_encode("Member Login (Acme)"),
            "Member%20Login%20%28Acme%29"
        );
        assert_eq!(percent_encode("kim.o_k~-"), "kim.o_k~-");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
