//! A real server on loopback with its own temporary SQLite file, and a client that behaves as
//! the app does (custom header, Origin, a cookie jar).
#![allow(dead_code)] // each test binary uses its own part of the harness

pub mod authenticator;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use member_login_api::flow::Flow;
use member_login_api::{Problem, ProblemCode, CSRF_HEADER, PROBLEM_CONTENT_TYPE};
use member_login_server::clock::Clock;
use member_login_server::limits::Limits;
use member_login_server::store::{self, Db, SettingsChange};
use member_login_server::{demo, Config};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// A fresh, empty database for one test, on the backend under test: SQLite (the default) or,
/// with `MEMBER_LOGIN_TEST_BACKEND=postgres`, a new database in the PostgreSQL cluster that
/// `MEMBER_LOGIN_TEST_POSTGRES` names (scripts/test.sh starts one).
pub struct TestDatabase {
    pub url: String,
    /// The SQLite file's folder, removed when the last user is gone.
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var("MEMBER_LOGIN_TEST_BACKEND").as_deref() {
            Err(_) | Ok("sqlite") => Self::sqlite(),
            Ok("postgres") => Self::postgres().await,
            Ok(other) => panic!("MEMBER_LOGIN_TEST_BACKEND={other:?}: use sqlite or postgres"),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dir/test.sqlite3");
        Self {
            url: format!("sqlite://{}", path.display()),
            _dir: Some(dir),
        }
    }

    /// A new database in the test cluster (left for the cluster's removal at the end of the
    /// test command).
    pub async fn postgres() -> Self {
        let admin = std::env::var("MEMBER_LOGIN_TEST_POSTGRES").expect(
            "MEMBER_LOGIN_TEST_POSTGRES must name a PostgreSQL server to test against \
             (scripts/test.sh starts one and sets it)",
        );
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let (server, _) = admin.rsplit_once('/').unwrap();
        Self {
            url: format!("{server}/{name}"),
            _dir: None,
        }
    }

    /// Runs a query that answers one integer (or NULL) straight on the database, for what no
    /// store call shows.
    pub async fn query_i64(&self, query: &str) -> Option<i64> {
        use sqlx::Connection;
        match self.url.strip_prefix("sqlite://") {
            Some(path) => {
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{path}"))
                    .await
                    .unwrap();
                sqlx::query_scalar(query)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
            None => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(query)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
        }
    }

    pub async fn open(&self) -> Db {
        store::open(&self.url).await.unwrap()
    }
}

pub struct TestServer {
    pub base: String,
    pub db: Db,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub database: Arc<TestDatabase>,
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

/// The server on a fresh database with the demo Organization, its clock standing still at the
/// real time until a test moves it.
pub async fn start_with(mut config: Config) -> TestServer {
    let database = TestDatabase::new().await;
    let db = database.open().await;
    demo::seed(&db).await.unwrap();
    let clock = Clock::manual(Clock::system().now());
    config.clock = clock.clone();
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
        clock,
        client: new_client(),
        database: Arc::new(database),
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

    /// The same server, with another client (another device).
    pub fn other_device(&self) -> TestServer {
        TestServer {
            base: self.base.clone(),
            db: self.db.clone(),
            clock: self.clock.clone(),
            client: new_client(),
            database: self.database.clone(),
        }
    }

    /// Changes the demo Organization's settings, as its administrator would.
    pub async fn settings(&self, change: SettingsChange) {
        self.db
            .update_organization_settings(demo::ORGANIZATION_ID, &change)
            .await
            .unwrap();
    }

    /// Moves the server's clock past the resend cooldown of `username`, if one runs.
    pub async fn wait_out_cooldown(&self, username: &str) {
        let sends = self
            .db
            .code_sends(demo::ORGANIZATION_ID, username)
            .await
            .unwrap();
        if let Some(sends) = sends {
            let wait = sends.available_at - self.clock.now();
            if wait > 0 {
                self.clock.advance(wait);
            }
        }
    }

    /// An authenticator's code for `secret`, `offset` steps from the server's now.
    pub fn totp_code(&self, secret: &[u8], offset: i64) -> String {
        use member_login_server::totp;
        totp::code_at(
            secret,
            totp::step_at(self.clock.now()) + offset,
            totp::DIGITS,
        )
    }

    /// Runs the admin CLI on this server's database.
    /// Runs the admin CLI against this server's database. The wait for it is off the test's
    /// runtime, so the server keeps serving (and finishing its queries) meanwhile, as a real
    /// one would: a test thread blocked on the child could leave a query of the server's
    /// half-read, holding SQLite's write lock, and the CLI waiting for it.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_member-login-server"));
        command
            .args(["--database-url", &self.database.url])
            .args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
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

/// A `member-login-server serve` process on a database, listening on a free loopback port;
/// stopped when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `serve` on the database with these further arguments and waits until it
    /// listens.
    pub fn start(database_url: &str, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_member-login-server"))
            .args(["--database-url", database_url, "serve"])
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then keeps draining what the server prints (emails) so that it
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(url) = line.strip_prefix("Member Login is listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server started listening");
        Self { child, base }
    }

    /// Ends the process at once, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message a test SMTP server received: the envelope recipients and the DATA.
pub struct Received {
    pub recipients: Vec<String>,
    pub data: String,
}

/// A receiving SMTP server on loopback (RFC 5321 minimal: EHLO/HELO, MAIL, RCPT, DATA, RSET,
/// NOOP, QUIT): its port, and the messages it receives.
pub async fn smtp_receiver() -> (u16, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 receiver ESMTP\r\n").await.unwrap();
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-receiver\r\n250 8BITMIME\r\n",
                        "RCPT" => {
                            recipients.push(line.clone());
                            b"250 OK\r\n"
                        }
                        "DATA" => {
                            write.write_all(b"354 end with .\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            tx.send(Received {
                                recipients: std::mem::take(&mut recipients),
                                data,
                            })
                            .unwrap();
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}
