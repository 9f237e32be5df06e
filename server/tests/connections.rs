//! Slow and greedy clients, over raw TCP on loopback: connections that send half a request
//! (or nothing) are closed after the header timeout, one address holds at most its cap of
//! connections at once, a request whose body never finishes answers 503 after the request
//! timeout, and normal requests still work throughout.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{relaxed, start_with, TestServer};
use member_login_api::ProblemCode;
use member_login_server::connections::ConnectionLimits;
use member_login_server::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A short header timeout for the tests.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// How much later than due a connection may close (a loaded machine).
const SLACK: Duration = Duration::from_secs(4);

async fn server(limits: ConnectionLimits) -> (TestServer, SocketAddr) {
    let server = start_with(Config {
        dev_mode: true,
        limits: relaxed(),
        connections: limits,
        ..Config::default()
    })
    .await;
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    (server, addr)
}

/// Reads until the server closes the connection, for at most `wait`: what it sent, or `None`
/// if it was still open then. A reset counts as closed.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    match tokio::time::timeout(wait, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(received),
        Err(_) => None,
    }
}

/// Reads one whole answer (its head, then as much body as its Content-Length says), for at
/// most `wait`: the head's lines and the body.
async fn read_answer(stream: &mut TcpStream, wait: Duration) -> (Vec<String>, Vec<u8>) {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let answer = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the whole answer");
            received.extend_from_slice(&buf[..n]);
            let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head: Vec<String> = String::from_utf8_lossy(&received[..end])
                .lines()
                .map(str::to_ascii_lowercase)
                .collect();
            let length: usize = head
                .iter()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            let body = &received[end + 4..];
            if body.len() >= length {
                return (head, body.to_vec());
            }
        }
    };
    tokio::time::timeout(wait, answer)
        .await
        .unwrap_or_else(|_| panic!("no whole answer within {wait:?}"))
}

/// Sends a small complete GET on a kept-alive connection and reads its answer; the status
/// line.
async fn round_trip(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /api/v1/no-such-thing HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let (head, _) = read_answer(stream, Duration::from_secs(10)).await;
    head[0].clone()
}

async fn normal_request_works(server: &TestServer) {
    let resp = server.get("/api/v1/organizations/demo").await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn half_open_requests_are_closed_after_the_header_timeout() {
    let (server, addr) = server(ConnectionLimits {
        header_read_timeout: HEADER_TIMEOUT,
        per_ip: 1000,
        ..ConnectionLimits::default()
    })
    .await;
    // A hundred clients that start a request and stall: mid-line, mid-headers (no blank
    // line), or before sending anything at all.
    let partial: [&[u8]; 3] = [
        b"POST /api/v1/flo",
        b"POST /api/v1/flows HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n",
        b"",
    ];
    let started = Instant::now();
    let mut held = Vec::new();
    for i in 0..100 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(partial[i % partial.len()]).await.unwrap();
        held.push(stream);
    }
    // Meanwhile the server answers others.
    normal_request_works(&server).await;
    for (i, stream) in held.iter_mut().enumerate() {
        let left = (HEADER_TIMEOUT + SLACK).saturating_sub(started.elapsed());
        let closed = read_until_closed(stream, left).await;
        assert!(
            closed.is_some(),
            "half-open connection {i} still open after {:?}",
            started.elapsed()
        );
    }
    let took = started.elapsed();
    assert!(
        took >= HEADER_TIMEOUT - Duration::from_millis(100),
        "closed after {took:?}, before the header timeout"
    );
    // A new client: the first one's kept-alive connection was idle longer than the header
    // timeout too, so the server closed it as well.
    normal_request_works(&server.other_device()).await;
}

#[tokio::test]
async fn an_address_holds_at_most_its_cap_of_connections() {
    const CAP: usize = 8;
    let (server, addr) = server(ConnectionLimits {
        per_ip: CAP,
        ..ConnectionLimits::default()
    })
    .await;
    // CAP kept-alive connections, each known to be admitted: it answered a request.
    let mut kept = Vec::new();
    for _ in 0..CAP {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        assert!(round_trip(&mut stream).await.starts_with("http/1.1 404"));
        kept.push(stream);
    }
    // More from the same address are closed at once, unanswered.
    for i in 0..CAP * 4 {
        let mut extra = TcpStream::connect(addr).await.unwrap();
        let _ = extra
            .write_all(b"GET /api/v1/organizations/demo HTTP/1.1\r\nHost: test\r\n\r\n")
            .await;
        let closed = read_until_closed(&mut extra, Duration::from_secs(2)).await;
        assert_eq!(
            closed.as_deref(),
            Some(&b""[..]),
            "connection {} over the cap was not closed unanswered",
            CAP + i + 1
        );
    }
    // The admitted ones still work.
    for stream in &mut kept {
        assert!(round_trip(stream).await.starts_with("http/1.1 404"));
    }
    // Closing one frees its slot (once the server has seen it close).
    drop(kept.pop());
    let mut admitted = false;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream
            .write_all(b"GET /api/v1/no-such-thing HTTP/1.1\r\nHost: test\r\n\r\n")
            .await;
        let mut first = [0u8; 12];
        if stream.read_exact(&mut first).await.is_ok() && first.starts_with(b"HTTP/1.1 404") {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(admitted, "a freed slot was never given to a new connection");
    // The reqwest client's connections count too: end the raw ones first.
    drop(kept);
    tokio::time::sleep(Duration::from_millis(200)).await;
    normal_request_works(&server).await;
}

#[tokio::test]
async fn a_request_whose_body_never_finishes_answers_503_after_the_request_timeout() {
    let (server, addr) = server(ConnectionLimits {
        request_timeout: Duration::from_secs(1),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/flows HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\nx-member-login: 1\r\norigin: {}\r\n\r\n{{\"organization\"",
        server.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (head, body) = read_answer(&mut stream, Duration::from_secs(1) + SLACK).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "answered after {:?}, before the request timeout",
        started.elapsed()
    );
    assert!(head[0].starts_with("http/1.1 503"), "{head:?}");
    assert!(
        head.iter().any(|l| l.starts_with("retry-after:")),
        "{head:?}"
    );
    assert!(
        head.contains(&"content-type: application/problem+json".to_owned()),
        "{head:?}"
    );
    let problem: member_login_api::Problem = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem.code, ProblemCode::ServiceBusy);
    assert_eq!(problem.status, 503);
    assert!(problem.retry_after.is_some());
    normal_request_works(&server).await;
}
