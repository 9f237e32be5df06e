//! What every request handler shares.

use std::sync::Arc;

use crate::db::Db;
use crate::limits::{Limits, RateLimiter};
use crate::mail::Mailer;
use crate::secrets::PasswordChecker;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub mailer: Mailer,
    pub limits: Limits,
    pub limiter: RateLimiter,
    pub passwords: PasswordChecker,
    /// Origins whose pages may make state-changing calls: this server's own, plus the CORS
    /// allowlist for an app hosted elsewhere.
    pub allowed_origins: Vec<String>,
    /// Where the app is, for links in emails (no trailing slash).
    pub app_url: String,
    /// Whether the dev mailbox endpoint answers.
    pub dev_mode: bool,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
