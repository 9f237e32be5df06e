//! Every error the API answers, as `application/problem+json` with the contract's stable code.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use member_login_api::{Problem, ProblemCode, PROBLEM_CONTENT_TYPE};

/// An error a handler returns; it becomes a problem document.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl ApiError {
    pub fn new(code: ProblemCode, title: &str) -> Self {
        Self(Problem::new(code, title))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(%err, "database error");
        Self::new(ProblemCode::Internal, "Internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self.0).expect("a problem always serialises");
        (status, [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)], body).into_response()
    }
}
