//! Sessions: opened when a login completes, read by `GET /api/v1/session`, ended by
//! `DELETE /api/v1/session`. The browser holds only a random token in an HttpOnly, Secure,
//! SameSite=Strict cookie; the server stores its SHA-256.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use member_login_api::session::{Member, Session};
use member_login_api::{ProblemCode, SESSION_COOKIE};

use crate::error::{Error, Result};
use crate::mail_text::Language;
use crate::requirements;
use crate::secrets::{digest, new_token};
use crate::state::AppState;
use crate::store::{MemberRecord, OrganizationRecord, SessionRecord};

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
/// browser had before, if any, ends: a login always gets a new token. `language`: the login
/// flow's, for the emails about changes made in this session.
pub async fn open(
    state: &AppState,
    headers: &HeaderMap,
    member: &MemberRecord,
    org: &OrganizationRecord,
    language: Language,
) -> Result<String> {
    if let Some(old) = token(headers) {
        state.db.delete_session(&digest(&[old])).await?;
    }
    let token = new_token();
    let now = state.clock.now();
    state
        .db
        .insert_session(
            &digest(&[&token]),
            &member.id,
            now,
            now + org.session_seconds,
            language,
        )
        .await?;
    Ok(cookie(&token, org.session_seconds))
}

/// How recent a login must be for a sensitive change (password, MFA).
pub const RECENT_LOGIN_SECONDS: i64 = 10 * 60;

/// A request made with a live session: its member and Organization, the session, and its token
/// hash. As an extractor it refuses a request without one (401), of a locked member, or of a
/// member whose grace period ran out (locked now); it starts the grace period of a requirement
/// that applies to the member for the first time.
pub struct Authenticated {
    pub member: MemberRecord,
    pub org: OrganizationRecord,
    pub session: SessionRecord,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token_hash = digest(&[token(&parts.headers).ok_or_else(Error::unauthenticated)?]);
        let now = state.clock.now();
        let session = state
            .db
            .session(&token_hash, now)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        let member = state
            .db
            .member(&session.member_id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        // A lock after failed logins stops logins, not the member's own session: strangers
        // guessing at a username must not end it.
        if member.locked {
            return Err(Error::account_locked());
        }
        let org = state
            .db
            .organization_record(&member.organization_id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        if requirements::overdue(&org, &member, now) {
            state.db.lock_member(&member.id).await?;
            return Err(Error::grace_period_over());
        }
        if let Some((mfa, renewal)) = requirements::unstarted(&org, &member) {
            state
                .db
                .start_requirements(&member.id, now, mfa, renewal)
                .await?;
        }
        Ok(Self {
            member,
            org,
            session,
            token_hash,
        })
    }
}

impl Authenticated {
    /// A sensitive change needs a recent proof of the member: a login within the last
    /// [`RECENT_LOGIN_SECONDS`], so that a stolen session cookie alone cannot take the account.
    pub fn require_recent_login(&self, now: i64) -> Result<()> {
        if now - self.session.created_at <= RECENT_LOGIN_SECONDS {
            Ok(())
        } else {
            Err(Error::new(
                ProblemCode::ReauthenticationRequired,
                "Log in again to make this change",
            ))
        }
    }

    /// The session as `GET /api/v1/session` answers it, read afresh (after a change, say).
    pub async fn session(&self, state: &AppState) -> Result<Session> {
        let now = state.clock.now();
        let session = state
            .db
            .session(&self.token_hash, now)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        let member = state
            .db
            .member(&self.member.id)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        Ok(Session {
            requirements: requirements::pending(&self.org, &member, now),
            member: Member {
                username: member.username,
                email: member.email,
            },
            organization: self.org.public.clone(),
            expires_at: session.expires_at,
            now,
        })
    }
}

/// `GET /api/v1/session`
pub async fn current(State(state): State<AppState>, auth: Authenticated) -> Result<Json<Session>> {
    auth.session(&state).await.map(Json)
}

/// `DELETE /api/v1/session`: ends the session on the server and clears the cookie. Answers 204
/// whether or not there was a session, so logging out twice is fine.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
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
