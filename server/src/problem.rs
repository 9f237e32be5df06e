//! Every error the API answers, as `application/problem+json` with the contract's stable code,
//! including the ones axum's own extractors would answer in plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use member_login_api::{Problem, ProblemCode, PROBLEM_CONTENT_TYPE};
use serde::de::DeserializeOwned;

/// An error a handler returns; it becomes a problem document. Boxed: errors are the rare
/// path, and a small `Result` keeps the common one cheap.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

impl ApiError {
    pub fn new(code: ProblemCode, title: &str) -> Self {
        Self(Box::new(Problem::new(code, title)))
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        let mut err = Self::new(ProblemCode::RateLimited, "Too many requests");
        err.0.retry_after = Some(seconds);
        err
    }

    /// The one answer for a wrong username, password or code.
    pub fn invalid_credentials() -> Self {
        Self::new(
            ProblemCode::InvalidCredentials,
            "The username, password or code is not right",
        )
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
        let mut response =
            (status, [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)], body).into_response();
        if let Some(seconds) = self.0.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `Json<T>` whose refusals are problem documents: 415 without a JSON content type, 413 when
/// too large, 400 for anything else (syntax, types, missing or unknown fields).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                    ProblemCode::PayloadTooLarge,
                    "The request body is too large",
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                    ProblemCode::UnsupportedMediaType,
                    "The request body must be application/json",
                ),
                _ => ApiError::new(ProblemCode::BadRequest, bad_request_title(&rejection)),
            }),
        }
    }
}

fn bad_request_title(rejection: &JsonRejection) -> &'static str {
    match rejection {
        JsonRejection::JsonSyntaxError(_) => "The request body is not valid JSON",
        JsonRejection::JsonDataError(_) => "The request body does not have the expected fields",
        _ => "The request body could not be read",
    }
}

/// `Path<T>` whose refusals (bad percent-encoding, say) are problem documents.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| ApiError::new(ProblemCode::NotFound, "No such resource"))
    }
}
