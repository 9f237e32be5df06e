//! What every state-changing API call must pass before its handler runs: the custom header and
//! an allowed Origin (CSRF), and the per-IP rate limit.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use member_login_api::{ProblemCode, CSRF_HEADER};

use crate::problem::ApiError;
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
        return ApiError::new(
            ProblemCode::CsrfRejected,
            "State-changing calls need the x-member-login header and an allowed Origin",
        )
        .into_response();
    }
    if let Err(seconds) = state
        .limiter
        .check(&format!("ip:{}", peer.ip()), state.limits.per_ip)
    {
        return ApiError::rate_limited(seconds).into_response();
    }
    next.run(request).await
}
