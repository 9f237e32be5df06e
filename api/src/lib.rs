//! The login API contract: paths, request and response bodies, and the stable error codes that
//! the Member Login app and the reference server share, so that neither can drift from the other.
//! Serde only: this crate is compiled into the WebAssembly app.

pub mod organization;
pub mod problem;

pub use organization::{LoginMethod, Organization, OrganizationInputError, OrganizationKey};
pub use problem::{Problem, ProblemCode, PROBLEM_CONTENT_TYPE};

/// Every API path starts with this prefix; everything else on the server is the app.
pub const API_PREFIX: &str = "/api/v1";

/// `GET {ORGANIZATIONS_PATH}/{id-or-alias}` answers an [`Organization`] or a [`Problem`].
pub const ORGANIZATIONS_PATH: &str = "/api/v1/organizations";

/// The path that looks up one Organization by its normalised key.
pub fn organization_path(key: &OrganizationKey) -> String {
    format!("{ORGANIZATIONS_PATH}/{}", key.as_str())
}
