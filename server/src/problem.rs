//! The request extractors whose refusals are problem documents (see `error.rs`) rather than
//! the plain text axum's own would answer.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::Json;
use member_login_api::ProblemCode;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// `Json<T>` whose refusals are problem documents: 415 without a JSON content type, 413 when
/// too large, 400 for anything else (syntax, types, missing or unknown fields, and any body
/// that is not a JSON object: serde would otherwise read a struct from an array too).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match Json::<serde_json::Map<String, serde_json::Value>>::from_request(req, state).await {
            Ok(Json(object)) => serde_json::from_value(serde_json::Value::Object(object))
                .map(Self)
                .map_err(|_| {
                    Error::new(
                        ProblemCode::BadRequest,
                        "The request body does not have the expected fields",
                    )
                }),
            Err(rejection) => Err(match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Error::new(
                    ProblemCode::PayloadTooLarge,
                    "The request body is too large",
                ),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::new(
                    ProblemCode::UnsupportedMediaType,
                    "The request body must be application/json",
                ),
                _ => Error::new(ProblemCode::BadRequest, bad_request_title(&rejection)),
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
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| Error::new(ProblemCode::NotFound, "No such resource"))
    }
}
