//! What one client may hold of the server: at most so many connections at once from one
//! address, a bound on sending a request's head, and one on the whole request. A client that
//! opens connections and sends half a request, or nothing, no longer keeps them for ever.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::accept::Accept;
use axum_server::Server;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::client_ip::TrustedProxies;
use crate::error::Error;
use crate::secrets::BUSY_RETRY_AFTER;

/// The limits on connections and requests (`--header-read-timeout`, `--request-timeout`,
/// `--max-connections-per-ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's line and headers: on a new connection from
    /// when it is accepted (after the TLS handshake, which has as long again), and on a kept
    /// HTTP/1 connection from when the previous answer went out, so it is also how long an
    /// idle one stays open. (An HTTP/2 connection past its first request has no such bound;
    /// the cap per address bounds how many one client keeps.)
    pub header_read_timeout: Duration,
    /// How long a request may take, from its head to the answer, its body included; then it
    /// answers 503 `service_busy`.
    pub request_timeout: Duration,
    /// Connections one peer address may hold open at once; more are closed as they arrive.
    /// Trusted proxies (`--trusted-proxy`) carry many clients and have no cap.
    pub per_ip: usize,
}

impl ConnectionLimits {
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_PER_IP: usize = 64;
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            per_ip: Self::DEFAULT_PER_IP,
        }
    }
}

/// Applies the head timeouts to a server: hyper's header read timeout (HTTP/1) and, for a
/// new connection, a bound on its first request that also covers the protocol detection
/// before hyper reads any head (a client that sends nothing). Failed accepts are logged.
pub fn configure<A>(
    mut server: Server<SocketAddr, A>,
    limits: &ConnectionLimits,
) -> Server<SocketAddr, A> {
    server
        .http_builder()
        .http1()
        .header_read_timeout(limits.header_read_timeout);
    server
        .first_request_timeout(limits.header_read_timeout)
        .accept_error_handler(|peer, err| match peer {
            None => tracing::warn!(%err, "cannot accept a connection"),
            Some(peer) => tracing::debug!(%peer, %err, "connection closed before a request"),
        })
}

/// Answers 503 `service_busy` (with `Retry-After`) for a request not answered within
/// `limit`. The body is read inside, so a body sent slowly runs out of time too.
pub async fn request_timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, ?limit, "request timed out");
            Error::Busy {
                retry_after: BUSY_RETRY_AFTER,
            }
            .into_response()
        }
    }
}

/// Open connections per peer address.
type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// An acceptor that counts open connections per peer address and closes a new one at once
/// when its address holds `per_ip` already. Runs first, before any TLS handshake (as the
/// inner acceptor of `RustlsAcceptor`).
#[derive(Clone)]
pub struct PerIpAcceptor {
    open: Counts,
    per_ip: usize,
    exempt: TrustedProxies,
}

impl PerIpAcceptor {
    /// At most `per_ip` connections per address; none for the `exempt` proxies.
    pub fn new(per_ip: usize, exempt: TrustedProxies) -> Self {
        Self {
            open: Counts::default(),
            per_ip: per_ip.max(1),
            exempt,
        }
    }

    /// A slot for one more connection from `ip`, or `None` when it holds its cap.
    fn admit(&self, ip: IpAddr) -> Option<Option<Slot>> {
        let ip = ip.to_canonical();
        if self.exempt.is_trusted(ip) {
            return Some(None);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_default();
        if *count >= self.per_ip {
            return None;
        }
        *count += 1;
        Some(Some(Slot {
            ip,
            open: self.open.clone(),
        }))
    }

    /// Connections open from `ip` now.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip.to_canonical()).copied().unwrap_or(0)
    }
}

impl<S> Accept<TcpStream, S> for PerIpAcceptor {
    type Stream = Counted<TcpStream>;
    type Service = S;
    type Future = Ready<io::Result<(Self::Stream, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream.peer_addr().and_then(|peer| {
            self.admit(peer.ip()).ok_or_else(|| {
                io::Error::other(format!(
                    "{} holds {} connections already",
                    peer.ip(),
                    self.per_ip
                ))
            })
        });
        // Dropping a refused stream closes it.
        ready(admitted.map(|slot| {
            (
                Counted {
                    stream,
                    _slot: slot,
                },
                service,
            )
        }))
    }
}

/// One open connection of an address; counted down when dropped.
struct Slot {
    ip: IpAddr,
    open: Counts,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A stream that holds its address's slot (if it has one) while it is open.
pub struct Counted<S> {
    stream: S,
    _slot: Option<Slot>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_cap_and_closing_frees_a_slot() {
        let proxy: crate::client_ip::Cidr = "10.0.0.1/32".parse().unwrap();
        let acceptor = PerIpAcceptor::new(2, TrustedProxies::new(vec![proxy]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = acceptor.admit(a).unwrap();
        let second = acceptor.admit(a).unwrap();
        assert!(acceptor.admit(a).is_none(), "a third from one address");
        // The same address written as IPv4-mapped IPv6 is the same client.
        assert!(acceptor
            .admit("::ffff:192.0.2.1".parse().unwrap())
            .is_none());
        assert!(acceptor.admit(b).is_some(), "another address has its own");
        drop(first);
        assert_eq!(acceptor.open_from(a), 1);
        assert!(acceptor.admit(a).is_some());
        drop(second);
        // A trusted proxy is not counted.
        let through_proxy: Vec<_> = (0..5).map(|_| acceptor.admit(proxy.network())).collect();
        assert!(through_proxy.iter().all(Option::is_some));
        assert_eq!(acceptor.open_from(proxy.network()), 0);
    }
}
