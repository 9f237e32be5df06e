//! Two server processes on one PostgreSQL database, behind a round-robin "load balancer" (the
//! client alternates between them): they must behave as one server. A login started on one
//! completes on the other; rate limits and the lockout count across both; logging out on one
//! ends the session on the other; many logins at once lose no update and answer no 5xx.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::authenticator::Device;
use common::{code_in, expect_problem, new_client, ServerProcess, TestDatabase};
use member_login_api::flow::Flow;
use member_login_api::{ProblemCode, CSRF_HEADER};
use member_login_server::demo;
use member_login_server::store::NewMember;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// Where members reach the service, whichever replica answers.
const PUBLIC_ORIGIN: &str = "http://login.replicas.test";
const ALEX: &str = "alex@demo.example";
const ALEX_PASSWORD: &str = "violet-harbor-lantern";

/// A replica: the server with the demo Organization, reached at the shared public origin.
fn replica(database_url: &str, limits: &[&str], origin: &str) -> ServerProcess {
    let mut args = vec!["--demo", "--dev", "--public-origin", origin];
    args.extend_from_slice(limits);
    ServerProcess::start(database_url, &args)
}

/// Two replicas, started at the same time on one database (so they also race to migrate and
/// seed it).
struct Replicas([ServerProcess; 2], &'static str);

impl Replicas {
    fn start(database_url: &str, limits: &[&str]) -> Self {
        Self::start_at(database_url, limits, PUBLIC_ORIGIN)
    }

    /// Two replicas reached at `origin`.
    fn start_at(database_url: &str, limits: &[&str], origin: &'static str) -> Self {
        std::thread::scope(|s| {
            let a = s.spawn(|| replica(database_url, limits, origin));
            let b = s.spawn(|| replica(database_url, limits, origin));
            Self([a.join().unwrap(), b.join().unwrap()], origin)
        })
    }

    /// A new browser behind the balancer, its first request going to replica `first`.
    fn browser(&self, first: usize) -> Balancer {
        Balancer {
            bases: [self.0[0].base.clone(), self.0[1].base.clone()],
            next: AtomicUsize::new(first),
            client: new_client(),
            origin: self.1,
        }
    }
}

/// A browser (one cookie jar) behind a round-robin balancer: request `i` goes to replica
/// `i % 2`.
struct Balancer {
    bases: [String; 2],
    next: AtomicUsize,
    client: reqwest::Client,
    /// The page's origin, sent as `Origin`.
    origin: &'static str,
}

impl Balancer {
    fn base(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        &self.bases[i % 2]
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base()))
            .header(CSRF_HEADER, "1")
            .header("origin", self.origin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    async fn flow_for(&self, username: &str) -> Flow {
        let resp = self
            .post(
                "/api/v1/flows",
                json!({"organization": "demo", "username": username}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    /// Sends a code for the flow and returns it, read from the dev mailbox (of whichever
    /// replica: the outbox is shared).
    async fn code_for(&self, flow: &Flow, email: &str) -> String {
        let before = self.mailbox(email).await.len();
        let resp = self
            .post(&format!("/api/v1/flows/{}/code", flow.id), json!({}))
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        for _ in 0..200 {
            let mails = self.mailbox(email).await;
            if mails.len() > before {
                return code_in(mails[0]["body"].as_str().unwrap());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no code email to {email}");
    }

    async fn mailbox(&self, email: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/dev/mailbox?to={email}"))
            .await
            .json()
            .await
            .unwrap()
    }
}

const RELAXED: [&str; 4] = ["--per-ip-limit", "100000", "--per-member-limit", "100000"];

#[tokio::test]
async fn a_login_started_on_one_replica_completes_on_the_other_and_logout_ends_it_everywhere() {
    let database = TestDatabase::postgres().await;
    let replicas = Replicas::start(&database.url, &RELAXED);
    let lb = replicas.browser(0);
    // Requests alternate: flow on the first, code on the second, and so on.
    let flow = lb.flow_for("alex").await;
    let code = lb.code_for(&flow, ALEX).await;
    let resp = lb
        .post(
            &format!("/api/v1/flows/{}/code/verify", flow.id),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The session is known to both.
    for _ in 0..2 {
        assert_eq!(lb.get("/api/v1/session").await.status(), 200);
    }
    // Logging out on one ends it on the other.
    let out = lb.send(Method::DELETE, "/api/v1/session", None).await;
    assert_eq!(out.status(), 204);
    for base in &lb.bases {
        let resp = lb
            .client
            .get(format!("{base}/api/v1/session"))
            .send()
            .await
            .unwrap();
        expect_problem(resp, 401, ProblemCode::Unauthenticated).await;
    }
}

#[tokio::test]
async fn rate_limits_and_the_lockout_count_across_replicas() {
    let database = TestDatabase::postgres().await;
    // Three credential checks per member and minute, twelve calls per IP.
    let replicas = Replicas::start(
        &database.url,
        &["--per-member-limit", "3", "--per-ip-limit", "12"],
    );
    let lb = replicas.browser(0);
    let flow = lb.flow_for("sam").await; // call 1
    let path = format!("/api/v1/flows/{}/password", flow.id);
    for _ in 0..3 {
        // calls 2-4, alternating replicas: each replica alone has seen fewer than three
        let resp = lb.post(&path, json!({"password": "wrong-password"})).await;
        expect_problem(resp, 401, ProblemCode::InvalidCredentials).await;
    }
    let resp = lb.post(&path, json!({"password": "wrong-password"})).await; // call 5
    expect_problem(resp, 429, ProblemCode::RateLimited).await;
    for _ in 5..12 {
        lb.get("/api/v1/flows/none").await; // reads do not count
        lb.post("/api/v1/flows", json!({"organization": "demo"}))
            .await;
    }
    // Twelve calls made, six on each replica: the next is over the per-IP limit.
    let resp = lb
        .post("/api/v1/flows", json!({"organization": "demo"}))
        .await;
    expect_problem(resp, 429, ProblemCode::RateLimited).await;

    // The lockout: five wrong passwords, alternating replicas, lock the member everywhere.
    let database = TestDatabase::postgres().await;
    let replicas = Replicas::start(&database.url, &RELAXED);
    let lb = replicas.browser(0);
    for _ in 0..5 {
        let flow = lb.flow_for("alex").await;
        let resp = lb
            .post(
                &format!("/api/v1/flows/{}/password", flow.id),
                json!({"password": "wrong-password"}),
            )
            .await;
        expect_problem(resp, 401, ProblemCode::InvalidCredentials).await;
    }
    for _ in 0..2 {
        let flow = lb.flow_for("alex").await;
        let resp = lb
            .post(
                &format!("/api/v1/flows/{}/password", flow.id),
                json!({ "password": ALEX_PASSWORD }),
            )
            .await;
        expect_problem(resp, 403, ProblemCode::AccountLocked).await;
    }
}

#[tokio::test]
async fn fifty_concurrent_logins_across_both_replicas_lose_no_update() {
    let database = TestDatabase::postgres().await;
    let replicas = Replicas::start(&database.url, &RELAXED);
    let store = database.open().await;
    let members: Vec<(String, String)> = (0..50)
        .map(|i| (format!("member{i}"), format!("member{i}@demo.example")))
        .collect();
    for (username, email) in &members {
        store
            .ensure_member(&NewMember {
                organization_id: demo::ORGANIZATION_ID.into(),
                username: username.clone(),
                email: email.clone(),
                password_hash: None,
            })
            .await
            .unwrap();
    }
    // Fifty email-code logins at once, each request of each going to the next replica, each
    // with its own cookie jar.
    let logins = members.iter().enumerate().map(|(i, (username, email))| {
        let replicas = &replicas;
        async move {
            let browser = replicas.browser(i);
            let flow = browser.flow_for(username).await;
            let code = browser.code_for(&flow, email).await;
            let resp = browser
                .post(
                    &format!("/api/v1/flows/{}/code/verify", flow.id),
                    json!({ "code": code }),
                )
                .await;
            let status = resp.status();
            let session = browser.get("/api/v1/session").await.status();
            (status, session)
        }
    });
    let results = futures::future::join_all(logins).await;
    for (status, session) in &results {
        assert_eq!(*status, StatusCode::OK);
        assert_eq!(*session, StatusCode::OK);
    }

    // Fifty wrong guesses at one code, at once, across both: exactly its five tries are used,
    // each once, and no answer is a server error.
    let lb = replicas.browser(0);
    let flow = lb.flow_for("alex").await;
    let code = lb.code_for(&flow, ALEX).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let path = format!("/api/v1/flows/{}/code/verify", flow.id);
    let guesses =
        futures::future::join_all((0..50).map(|_| lb.post(&path, json!({"code": wrong}))));
    let mut left = Vec::new();
    for resp in guesses.await {
        assert!(!resp.status().is_server_error(), "{}", resp.status());
        let problem: member_login_api::Problem = resp.json().await.unwrap();
        match problem.code {
            ProblemCode::InvalidCredentials => left.push(problem.attempts_left.unwrap()),
            ProblemCode::CodeRequired => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    left.sort_unstable();
    assert_eq!(left, [0, 1, 2, 3, 4], "five tries, each used once");
}

/// Passkeys across replicas: each ceremony's challenge is asked for on one replica and answered
/// on the other (its state is in the shared database), and an answer used on one is refused on
/// the other. The service is at `http://localhost` here: the software browser, like a real
/// one, takes plain HTTP only there.
#[tokio::test]
async fn a_passkey_ceremony_started_on_one_replica_finishes_on_the_other() {
    const ORIGIN: &str = "http://localhost";
    let database = TestDatabase::postgres().await;
    let replicas = Replicas::start_at(&database.url, &RELAXED, ORIGIN);
    let mut device = Device::at(ORIGIN);
    let lb = replicas.browser(0);
    let flow = lb.flow_for("alex").await;
    let resp = lb
        .post(
            &format!("/api/v1/flows/{}/password", flow.id),
            json!({ "password": ALEX_PASSWORD }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // Options from one replica, the new passkey to the other.
    let options: Value = lb
        .post("/api/v1/session/passkeys/options", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let credential = device.create(options).await;
    let resp = lb
        .post(
            "/api/v1/session/passkeys",
            json!({ "name": "Laptop", "credential": credential }),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    let other = replicas.browser(1);
    let resp = other
        .post("/api/v1/flows", json!({ "organization": "demo" }))
        .await;
    let flow: Flow = resp.json().await.unwrap();
    let options: Value = other
        .post(
            &format!("/api/v1/flows/{}/passkey/options", flow.id),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let credential = device.get(options).await;
    let path = format!("/api/v1/flows/{}/passkey", flow.id);
    let resp = other.post(&path, json!({ "credential": credential })).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // The same answer on the other replica: the challenge is gone everywhere.
    let resp = other.post(&path, json!({ "credential": credential })).await;
    expect_problem(resp, 409, ProblemCode::StepNotAllowed).await;
    let third = replicas.browser(0);
    let flow: Flow = third
        .post("/api/v1/flows", json!({ "organization": "demo" }))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/flows/{}/passkey", flow.id);
    let resp = third.post(&path, json!({ "credential": credential })).await;
    expect_problem(resp, 401, ProblemCode::PasskeyRefused).await;
}
