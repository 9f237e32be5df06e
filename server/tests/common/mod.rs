//! A real server on loopback with its own temporary SQLite file, and a client that behaves as
//! the app does (custom header, Origin, a cookie jar).
#![allow(dead_code)] // each test binary uses its own part of the harness

use std::net::SocketAddr;
use std::time::Duration;

use member_login_api::flow::Flow;
use member_login_api::{Problem, ProblemCode, CSRF_HEADER, PROBLEM_CONTENT_TYPE};
use member_login_server::db::Db;
use member_login_server::limits::Limits;
use member_login_server::{demo, Config};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

pub struct TestServer {
    pub base: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub data: tempfile::TempDir,
}

/// Limits high enough that only the tests about limits meet them.
pub fn relaxed() -> Limits {
    Limits {
        per_ip: 10_000,
        per_member: 10_000,
        ..Limits::default()
    }
}

pub async fn start() -> TestServer {
    start_with(Config {
        dev_mode: true,
        limits: relaxed(),
        ..Config::default()
    })
    .await
}

pub async fn start_with(config: Config) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let db = Db::open(&data.path().join("sub/dir/test.sqlite3"))
        .await
        .unwrap();
    demo::seed(&db).await.unwrap();
    let scheme = config.scheme();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    tokio::spawn(member_login_server::serve(
        db.clone(),
        config,
        addr,
        move |a| tx.send(a).unwrap(),
    ));
    let addr = rx.await.unwrap();
    TestServer {
        base: format!("{scheme}://{addr}"),
        db,
        client: new_client(),
        data,
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request as the app sends it: custom header and this server's Origin.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header(CSRF_HEADER, "1")
            .header("origin", &self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A new flow for the demo Organization, at the method step for `username`.
    pub async fn flow_for(&self, username: &str) -> Flow {
        let resp = self
            .post(
                "/api/v1/flows",
                json!({"organization": "demo", "username": username}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    pub async fn send_code(&self, flow: &Flow) -> Response {
        self.post(&format!("/api/v1/flows/{}/code", flow.id), json!({}))
            .await
    }

    pub async fn verify(&self, flow: &Flow, code: &str) -> Response {
        self.post(
            &format!("/api/v1/flows/{}/code/verify", flow.id),
            json!({ "code": code }),
        )
        .await
    }

    pub async fn password(&self, flow: &Flow, password: &str) -> Response {
        self.post(
            &format!("/api/v1/flows/{}/password", flow.id),
            json!({ "password": password }),
        )
        .await
    }

    /// The emails in the dev mailbox for `to`, newest first.
    pub async fn mailbox(&self, to: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/dev/mailbox?to={to}"))
            .await
            .json()
            .await
            .unwrap()
    }

    /// Waits for the `n`th email to `to` (emails are sent in the background) and returns the
    /// code in it.
    pub async fn code_number(&self, to: &str, n: usize) -> String {
        for _ in 0..100 {
            let mails = self.mailbox(to).await;
            if mails.len() >= n {
                return code_in(mails[mails.len() - n]["body"].as_str().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("email {n} to {to} never arrived");
    }

    /// Runs SQL against the server's database, for cases no API call can set up in a test's
    /// time (an expired code or flow).
    pub async fn sql(&self, statement: &str) {
        sqlx::query(statement)
            .execute(self.db.pool())
            .await
            .unwrap();
    }
}

/// The 6-digit code on its own line of an email body.
pub fn code_in(body: &str) -> String {
    body.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned()
}

/// Asserts a problem document with this status and code, and returns it.
pub async fn expect_problem(resp: Response, status: u16, code: ProblemCode) -> Problem {
    assert_eq!(resp.status().as_u16(), status, "status");
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        PROBLEM_CONTENT_TYPE
    );
    let problem: Problem = resp.json().await.unwrap();
    assert_eq!(problem.code, code);
    assert_eq!(problem.status, status);
    problem
}
