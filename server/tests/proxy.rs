//! Behind a reverse proxy: the per-IP rate limit keys on the client address that a trusted
//! proxy names in `Forwarded` or `X-Forwarded-For`; from any other peer those headers are
//! ignored, so a client cannot pick its own address.

mod common;

use common::{expect_problem, relaxed, start_with, TestServer};
use member_login_api::ProblemCode;
use member_login_server::client_ip::{parse_list, TrustedProxies};
use member_login_server::limits::Limits;
use member_login_server::Config;
use reqwest::{Method, Response};
use serde_json::json;

/// Three state-changing calls per client address and minute; the test client connects from
/// 127.0.0.1, trusted as a proxy when `trusted` is given.
async fn server(trusted: &str) -> TestServer {
    start_with(Config {
        dev_mode: true,
        limits: Limits {
            per_ip: 3,
            ..relaxed()
        },
        trusted_proxies: TrustedProxies::new(parse_list(trusted).unwrap()),
        ..Config::default()
    })
    .await
}

async fn start_flow(server: &TestServer, header: (&str, &str)) -> Response {
    server
        .request(Method::POST, "/api/v1/flows")
        .header(header.0, header.1)
        .json(&json!({"organization": "demo"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_change_nothing() {
    // Only some other network is trusted: 127.0.0.1 is an ordinary client.
    let server = server("10.0.0.0/8").await;
    for forged in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let resp = start_flow(&server, ("x-forwarded-for", forged)).await;
        assert_eq!(resp.status(), 201);
    }
    // A fourth address, forged either way, is still the same client over its limit.
    for header in [
        ("x-forwarded-for", "203.0.113.4"),
        ("forwarded", "for=203.0.113.5"),
    ] {
        let resp = start_flow(&server, header).await;
        expect_problem(resp, 429, ProblemCode::RateLimited).await;
    }
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_each_client_has_its_own_limit() {
    let server = server("127.0.0.1/32, ::1").await;
    for _ in 0..3 {
        let resp = start_flow(&server, ("x-forwarded-for", "203.0.113.1")).await;
        assert_eq!(resp.status(), 201);
    }
    let resp = start_flow(&server, ("x-forwarded-for", "203.0.113.1")).await;
    expect_problem(resp, 429, ProblemCode::RateLimited).await;
    // The same client named the standard way is the same client.
    let resp = start_flow(&server, ("forwarded", "for=203.0.113.1;proto=https")).await;
    expect_problem(resp, 429, ProblemCode::RateLimited).await;
    // Another client behind the same proxy is not limited by the first.
    let resp = start_flow(&server, ("forwarded", "for=\"[2001:db8::7]:4711\"")).await;
    assert_eq!(resp.status(), 201);
    // A client cannot escape its limit by prepending an address: the proxy's own entry, the
    // rightmost one, is what counts.
    let resp = start_flow(&server, ("x-forwarded-for", "198.51.100.9, 203.0.113.1")).await;
    expect_problem(resp, 429, ProblemCode::RateLimited).await;
}

#[test]
fn a_bad_trusted_proxy_setting_is_refused_at_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_member-login-server"))
        .args([
            "serve",
            "--trusted-proxy",
            "10.0.0.0/33",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10.0.0.0/33"), "{err}");
}
