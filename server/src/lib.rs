//! The reference login API server for Member Login: the login API over HTTP, backed by one
//! SQLite file, and (optionally) the built app's `dist/` on the same origin.

pub mod db;
pub mod demo;
pub mod http;
pub mod problem;
pub mod static_files;

use std::net::SocketAddr;
use std::path::PathBuf;

/// What a running server needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the app's built files are; `None` serves the API only.
    pub dist: Option<PathBuf>,
}

/// Binds `addr`, then serves until the process is stopped. Returns the bound address through
/// `on_bound` first, so callers that ask for port 0 learn the real one.
pub async fn serve(
    db: db::Db,
    config: Config,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    axum::serve(
        listener,
        http::router(db, &config).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
