//! What every request handler shares.

use std::sync::Arc;

use crate::client_ip::TrustedProxies;
use crate::clock::Clock;
use crate::error::Result;
use crate::limits::{self, Limits};
use crate::mail::MailQueue;
use crate::secrets::PasswordChecker;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub clock: Clock,
    pub mail: MailQueue,
    pub limits: Limits,
    pub passwords: PasswordChecker,
    /// Origins whose pages may make state-changing calls: this server's own, plus the CORS
    /// allowlist for an app hosted elsewhere.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client.
    pub trusted_proxies: TrustedProxies,
    /// Where the app is, for links in emails (no trailing slash).
    pub app_url: String,
    /// The WebAuthn relying party passkeys are checked against; `None` when no app origin is
    /// on the relying party ID's domain (passkeys then cannot be used).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Whether the dev mailbox endpoint answers.
    pub dev_mode: bool,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    /// Counts one request for `key` against `limit` in the server's rate-limit window; 429
    /// when over it.
    pub async fn limit(&self, key: &str, limit: u32) -> Result<()> {
        limits::count(
            self.db.as_ref(),
            key,
            limit,
            self.limits.window,
            self.clock.now(),
        )
        .await
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
