//! The server tried as an attacker and as an operator would: a stolen session cookie, strangers
//! guessing at a username, racing sends, enforcement turned on late, weak passwords, look-alike
//! usernames, expired flows asked for again and again, a broken data file, a crash before an
//! email left, servers starting together. Each test fails on a server without its fix.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{
    code_in, expect_problem, relaxed, start, start_with, ServerProcess, TestDatabase, TestServer,
};
use member_login_api::flow::Flow;
use member_login_api::session::{PasswordRule, Session};
use member_login_api::{ProblemCode, CSRF_HEADER};
use member_login_server::limits::Limits;
use member_login_server::login::flow::FLOW_SECONDS;
use member_login_server::session::RECENT_LOGIN_SECONDS;
use member_login_server::store::SettingsChange;
use member_login_server::{demo, store, Config};
use reqwest::Method;
use serde_json::{json, Value};

const ALEX: &str = "alex@demo.example";
const ALEX_PASSWORD: &str = "violet-harbor-lantern";
const SAM_PASSWORD: &str = "quiet-meadow-compass";

async fn log_in(server: &TestServer, username: &str, password: &str) -> reqwest::Response {
    let flow = server.flow_for(username).await;
    server.password(&flow, password).await
}

/// The subjects of the emails to `to`, oldest first.
async fn subjects(server: &TestServer, to: &str) -> Vec<String> {
    let mut subjects: Vec<String> = server
        .mailbox(to)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.reverse();
    subjects
}

async fn alex(server: &TestServer) -> member_login_server::store::MemberRecord {
    server
        .db
        .member_by_username(demo::ORGANIZATION_ID, "alex")
        .await
        .unwrap()
        .unwrap()
}

// 1. A stolen session cookie alone cannot change the password or turn on MFA.
#[tokio::test]
async fn sensitive_changes_need_a_recent_login_and_are_emailed() {
    let server = start().await;
    assert_eq!(log_in(&server, "sam", SAM_PASSWORD).await.status(), 200);
    // What a thief holding the cookie later could try.
    server.clock.advance(RECENT_LOGIN_SECONDS + 1);
    let change = json!({ "new_password": "amber-river-telescope" });
    for (path, body) in [
        ("/api/v1/session/password", change.clone()),
        ("/api/v1/session/mfa", json!({})),
        ("/api/v1/session/mfa/verify", json!({"code": "123456"})),
    ] {
        expect_problem(
            server.post(path, body).await,
            403,
            ProblemCode::ReauthenticationRequired,
        )
        .await;
    }
    // The session itself still works for everything else.
    assert_eq!(server.get("/api/v1/session").await.status(), 200);
    // After logging in again, the change goes through, and the member is told.
    assert_eq!(log_in(&server, "sam", SAM_PASSWORD).await.status(), 200);
    let resp = server.post("/api/v1/session/password", change).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        subjects(&server, "sam@demo.example").await,
        ["Your password was changed"]
    );
}

async fn wrong_passwords(server: &TestServer, times: usize) {
    for _ in 0..times {
        let resp = log_in(server, "alex", "not-the-password").await;
        expect_problem(resp, 401, ProblemCode::InvalidCredentials).await;
    }
}

/// Alex's right password, refused because alex is locked: the problem document.
async fn refused_as_locked(server: &TestServer) -> member_login_api::Problem {
    expect_problem(
        log_in(server, "alex", ALEX_PASSWORD).await,
        403,
        ProblemCode::AccountLocked,
    )
    .await
}

// 2. Strangers cannot lock a member for good; the lock ends by itself, and grows.
#[tokio::test]
async fn failed_logins_lock_for_a_while_that_doubles_and_the_member_is_told() {
    let server = start().await;
    wrong_passwords(&server, 5).await;
    let problem = refused_as_locked(&server).await;
    assert_eq!(problem.retry_after, Some(15 * 60));
    assert_eq!(
        subjects(&server, ALEX).await,
        ["Your Demo Organization account is locked"]
    );
    assert!(server.mailbox(ALEX).await[0]["body"]
        .as_str()
        .unwrap()
        .contains("for 15 minutes"));
    // The lock ends by itself: five more failures then lock for twice as long.
    server.clock.advance(15 * 60);
    wrong_passwords(&server, 5).await;
    let problem = refused_as_locked(&server).await;
    assert_eq!(problem.retry_after, Some(30 * 60));
    server.clock.advance(30 * 60);
    assert_eq!(log_in(&server, "alex", ALEX_PASSWORD).await.status(), 200);
    // A login starts the count again.
    assert_eq!(alex(&server).await.lockouts, 0);
}

#[tokio::test]
async fn an_organization_may_keep_members_locked_until_an_administrator_unlocks() {
    let server = start().await;
    server
        .settings(SettingsChange {
            lock_until_unlocked: Some(true),
            ..SettingsChange::default()
        })
        .await;
    wrong_passwords(&server, 5).await;
    server.clock.advance(7 * 86400);
    let problem = refused_as_locked(&server).await;
    assert_eq!(problem.retry_after, None);
    let out = server
        .cli(&["member", "unlock", "--org", "demo", "--username", "alex"])
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(log_in(&server, "alex", ALEX_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_code_that_runs_out_of_tries_is_one_failed_login() {
    let server = start().await;
    for round in 1..=3 {
        let flow = server.flow_for("alex").await;
        server.wait_out_cooldown("alex").await;
        server.send_code(&flow).await;
        let code = server.code_number(ALEX, round).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            server.verify(&flow, wrong).await;
        }
        assert_eq!(alex(&server).await.failed_logins, round as i64);
    }
    // Three mistyped codes (fifteen wrong tries) lock nobody.
    assert_eq!(log_in(&server, "alex", ALEX_PASSWORD).await.status(), 200);
}

// 3. Parallel sends over many flows let one email through per cooldown.
#[tokio::test]
async fn parallel_sends_for_one_member_send_one_email() {
    let server = start().await;
    let mut flows = Vec::new();
    for _ in 0..20 {
        flows.push(server.flow_for("alex").await);
    }
    let answers = futures::future::join_all(flows.iter().map(|f| server.send_code(f))).await;
    let sent = answers.iter().filter(|r| r.status() == 200).count();
    let waiting = answers.iter().filter(|r| r.status() == 429).count();
    assert_eq!((sent, waiting), (1, 19));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.mailbox(ALEX).await.len(), 1);
    // That one code is live: the cooldown never killed it.
    let code = server.code_number(ALEX, 1).await;
    let winner = flows
        .iter()
        .zip(&answers)
        .find(|(_, r)| r.status() == 200)
        .unwrap()
        .0;
    assert_eq!(server.verify(winner, &code).await.status(), 200);
}

// 4. Enforcement turned on later gives every member a full grace period from then.
#[tokio::test]
async fn a_requirement_turned_on_later_starts_its_grace_period_then() {
    let server = start().await;
    server
        .settings(SettingsChange {
            enforce_mfa: Some(false),
            enforce_password_renewal: Some(false),
            ..SettingsChange::default()
        })
        .await;
    assert_eq!(log_in(&server, "alex", ALEX_PASSWORD).await.status(), 200);
    server.clock.advance(10 * 86400);
    server
        .settings(SettingsChange {
            enforce_mfa: Some(true),
            ..SettingsChange::default()
        })
        .await;
    let resp = log_in(&server, "alex", ALEX_PASSWORD).await;
    assert_eq!(resp.status(), 200, "not locked at once");
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    let left = session.requirements[0].deadline - session.now;
    assert_eq!(left, 3 * 86400);
    // And the period does run: three days on, the member is locked.
    server.clock.advance(3 * 86400);
    refused_as_locked(&server).await;
}

// 5. Weak passwords are refused with a reason.
#[tokio::test]
async fn weak_passwords_are_refused_with_a_reason() {
    let server = start().await;
    assert_eq!(log_in(&server, "sam", SAM_PASSWORD).await.status(), 200);
    for weak in [
        "            ",
        "password123456",
        "P@ssw0rd1234",
        "sam-sam-sam-sam",
    ] {
        let problem = expect_problem(
            server
                .post("/api/v1/session/password", json!({ "new_password": weak }))
                .await,
            400,
            ProblemCode::PasswordRejected,
        )
        .await;
        assert!(
            problem.rules.iter().any(|r| matches!(
                r,
                PasswordRule::TooGuessable | PasswordRule::Common | PasswordRule::ContainsUsername
            )),
            "{weak:?}: {:?}",
            problem.rules
        );
    }
}

// 6. Look-alike usernames and a doubled Origin header.
#[tokio::test]
async fn invisible_characters_are_refused_and_compatible_forms_are_the_same_name() {
    let server = start().await;
    for name in [
        "al\u{200B}ex",
        "ad\u{202E}nim",
        "\u{FEFF}alex",
        "alex\u{E0041}",
    ] {
        let resp = server
            .post(
                "/api/v1/flows",
                json!({"organization": "demo", "username": name}),
            )
            .await;
        expect_problem(resp, 400, ProblemCode::InvalidUsername).await;
    }
    // Full-width letters are the same name: the member gets the code.
    let flow = server.flow_for("ａｌｅｘ").await;
    assert_eq!(flow.username.as_deref(), Some("alex"));
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 1).await;
    assert_eq!(server.verify(&flow, &code).await.status(), 200);
}

#[tokio::test]
async fn a_request_with_two_origin_headers_is_refused() {
    let server = start().await;
    let resp = server
        .client
        .post(server.url("/api/v1/flows"))
        .header(CSRF_HEADER, "1")
        .header("origin", &server.base)
        .header("origin", "https://evil.example")
        .json(&json!({"organization": "demo"}))
        .send()
        .await
        .unwrap();
    expect_problem(resp, 403, ProblemCode::CsrfRejected).await;
    let resp = server
        .client
        .post(server.url("/api/v1/flows"))
        .header(CSRF_HEADER, "1")
        .header("origin", "https://evil.example")
        .header("origin", &server.base)
        .json(&json!({"organization": "demo"}))
        .send()
        .await
        .unwrap();
    expect_problem(resp, 403, ProblemCode::CsrfRejected).await;
}

/// The status of `GET` of the flow, and the ID of the replacement it answers.
async fn replacement(server: &TestServer, id: &str) -> (u16, Option<String>) {
    let resp = server.get(&format!("/api/v1/flows/{id}")).await;
    let status = resp.status().as_u16();
    let problem: Value = resp.json().await.unwrap();
    let id = problem["replacement"]["id"].as_str().map(str::to_owned);
    (status, id)
}

// 8. An expired flow has one replacement, however often it is asked for.
#[tokio::test]
async fn an_expired_flow_is_replaced_once_and_new_replacements_are_rate_limited() {
    let server = start_with(Config {
        dev_mode: true,
        limits: Limits {
            per_ip: 5,
            ..relaxed()
        },
        ..Config::default()
    })
    .await;
    // Flows made directly in the store, so the per-IP limit counts only replacements.
    let org = server
        .db
        .organization_record(demo::ORGANIZATION_ID)
        .await
        .unwrap()
        .unwrap();
    let mut expired = Vec::new();
    for i in 0..7 {
        let flow = member_login_server::login::flow::Flow::start(
            format!("00000000-0000-4000-8000-00000000000{i}"),
            org.public.id.clone(),
            Some("alex".into()),
            None,
            member_login_server::mail_text::Language::En,
            server.clock.now(),
        );
        server.db.insert_flow(&flow).await.unwrap();
        expired.push(flow.id);
    }
    server.clock.advance(FLOW_SECONDS);
    let (status, first) = replacement(&server, &expired[0]).await;
    assert_eq!(status, 410);
    let first = first.unwrap();
    let again = futures::future::join_all((0..50).map(|_| replacement(&server, &expired[0]))).await;
    assert!(again
        .iter()
        .all(|(s, id)| *s == 410 && id.as_ref() == Some(&first)));
    // Each new replacement counts against the client's limit (five here).
    for id in &expired[1..5] {
        assert_eq!(replacement(&server, id).await.0, 410);
    }
    assert_eq!(replacement(&server, &expired[5]).await.0, 429);
    // And the clean-up removes flows a day past their expiry.
    server.clock.advance(86400 + FLOW_SECONDS + 1);
    let purged = server.db.purge(server.clock.now()).await.unwrap();
    assert_eq!(purged.flows, 7 + 5);
}

#[tokio::test]
async fn per_member_queries_use_indexes_not_table_scans() {
    use sqlx::Connection;
    let database = TestDatabase::sqlite();
    let _store = database.open().await;
    let path = database.url.trim_start_matches("sqlite://");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{path}"))
        .await
        .unwrap();
    for query in [
        "UPDATE flows SET code_hash = NULL WHERE organization_id = 'o' AND username = 'u' \
         AND id != 'f' AND code_hash IS NOT NULL",
        "SELECT sent FROM code_sends WHERE organization_id = 'o' AND username = 'u'",
        "SELECT id FROM outbox WHERE recipient = 'r' ORDER BY id DESC LIMIT 100",
        "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= 5 \
         ORDER BY next_attempt_at, id LIMIT 1",
        "DELETE FROM flows WHERE expires_at < 5",
        "DELETE FROM sessions WHERE expires_at < 5",
        "DELETE FROM outbox WHERE created_at < 5",
        "DELETE FROM rate_limits WHERE window_start < 5",
        "DELETE FROM code_sends WHERE last_sent_at < 5",
    ] {
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {query}"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let scans: Vec<&str> = plan
            .iter()
            .map(|(_, _, _, detail)| detail.as_str())
            .filter(|d| d.starts_with("SCAN"))
            .collect();
        assert!(scans.is_empty(), "{query}: {scans:?}");
    }
}

// 10. Health tells a database that takes no writes from one that does.
#[tokio::test]
async fn readiness_fails_while_the_database_takes_no_writes_and_liveness_holds() {
    use sqlx::Connection;
    let server = start().await;
    assert_eq!(server.get("/api/v1/health").await.status(), 200);
    let url = server.database.url.clone();
    if let Some(path) = url.strip_prefix("sqlite://") {
        // Another process holds the file's write lock (longer than the server waits).
        let mut other = sqlx::SqliteConnection::connect(&format!("sqlite:{path}"))
            .await
            .unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut other)
            .await
            .unwrap();
        expect_problem(
            server.get("/api/v1/health").await,
            503,
            ProblemCode::ServiceBusy,
        )
        .await;
        assert_eq!(server.get("/api/v1/health/live").await.status(), 200);
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    } else {
        // The database turned read-only (as a standby after a failover is).
        let (cluster, name) = url.rsplit_once('/').unwrap();
        let mut admin = sqlx::PgConnection::connect(&format!("{cluster}/postgres"))
            .await
            .unwrap();
        for statement in [
            format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        ] {
            sqlx::query(&statement).execute(&mut admin).await.unwrap();
        }
        for _ in 0..2 {
            expect_problem(
                server.get("/api/v1/health").await,
                503,
                ProblemCode::ServiceBusy,
            )
            .await;
        }
        assert_eq!(server.get("/api/v1/health/live").await.status(), 200);
        sqlx::query(&format!(
            "ALTER DATABASE {name} SET default_transaction_read_only = off"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::query(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    // Writable again: ready again.
    let mut ready = false;
    for _ in 0..20 {
        if server.get("/api/v1/health").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready);
}

#[test]
fn the_server_refuses_to_start_on_a_data_file_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.sqlite3");
    std::fs::write(&path, vec![0x55; 64 * 1024]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_member-login-server"))
        .args(["--data", path.to_str().unwrap()])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

// 11. An email queued before a crash is delivered after the restart.
#[tokio::test]
async fn a_queued_email_survives_a_restart() {
    let database = TestDatabase::new().await;
    let db = database.open().await;
    demo::seed(&db).await.unwrap();
    // First server: its SMTP relay is down (nothing listens on that port).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = closed.local_addr().unwrap().port();
    drop(closed);
    let relay = |port: u16| format!("smtp://127.0.0.1:{port}");
    let first = ServerProcess::start(&database.url, &["--smtp-url", &relay(down)]);
    let base = first.base.clone();
    let client = common::new_client();
    let send = |path: String, body: Value| {
        client
            .post(format!("{base}{path}"))
            .header(CSRF_HEADER, "1")
            .header("origin", &base)
            .json(&body)
            .send()
    };
    let flow: Flow = send(
        "/api/v1/flows".into(),
        json!({"organization": "demo", "username": "alex"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let sent = send(format!("/api/v1/flows/{}/code", flow.id), json!({}))
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    // Wait for the first try to fail (the claim released, a retry planned), then crash.
    let mut failed = false;
    for _ in 0..200 {
        let released = database
            .query_i64("SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND claimed_until IS NULL")
            .await;
        if released == Some(1) {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        failed,
        "the first server tried the relay and planned a retry"
    );
    first.kill();
    let queued = db.emails(Some(ALEX)).await.unwrap();
    assert_eq!((queued.len(), queued[0].sent_at), (1, None));

    // After the restart, with the relay back, the worker delivers it.
    let (port, mut received) = common::smtp_receiver().await;
    let second = ServerProcess::start(&database.url, &["--smtp-url", &relay(port)]);
    let message = tokio::time::timeout(Duration::from_secs(30), received.recv())
        .await
        .expect("the queued email was delivered after the restart")
        .unwrap();
    second.kill();
    assert_eq!(message.recipients, ["RCPT TO:<alex@demo.example>"]);
    let code = code_in(&message.data);
    assert_eq!(code.len(), 6);
}

// 12. Servers starting together on a new data file all start.
#[tokio::test]
async fn servers_starting_together_on_a_new_database_all_migrate_it() {
    for _ in 0..3 {
        let database = TestDatabase::new().await;
        let opens = (0..4).map(|_| store::open(&database.url));
        for opened in futures::future::join_all(opens).await {
            opened.unwrap();
        }
    }
}

#[tokio::test]
async fn logging_in_with_a_session_from_before_is_not_a_sensitive_change() {
    // The recent-login rule does not touch reading the session or logging out.
    let server = start().await;
    assert_eq!(log_in(&server, "sam", SAM_PASSWORD).await.status(), 200);
    server.clock.advance(RECENT_LOGIN_SECONDS * 3);
    assert_eq!(server.get("/api/v1/session").await.status(), 200);
    let out = server
        .request(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
}

#[tokio::test]
async fn request_bodies_must_be_json_objects() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    for (path, body) in [
        ("/api/v1/flows".to_owned(), json!(["demo", "alex"])),
        (
            format!("/api/v1/flows/{}/username", flow.id),
            json!(["bob"]),
        ),
        (
            format!("/api/v1/flows/{}/password", flow.id),
            json!([ALEX_PASSWORD]),
        ),
    ] {
        let resp = server.post(&path, body).await;
        expect_problem(resp, 400, ProblemCode::BadRequest).await;
    }
}
