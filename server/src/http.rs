//! The HTTP surface: API routes under `/api/v1`, then the app's files for everything else.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use member_login_api::{Organization, OrganizationKey, ProblemCode, API_PREFIX};

use crate::db::Db;
use crate::problem::ApiError;
use crate::{static_files, Config};

pub fn router(db: Db, config: &Config) -> Router {
    let api = Router::new()
        .route("/organizations/{key}", get(find_organization))
        .route("/health", get(|| async { "ok" }))
        .fallback(|| async { ApiError::new(ProblemCode::NotFound, "No such API endpoint") })
        .with_state(db);
    let app = Router::new().nest(API_PREFIX, api);
    match &config.dist {
        Some(dist) => static_files::serve_app(app, dist),
        None => app,
    }
}

/// `GET /api/v1/organizations/{id-or-alias}`. Whether an Organization exists is no secret: a
/// member needs to know they typed it wrong.
async fn find_organization(
    State(db): State<Db>,
    Path(key): Path<String>,
) -> Result<Json<Organization>, ApiError> {
    let key = OrganizationKey::parse(&key).map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidOrganization,
            "An Organization ID is a UUID; an alias is 2 to 32 lower-case letters",
        )
    })?;
    db.find_organization(&key)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(ProblemCode::OrganizationNotFound, "Organization not found"))
}
