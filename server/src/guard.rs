//! What every state-changing API call must pass before its handler runs: the custom header and
//! an allowed Origin (CSRF), and the per-IP rate limit, keyed by the client's address (named by
//! a trusted proxy's headers when the server is behind one; see `client_ip.rs`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use member_login_api::{ProblemCode, CSRF_HEADER};

use crate::error::Error;
use crate::limits;
use crate::state::AppState;

pub async fn state_changing(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin_allowed = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.allowed_origins.iter().any(|a| a == o));
    if !headers.contains_key(CSRF_HEADER) || !origin_allowed {
        return Error::new(
            ProblemCode::CsrfRejected,
            "State-changing calls need the x-member-login header and an allowed Origin",
        )
        .into_response();
    }
    let client = state.trusted_proxies.client_ip(peer.ip(), headers);
    if let Err(err) = limits::check(&state, &format!("ip:{client}"), state.limits.per_ip).await {
        return err.into_response();
    }
    next.run(request).await
}
