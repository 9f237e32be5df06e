//! The server over HTTPS on loopback, with a self-signed certificate made at test start: the
//! API answers, the allowed origins are the https ones, and bad certificate files stop the
//! server with a message that names them.

mod common;

use std::path::Path;

use common::{expect_problem, relaxed};
use member_login_api::{ProblemCode, CSRF_HEADER};
use member_login_server::tls::TlsFiles;
use member_login_server::Config;
use serde_json::json;

/// Writes a self-signed certificate for 127.0.0.1 and localhost, and its key, into `dir`;
/// returns the files and the certificate for a client to trust.
fn self_signed(dir: &Path) -> (TlsFiles, reqwest::Certificate) {
    let made = rcgen::generate_simple_self_signed(["127.0.0.1".into(), "localhost".into()])
        .expect("a self-signed certificate");
    let cert_pem = made.cert.pem();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, &cert_pem).unwrap();
    std::fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
    let trusted = reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap();
    (files, trusted)
}

async fn start_tls() -> (common::TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (files, trusted) = self_signed(dir.path());
    let mut server = common::start_with(Config {
        dev_mode: true,
        limits: relaxed(),
        tls: Some(files),
        ..Config::default()
    })
    .await;
    // Verify the certificate for real: trusted as a root, checked against 127.0.0.1.
    server.client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(trusted)
        .cookie_store(true)
        .build()
        .unwrap();
    (server, dir)
}

#[tokio::test]
async fn serves_the_api_over_https() {
    let (server, _dir) = start_tls().await;
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let resp = server.get("/api/v1/organizations/demo").await;
    assert_eq!(resp.status(), 200);
    let org: member_login_api::Organization = resp.json().await.unwrap();
    assert_eq!(org.alias, "demo");
}

#[tokio::test]
async fn allows_the_https_origins_and_refuses_the_http_one() {
    let (server, _dir) = start_tls().await;
    let port = server.base.rsplit(':').next().unwrap();
    let body = json!({"organization": "demo", "username": "alice"});
    let create_flow = |origin: String| {
        server
            .client
            .post(server.url("/api/v1/flows"))
            .header(CSRF_HEADER, "1")
            .header("origin", origin)
            .json(&body)
            .send()
    };
    // Both spellings of loopback are this server.
    for origin in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        let resp = create_flow(origin.clone()).await.unwrap();
        assert_eq!(resp.status(), 201, "origin {origin}");
    }
    let http = create_flow(format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    expect_problem(http, 403, ProblemCode::CsrfRejected).await;
}

#[tokio::test]
async fn bad_certificate_files_stop_the_server_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = self_signed(dir.path());
    let missing = TlsFiles {
        cert: dir.path().join("missing.pem"),
        key: files.key.clone(),
    };
    // The key where the certificate should be, and the other way round.
    let swapped = TlsFiles {
        cert: files.key.clone(),
        key: files.cert.clone(),
    };
    for (tls, expected) in [
        (missing, "cannot read the TLS certificate"),
        (swapped, "holds no PEM certificate"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let db = member_login_server::store::open_sqlite(&data.path().join("test.sqlite3"))
            .await
            .unwrap();
        let config = Config {
            tls: Some(tls.clone()),
            ..Config::default()
        };
        let err = member_login_server::serve(db, config, "127.0.0.1:0".parse().unwrap(), |_| {
            panic!("the server must not listen with {tls:?}")
        })
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(message.contains(tls.cert.to_str().unwrap()), "{message}");
    }
}
