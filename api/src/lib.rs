//! The login API contract: paths, request and response bodies, and the stable error codes that
//! the Member Login app and the reference server share, so that neither can drift from the other.
//! Serde only: this crate is compiled into the WebAssembly app.

pub mod branding;
pub mod flow;
pub mod handoff;
pub mod organization;
pub mod passkey;
pub mod problem;
pub mod session;

pub use branding::accent_passes_aa;
pub use handoff::{return_target_allowed, UrlError};
pub use organization::{LoginMethod, Organization, OrganizationInputError, OrganizationKey};
pub use problem::{Problem, ProblemCode, PROBLEM_CONTENT_TYPE};

/// Every API path starts with this prefix; everything else on the server is the app.
pub const API_PREFIX: &str = "/api/v1";

/// `GET {ORGANIZATIONS_PATH}/{id-or-alias}` answers an [`Organization`] or a [`Problem`].
pub const ORGANIZATIONS_PATH: &str = "/api/v1/organizations";

/// `POST` creates a login flow; `{FLOWS_PATH}/{id}` and its step paths below act on one.
pub const FLOWS_PATH: &str = "/api/v1/flows";

/// `GET` the current session; `DELETE` logs out.
pub const SESSION_PATH: &str = "/api/v1/session";

/// State-changing calls must carry this header (with any value) — a cross-site form cannot.
pub const CSRF_HEADER: &str = "x-member-login";

/// The session cookie. `__Host-`: Secure, Path=/, no Domain, so no other host can set it.
pub const SESSION_COOKIE: &str = "__Host-member-login-session";

/// Email codes have this many digits.
pub const CODE_LENGTH: usize = 6;

/// The path of one step of flow `id`: `step` is `""` (the flow itself), `"username"`, `"code"`,
/// `"code/verify"`, `"password"`, `"second-factor"`, `"passkey/options"` or `"passkey"`.
pub fn flow_path(id: &str, step: &str) -> String {
    if step.is_empty() {
        format!("{FLOWS_PATH}/{id}")
    } else {
        format!("{FLOWS_PATH}/{id}/{step}")
    }
}

/// The path that looks up one Organization by its normalised key.
pub fn organization_path(key: &OrganizationKey) -> String {
    format!("{ORGANIZATIONS_PATH}/{}", key.as_str())
}
