//! The HTTP surface: API routes under `/api/v1`, then the app's files for everything else.

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, patch, post};
use axum::{middleware, Json, Router};
use member_login_api::{Organization, OrganizationKey, ProblemCode, API_PREFIX, CSRF_HEADER};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::Error;
use crate::problem::ApiPath;
use crate::state::AppState;
use crate::store::StoredEmail;
use crate::{account, guard, login, passkeys, session, static_files, Config};

/// Request bodies are small JSON documents; anything larger is refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// The OpenAPI 3.1 document of this API (docs/openapi.json).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

pub fn router(state: AppState, config: &Config) -> Router {
    let mut api = Router::new()
        .route("/organizations/{key}", get(find_organization))
        .route("/flows", post(login::create))
        .route("/flows/{id}", get(login::get))
        .route("/flows/{id}/username", post(login::username))
        .route("/flows/{id}/code", post(login::send_code))
        .route("/flows/{id}/code/verify", post(login::verify_code))
        .route("/flows/{id}/password", post(login::password))
        .route("/flows/{id}/second-factor", post(login::second_factor))
        .route("/flows/{id}/passkey/options", post(login::passkey::options))
        .route("/flows/{id}/passkey", post(login::passkey::login))
        .route("/session", get(session::current).delete(session::logout))
        .route("/session/password", post(account::change_password))
        .route("/session/mfa", post(account::start_mfa))
        .route("/session/mfa/verify", post(account::verify_mfa))
        .route("/session/passkeys", get(passkeys::list).post(passkeys::add))
        .route("/session/passkeys/options", post(passkeys::options))
        .route(
            "/session/passkeys/{id}",
            patch(passkeys::rename).delete(passkeys::remove),
        )
        .route("/dev/mailbox", get(dev_mailbox))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        // Readiness: the database takes writes (what a load balancer routes by).
        .route("/health", get(ready))
        .route("/health/ready", get(ready))
        // Liveness: the process answers (what a supervisor restarts by).
        .route("/health/live", get(|| async { "ok" }))
        .fallback(|| async { Error::new(ProblemCode::NotFound, "No such API endpoint") })
        .method_not_allowed_fallback(|| async {
            Error::new(
                ProblemCode::MethodNotAllowed,
                "This endpoint does not take this method",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    if !config.cors_origins.is_empty() {
        api = api.layer(cors(&config.cors_origins));
    }
    let app = Router::new()
        .nest(API_PREFIX, api.with_state(state))
        // A request with no `/api/v1` route and no app to serve is still a problem document.
        .fallback(|| async { Error::new(ProblemCode::NotFound, "Not found") });
    match &config.dist {
        Some(dist) => static_files::serve_app(app, dist),
        None => app,
    }
}

/// Lets an app hosted on another origin call the API with credentials.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, HeaderName::from_static(CSRF_HEADER)])
        .expose_headers([header::RETRY_AFTER])
}

/// `GET /api/v1/organizations/{id-or-alias}`. Whether an Organization exists is no secret: a
/// member needs to know they typed it wrong.
async fn find_organization(
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Organization>, Error> {
    let key = OrganizationKey::parse(&key).map_err(|_| {
        Error::new(
            ProblemCode::InvalidOrganization,
            "An Organization ID is a UUID; an alias is 2 to 32 lower-case letters",
        )
    })?;
    state
        .db
        .find_organization(&key)
        .await?
        .map(Json)
        .ok_or_else(|| Error::new(ProblemCode::OrganizationNotFound, "Organization not found"))
}

/// `GET /api/v1/health` (and `/health/ready`): `ok` when the database takes a write; 503
/// otherwise (a read-only, full or corrupted data file, an unreachable PostgreSQL).
async fn ready(State(state): State<AppState>) -> Result<&'static str, Error> {
    match state.db.check_writable(state.clock.now()).await {
        Ok(()) => Ok("ok"),
        Err(err) => {
            tracing::error!(%err, "readiness check");
            Err(Error::not_ready())
        }
    }
}

#[derive(serde::Deserialize)]
struct MailboxQuery {
    to: Option<String>,
}

/// `GET /api/v1/dev/mailbox?to=…`: the outbox, in dev mode only. Tests read codes here.
async fn dev_mailbox(
    State(state): State<AppState>,
    query: Result<Query<MailboxQuery>, QueryRejection>,
) -> Result<Json<Vec<StoredEmail>>, Error> {
    if !state.dev_mode {
        return Err(Error::new(ProblemCode::NotFound, "No such API endpoint"));
    }
    let Query(query) =
        query.map_err(|_| Error::new(ProblemCode::BadRequest, "Use ?to=<email address>"))?;
    let mut emails = state.db.emails(query.to.as_deref()).await?;
    // The stand-ins queued for unknown usernames are never delivered: not mail to show.
    emails.retain(|email| !email.recipient.is_empty());
    Ok(Json(emails))
}
