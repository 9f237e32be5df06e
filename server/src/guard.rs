//! What every API call passes before its handler runs: the client's address is decided (the
//! peer's, or the one a trusted proxy names; see `client_ip.rs`) and handed to handlers as
//! [`ClientIp`]; a state-changing call also needs the custom header and exactly one, allowed,
//! Origin (CSRF), and passes the per-IP rate limit.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use member_login_api::{ProblemCode, CSRF_HEADER};

use crate::error::Error;
use crate::state::AppState;

/// The client's address, as the guard decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The key of the client's per-IP rate limit.
    pub fn key(self) -> String {
        format!("ip:{}", self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        // Every API request passes the guard, which puts it there; the unspecified address
        // would only show a route outside the guard.
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::from([0, 0, 0, 0]))))
    }
}

pub async fn guard(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = ClientIp(
        state
            .trusted_proxies
            .client_ip(peer.ip(), request.headers()),
    );
    request.extensions_mut().insert(client);
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    // Two Origin headers could be judged by one and acted on by the other: refuse them.
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let origin_allowed = match (origins.next(), origins.next()) {
        (Some(origin), None) => origin
            .to_str()
            .is_ok_and(|o| state.allowed_origins.iter().any(|a| a == o)),
        _ => false,
    };
    if !headers.contains_key(CSRF_HEADER) || !origin_allowed {
        return Error::new(
            ProblemCode::CsrfRejected,
            "State-changing calls need the x-member-login header and an allowed Origin",
        )
        .into_response();
    }
    if let Err(err) = state.limit(&client.key(), state.limits.per_ip).await {
        return err.into_response();
    }
    next.run(request).await
}
