//! Sessions: opened when a login completes, read by `GET /api/v1/session`, ended by
//! `DELETE /api/v1/session`. The browser holds only a random token in an HttpOnly, Secure,
//! SameSite=Strict cookie; the server stores its SHA-256.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use member_login_api::session::{Member, Session};
use member_login_api::{ProblemCode, SESSION_COOKIE};

use crate::db::{MemberRecord, OrganizationRecord};
use crate::problem::ApiError;
use crate::secrets::{digest, new_token};
use crate::state::{now, AppState};
use crate::{flows, requirements};

/// The session token the request's cookie carries, if any.
fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn cookie(value: &str, max_age: i64) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    )
}

/// Opens a new session for the member and returns its `Set-Cookie` value. The session this
/// browser had before, if any, ends: a login always gets a new token.
pub async fn open(
    state: &AppState,
    headers: &HeaderMap,
    member: &MemberRecord,
    org: &OrganizationRecord,
) -> Result<String, ApiError> {
    if let Some(old) = token(headers) {
        state.db.delete_session(&digest(&[old])).await?;
    }
    let token = new_token();
    let now = now();
    state
        .db
        .insert_session(
            &digest(&[&token]),
            &member.id,
            now,
            now + org.session_seconds,
        )
        .await?;
    Ok(cookie(&token, org.session_seconds))
}

fn unauthenticated() -> ApiError {
    ApiError::new(ProblemCode::Unauthenticated, "Not logged in")
}

/// The member and Organization of the request's live session, and the session's token hash.
/// A locked member is refused; one whose grace period ran out is locked now.
pub async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(MemberRecord, OrganizationRecord, String), ApiError> {
    let token_hash = digest(&[token(headers).ok_or_else(unauthenticated)?]);
    let (member_id, _) = state
        .db
        .session(&token_hash, now())
        .await?
        .ok_or_else(unauthenticated)?;
    let member = state
        .db
        .member(&member_id)
        .await?
        .ok_or_else(unauthenticated)?;
    if member.locked {
        return Err(ApiError::new(
            ProblemCode::AccountLocked,
            "This member is locked; an administrator must unlock it",
        ));
    }
    let org = state
        .db
        .organization_record(&member.organization_id)
        .await?
        .ok_or_else(unauthenticated)?;
    if requirements::overdue(&org, &member, now()) {
        state.db.lock_member(&member.id).await?;
        return Err(flows::grace_period_over());
    }
    Ok((member, org, token_hash))
}

/// The session as `GET /api/v1/session` answers it, read afresh (after a change, say).
pub async fn session_of(
    state: &AppState,
    member_id: &str,
    token_hash: &str,
) -> Result<Session, ApiError> {
    let now = now();
    let (_, expires_at) = state
        .db
        .session(token_hash, now)
        .await?
        .ok_or_else(unauthenticated)?;
    let member = state
        .db
        .member(member_id)
        .await?
        .ok_or_else(unauthenticated)?;
    let org = state
        .db
        .organization_record(&member.organization_id)
        .await?
        .ok_or_else(unauthenticated)?;
    Ok(Session {
        requirements: requirements::pending(&org, &member, now),
        member: Member {
            username: member.username,
            email: member.email,
        },
        organization: org.public,
        expires_at,
        now,
    })
}

/// `GET /api/v1/session`
pub async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Session>, ApiError> {
    let (member, _, token_hash) = authenticated(&state, &headers).await?;
    session_of(&state, &member.id, &token_hash).await.map(Json)
}

/// `DELETE /api/v1/session`: ends the session on the server and clears the cookie. Answers 204
/// whether or not there was a session, so logging out twice is fine.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = token(&headers) {
        state.db.delete_session(&digest(&[token])).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie("", 0))],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; __Host-member-login-session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(token(&headers), Some("tok"));
        let mut other = HeaderMap::new();
        other.append(header::COOKIE, "member-login-session=x".parse().unwrap());
        assert_eq!(token(&other), None);
    }

    #[test]
    fn cookie_has_every_protective_attribute() {
        let c = cookie("abc", 60);
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(attribute), "{c}");
        }
        assert!(c.starts_with("__Host-member-login-session=abc;"));
    }
}
