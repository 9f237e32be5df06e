//! The reference login API server for Member Login: the login API over HTTP, backed by one
//! SQLite file or a PostgreSQL database shared by several replicas, and (optionally) the built
//! app's `dist/` on the same origin.

pub mod account;
pub mod client_ip;
pub mod clock;
pub mod connections;
pub mod demo;
pub mod error;
pub mod guard;
pub mod http;
pub mod limits;
pub mod login;
pub mod mail;
pub mod mail_text;
pub mod model;
pub mod passkeys;
pub mod problem;
pub mod requirements;
pub mod secrets;
pub mod session;
pub mod state;
pub mod static_files;
pub mod store;
pub mod tls;
pub mod totp;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::{middleware, Router};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};

use crate::client_ip::TrustedProxies;
use crate::clock::Clock;
use crate::connections::{ConnectionLimits, PerIpAcceptor};
use crate::error::Result;
use crate::limits::Limits;
use crate::mail::{MailQueue, Mailer, SmtpConfig};
use crate::secrets::PasswordChecker;
use crate::state::{AppState, Shared};
use crate::store::Db;
use crate::tls::TlsFiles;

/// What a running server needs to know.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where the app's built files are; `None` serves the API only.
    pub dist: Option<PathBuf>,
    /// The origin members reach this server at (`https://login.example.com`); by default
    /// the scheme (see [`Config::scheme`]) and the address it listens on.
    pub public_origin: Option<String>,
    /// Where the app is, for links in emails; by default the public origin.
    pub app_url: Option<String>,
    /// Origins of an app hosted elsewhere that may call the API (CORS, with credentials).
    pub cors_origins: Vec<String>,
    /// The WebAuthn relying party ID of passkeys; by default the app URL's host (`localhost`
    /// for an IP address). See [`passkeys::relying_party`].
    pub passkey_rp_id: Option<String>,
    /// Answer the dev mailbox endpoint (never in production).
    pub dev_mode: bool,
    /// Send email through this SMTP server; otherwise into the outbox and the terminal.
    pub smtp: Option<SmtpConfig>,
    pub limits: Limits,
    /// Serve HTTPS with these files; otherwise plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client's address.
    pub trusted_proxies: TrustedProxies,
    /// The system clock, or a manual one in tests.
    pub clock: Clock,
    /// Timeouts for a request's head and the whole request, and the cap on connections per
    /// client address.
    pub connections: ConnectionLimits,
}

impl Config {
    /// The scheme members reach this server with: `https` when it serves TLS.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// The whole HTTP application for a server reachable at `local`.
pub fn app(db: Db, config: &Config, local: SocketAddr) -> Result<Router> {
    let scheme = config.scheme();
    let own = config
        .public_origin
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{local}"))
        .trim_end_matches('/')
        .to_owned();
    let mut allowed_origins = vec![own.clone()];
    if local.ip().is_loopback() && config.public_origin.is_none() {
        // Both spellings of this machine reach the same server.
        allowed_origins.push(format!("{scheme}://localhost:{}", local.port()));
        allowed_origins.push(format!("{scheme}://127.0.0.1:{}", local.port()));
    }
    allowed_origins.extend(config.cors_origins.iter().cloned());
    let app_url = config
        .app_url
        .clone()
        .unwrap_or(own)
        .trim_end_matches('/')
        .to_owned();
    let webauthn =
        passkeys::relying_party(&app_url, config.passkey_rp_id.as_deref(), &allowed_origins)?;
    let mail = MailQueue::new(db.clone(), config.clock.clone());
    mail.spawn_worker(Mailer::new(config.smtp.as_ref())?);
    spawn_clean_up(db.clone(), config.clock.clone());
    let state = AppState::new(Shared {
        db,
        clock: config.clock.clone(),
        mail,
        limits: config.limits,
        passwords: PasswordChecker::default(),
        allowed_origins,
        trusted_proxies: config.trusted_proxies.clone(),
        app_url,
        webauthn,
        dev_mode: config.dev_mode,
    });
    Ok(http::router(state, config))
}

/// Removes expired flows, sessions, old emails and counters now and every ten minutes, so no
/// table grows without bound.
fn spawn_clean_up(db: Db, clock: Clock) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match db.purge(clock.now()).await {
                Ok(purged) => tracing::debug!(?purged, "clean-up"),
                Err(err) => tracing::error!(%err, "clean-up"),
            }
        }
    });
}

/// Binds `addr`, then serves (HTTPS when `config.tls` is set) until the process is stopped.
/// Calls `on_bound` with the bound address first, so callers that ask for port 0 learn the
/// real one.
pub async fn serve(
    db: Db,
    config: Config,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<()> {
    // Load the certificate, and make sure the database takes writes, before binding: either
    // problem stops the server before it listens.
    let tls = config.tls.as_ref().map(TlsFiles::load).transpose()?;
    db.check_writable(config.clock.now()).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let limits = config.connections;
    let app = app(db, &config, local)?.layer(middleware::from_fn_with_state(
        limits.request_timeout,
        connections::request_timeout,
    ));
    on_bound(local);
    // The guard rate-limits by peer address, so both ways carry it as `ConnectInfo`.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    // Both ways count connections per peer address before anything else (the TLS handshake
    // included), and bound the time to send a request's head.
    let per_ip = PerIpAcceptor::new(limits.per_ip, config.trusted_proxies.clone());
    let server = axum_server::from_tcp(listener.into_std()?)?;
    match tls {
        None => {
            connections::configure(server.acceptor(per_ip), &limits)
                .serve(service)
                .await?
        }
        Some(tls) => {
            let tls = RustlsAcceptor::new(RustlsConfig::from_config(tls))
                .handshake_timeout(limits.header_read_timeout)
                .acceptor(per_ip);
            connections::configure(server.acceptor(tls), &limits)
                .serve(service)
                .await?
        }
    }
    Ok(())
}
