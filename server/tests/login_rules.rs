//! Every rule of the login API, each proven against the real server over HTTP on loopback with
//! its own temporary database.

mod common;

use std::time::{Duration, Instant};

use common::{expect_problem, new_client, relaxed, start, start_with, TestServer};
use member_login_api::flow::{Flow, FlowMessage, FlowState};
use member_login_api::session::{RequirementKind, Session};
use member_login_api::{LoginMethod, ProblemCode, CSRF_HEADER, SESSION_COOKIE};
use member_login_server::limits::Limits;
use member_login_server::login::flow::{CODE_SECONDS, FLOW_SECONDS};
use member_login_server::store::SettingsChange;
use member_login_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn max_failed_logins(limit: i64) -> SettingsChange {
    SettingsChange {
        max_failed_logins: Some(limit),
        ..SettingsChange::default()
    }
}

const ALEX: &str = "alex@demo.example";
const ALEX_PASSWORD: &str = "violet-harbor-lantern";

fn set_cookie(resp: &reqwest::Response) -> String {
    resp.headers()["set-cookie"].to_str().unwrap().to_owned()
}

/// The session token in a `Set-Cookie` value.
fn token_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

async fn session_with(server: &TestServer, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(server.url("/api/v1/session"))
        .header("cookie", format!("{SESSION_COOKIE}={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn code_login_from_flow_to_session() {
    let server = start().await;
    let created = server
        .post("/api/v1/flows", json!({"organization": "DEMO"}))
        .await;
    expect_problem(created, 400, ProblemCode::InvalidOrganization).await;
    let resp = server
        .post("/api/v1/flows", json!({"organization": "demo"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let flow: Flow = resp.json().await.unwrap();
    assert_eq!(flow.state, FlowState::Username);
    assert_eq!(flow.organization.alias, "demo");
    assert!(flow.expires_at - flow.now >= 29 * 60);

    let flow: Flow = server
        .post(
            &format!("/api/v1/flows/{}/username", flow.id),
            json!({"username": "  alex "}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(flow.state, FlowState::ChooseMethod);
    assert_eq!(flow.username.as_deref(), Some("alex"));

    let resp = server.send_code(&flow).await;
    assert_eq!(resp.status(), 200);
    let sent: Flow = resp.json().await.unwrap();
    assert_eq!(sent.state, FlowState::EmailCode);
    assert_eq!(sent.messages, [FlowMessage::CodeSent]);
    let code = sent.code.clone().unwrap();
    assert_eq!(code.length, 6);
    assert_eq!(code.attempts_left, 5);
    assert!((595..=600).contains(&(code.expires_at - sent.now)));
    assert!((29..=30).contains(&(code.resend_available_at - sent.now)));

    let code_text = server.code_number(ALEX, 1).await;
    let mail = &server.mailbox(ALEX).await;
    let body = mail[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!(
            "{}/login/code?organization=demo&flow={}&code={code_text}",
            server.base, flow.id
        )),
        "the email links to the code step with the code filled in: {body}"
    );

    // Spaces and dashes, as pasted from the email, are fine.
    let pasted = format!("{}-{} ", &code_text[..3], &code_text[3..]);
    let resp = server.verify(&flow, &pasted).await;
    assert_eq!(resp.status(), 200);
    let cookie = set_cookie(&resp);
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(cookie.starts_with(&format!("{SESSION_COOKIE}=")));
    let done: Flow = resp.json().await.unwrap();
    assert_eq!(done.state, FlowState::Complete);

    let session: Session = session_with(&server, &token_of(&cookie))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session.member.username, "alex");
    assert_eq!(session.member.email, ALEX);
    assert_eq!(session.organization.alias, "demo");
    assert!(session.expires_at > session.now);
}

#[tokio::test]
async fn a_code_is_single_use() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 1).await;
    assert_eq!(server.verify(&flow, &code).await.status(), 200);
    let again = server.verify(&flow, &code).await;
    expect_problem(again, 409, ProblemCode::StepNotAllowed).await;
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 1).await;
    server.clock.advance(CODE_SECONDS);
    expect_problem(
        server.verify(&flow, &code).await,
        400,
        ProblemCode::CodeExpired,
    )
    .await;
    expect_problem(
        server.verify(&flow, &code).await,
        409,
        ProblemCode::CodeRequired,
    )
    .await;
}

#[tokio::test]
async fn only_the_newest_code_is_valid() {
    let server = start().await;
    // Two flows of the same member (two tabs, say): the code sent second wins everywhere.
    let first = server.flow_for("alex").await;
    server.send_code(&first).await;
    let first_code = server.code_number(ALEX, 1).await;
    let second = server.flow_for("alex").await;
    server.wait_out_cooldown("alex").await;
    assert_eq!(server.send_code(&second).await.status(), 200);
    let second_code = server.code_number(ALEX, 2).await;
    expect_problem(
        server.verify(&first, &first_code).await,
        409,
        ProblemCode::CodeRequired,
    )
    .await;

    // Within one flow, a resent code replaces the one before.
    server.wait_out_cooldown("alex").await;
    assert_eq!(server.send_code(&second).await.status(), 200);
    let third_code = server.code_number(ALEX, 3).await;
    if second_code != third_code {
        expect_problem(
            server.verify(&second, &second_code).await,
            401,
            ProblemCode::InvalidCredentials,
        )
        .await;
    }
    assert_eq!(server.verify(&second, &third_code).await.status(), 200);
}

#[tokio::test]
async fn five_wrong_tries_use_up_a_code() {
    let server = start().await;
    // A generous lock limit, so that this test sees the code's own limit.
    server.settings(max_failed_logins(50)).await;
    let flow = server.flow_for("alex").await;
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let problem = expect_problem(
            server.verify(&flow, wrong).await,
            401,
            ProblemCode::InvalidCredentials,
        )
        .await;
        assert_eq!(problem.attempts_left, Some(left));
    }
    expect_problem(
        server.verify(&flow, &code).await,
        409,
        ProblemCode::CodeRequired,
    )
    .await;
    let shown: Flow = server
        .get(&format!("/api/v1/flows/{}", flow.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown.code.unwrap().attempts_left, 0);
    // A malformed code is refused without using a try.
    server.wait_out_cooldown("alex").await;
    server.send_code(&flow).await;
    let fresh = server.code_number(ALEX, 2).await;
    expect_problem(
        server.verify(&flow, "12345").await,
        400,
        ProblemCode::InvalidCodeFormat,
    )
    .await;
    let shown: Flow = server
        .get(&format!("/api/v1/flows/{}", flow.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown.code.unwrap().attempts_left, 5);
    assert_eq!(server.verify(&flow, &fresh).await.status(), 200);
}

#[tokio::test]
async fn a_new_flow_does_not_skip_the_resend_cooldown() {
    let server = start().await;
    for username in ["alex", "nobody-here"] {
        let first = server.flow_for(username).await;
        assert_eq!(server.send_code(&first).await.status(), 200);
        let second = server.flow_for(username).await;
        let problem = expect_problem(
            server.send_code(&second).await,
            429,
            ProblemCode::ResendCooldown,
        )
        .await;
        assert!((29..=30).contains(&problem.retry_after.unwrap()));
    }
}

#[tokio::test]
async fn a_newer_code_elsewhere_answers_the_same_for_known_and_unknown_usernames() {
    let server = start().await;
    let mut answers = Vec::new();
    for username in ["alex", "nobody-here"] {
        let first = server.flow_for(username).await;
        server.send_code(&first).await;
        server.wait_out_cooldown(username).await;
        let second = server.flow_for(username).await;
        server.send_code(&second).await;
        let shown = server.get(&format!("/api/v1/flows/{}", first.id)).await;
        let shown = without_identity(shown.json().await.unwrap());
        let tried = server.verify(&first, "000000").await;
        answers.push((shown, tried.status(), tried.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn parallel_requests_cannot_reuse_a_code_or_share_a_try() {
    let server = start().await;
    server.settings(max_failed_logins(100)).await;
    let flow = server.flow_for("alex").await;
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guesses = futures::future::join_all((0..10).map(|_| server.verify(&flow, wrong))).await;
    let mut left: Vec<u16> = Vec::new();
    let mut refused = 0;
    for resp in guesses {
        match resp.status().as_u16() {
            401 => left.push(u16::from(
                resp.json::<member_login_api::Problem>()
                    .await
                    .unwrap()
                    .attempts_left
                    .unwrap(),
            )),
            409 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    left.sort();
    assert_eq!(left, [0, 1, 2, 3, 4], "five tries, each used once");
    assert_eq!(refused, 5);

    let flow = server.flow_for("alex").await;
    server.wait_out_cooldown("alex").await;
    server.send_code(&flow).await;
    let code = server.code_number(ALEX, 2).await;
    let both = futures::future::join_all((0..2).map(|_| server.verify(&flow, &code))).await;
    let ok = both.iter().filter(|r| r.status() == 200).count();
    assert_eq!(ok, 1, "one code, one session");
}

#[tokio::test]
async fn resend_cooldown_is_thirty_seconds_and_grows() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    assert_eq!(server.send_code(&flow).await.status(), 200);
    // Asking again within the cooldown sends nothing: the code on its way is still good, and
    // the flow says when a new one may be sent.
    server.clock.advance(5);
    let again = server.send_code(&flow).await;
    assert_eq!(again.status(), 200);
    let again: Flow = again.json().await.unwrap();
    assert_eq!(again.messages, [FlowMessage::CodeAlreadySent]);
    let code = again.code.unwrap();
    assert_eq!(code.resend_available_at - again.now, 25);
    assert_eq!(code.attempts_left, 5);
    assert_eq!(server.mailbox(ALEX).await.len(), 1, "no second email");
    // "Change" back to the same username keeps the code too.
    let same = server
        .post(
            &format!("/api/v1/flows/{}/username", flow.id),
            json!({ "username": "Alex" }),
        )
        .await;
    let same: Flow = same.json().await.unwrap();
    assert_eq!(same.state, FlowState::EmailCode);
    assert!(same.code.is_some());

    server.wait_out_cooldown("alex").await;
    let resent: Flow = server.send_code(&flow).await.json().await.unwrap();
    let wait = resent.code.unwrap().resend_available_at - resent.now;
    assert!((59..=60).contains(&wait), "second cooldown {wait}");
}

#[tokio::test]
async fn consecutive_failures_lock_and_only_a_correct_password_reveals_it() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    for _ in 0..5 {
        expect_problem(
            server.password(&flow, "wrong-password-guess").await,
            401,
            ProblemCode::InvalidCredentials,
        )
        .await;
    }
    // Locked now; a wrong password still says only "wrong".
    expect_problem(
        server.password(&flow, "another-wrong-guess").await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    expect_problem(
        server.password(&flow, ALEX_PASSWORD).await,
        403,
        ProblemCode::AccountLocked,
    )
    .await;

    // The admin CLI unlocks, on the same data file the server uses.
    unlock_with_cli(&server, "alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_correct_login_resets_the_failure_count() {
    let server = start().await;
    for _ in 0..4 {
        let flow = server.flow_for("alex").await;
        server.password(&flow, "wrong-password-guess").await;
    }
    let flow = server.flow_for("alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
    for _ in 0..4 {
        let flow = server.flow_for("alex").await;
        server.password(&flow, "wrong-password-guess").await;
    }
    let flow = server.flow_for("alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
}

/// The parts of a flow that differ between two flows by nature (id, clock).
fn without_identity(mut flow: Value) -> Value {
    for field in ["id", "now", "expires_at"] {
        flow.as_object_mut().unwrap().remove(field);
    }
    if let Some(code) = flow.get_mut("code").and_then(Value::as_object_mut) {
        code.remove("expires_at");
        code.remove("resend_available_at");
    }
    flow.as_object_mut().unwrap().remove("username");
    flow
}

#[tokio::test]
async fn known_and_unknown_usernames_get_the_same_answers() {
    let server = start().await;
    let mut answers = Vec::new();
    for username in ["alex", "nobody-here"] {
        let flow = server.flow_for(username).await;
        let named = server
            .post(
                &format!("/api/v1/flows/{}/username", flow.id),
                json!({ "username": username }),
            )
            .await;
        let named = (
            named.status(),
            without_identity(named.json().await.unwrap()),
        );
        let sent = server.send_code(&flow).await;
        let sent = (sent.status(), without_identity(sent.json().await.unwrap()));
        let wrong_code = server.verify(&flow, "000000").await;
        let wrong_code = (wrong_code.status(), wrong_code.text().await.unwrap());
        let wrong_password = server.password(&flow, "not-the-password").await;
        let wrong_password = (
            wrong_password.status(),
            wrong_password.text().await.unwrap(),
        );
        answers.push((named, sent, wrong_code, wrong_password));
    }
    assert_eq!(answers[0], answers[1]);
    // Only the member got an email; nothing left the server for the unknown username.
    server.code_number(ALEX, 1).await;
    let all: Vec<Value> = server
        .get("/api/v1/dev/mailbox")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["recipient"], ALEX);
}

/// The median of `samples`, and the spread (interquartile range) that says how noisy they are.
fn median_and_spread(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let n = samples.len();
    (samples[n / 2], samples[3 * n / 4] - samples[n / 4])
}

/// Times a wrong credential for a member and for an unknown username, interleaved so that
/// whatever else the machine does hits both sides alike, and asserts that the medians differ by
/// less than the noise (the larger interquartile range, at least 2 ms).
/// Which request the timing test measures.
#[derive(Clone, Copy, PartialEq)]
enum Timed {
    StartFlow,
    Code,
    Password,
}

async fn assert_same_timing(server: &TestServer, timed: Timed) {
    // A lock limit out of reach, so every answer is the same 401.
    server.settings(max_failed_logins(1000)).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        for (username, samples) in [("alex", &mut known), ("nobody-here", &mut unknown)] {
            if timed == Timed::StartFlow {
                let started = Instant::now();
                server.flow_for(username).await;
                samples.push(started.elapsed());
                continue;
            }
            let flow = server.flow_for(username).await;
            server.wait_out_cooldown(username).await;
            assert_eq!(server.send_code(&flow).await.status(), 200);
            let started = Instant::now();
            let resp = if timed == Timed::Password {
                server.password(&flow, "not-the-password").await
            } else {
                server.verify(&flow, "000000").await
            };
            samples.push(started.elapsed());
            assert_eq!(resp.status(), 401);
        }
    }
    let (known_median, known_spread) = median_and_spread(&mut known);
    let (unknown_median, unknown_spread) = median_and_spread(&mut unknown);
    let difference = known_median.abs_diff(unknown_median);
    let noise = known_spread
        .max(unknown_spread)
        .max(Duration::from_millis(2));
    println!("member {known_median:?} (spread {known_spread:?}), no member {unknown_median:?} (spread {unknown_spread:?})");
    assert!(
        difference < noise,
        "medians {known_median:?} (member) vs {unknown_median:?} (no member) differ by {difference:?}, more than the noise {noise:?}"
    );
}

#[tokio::test]
async fn password_response_time_does_not_tell_whether_a_member_exists() {
    assert_same_timing(&start().await, Timed::Password).await;
}

#[tokio::test]
async fn code_response_time_does_not_tell_whether_a_member_exists() {
    assert_same_timing(&start().await, Timed::Code).await;
}

#[tokio::test]
async fn starting_a_flow_takes_as_long_for_a_member_as_for_no_member() {
    assert_same_timing(&start().await, Timed::StartFlow).await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let server = start_with(Config {
        dev_mode: true,
        limits: Limits {
            per_ip: 6,
            per_member: 2,
            ..relaxed()
        },
        ..Config::default()
    })
    .await;
    let flow = server.flow_for("alex").await; // 1 call
    server.password(&flow, "wrong-password-1").await; // 2
    server.password(&flow, "wrong-password-2").await; // 3
    let problem = expect_problem(
        server.password(&flow, "wrong-password-3").await, // 4: third for this member
        429,
        ProblemCode::RateLimited,
    )
    .await;
    assert!((1..=60).contains(&problem.retry_after.unwrap()));
    server.flow_for("sam").await; // 5
    server.flow_for("sam").await; // 6
    let resp = server
        .post("/api/v1/flows", json!({"organization": "demo"}))
        .await; // 7: over the per-IP limit
    assert!(resp.headers().contains_key("retry-after"));
    expect_problem(resp, 429, ProblemCode::RateLimited).await;
}

#[tokio::test]
async fn state_changing_calls_need_the_custom_header_and_an_allowed_origin() {
    let server = start().await;
    let body = json!({"organization": "demo"});
    let url = server.url("/api/v1/flows");
    let client = new_client();
    let no_header = client
        .post(&url)
        .header("origin", &server.base)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(no_header, 403, ProblemCode::CsrfRejected).await;
    let no_origin = client
        .post(&url)
        .header(CSRF_HEADER, "1")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(no_origin, 403, ProblemCode::CsrfRejected).await;
    let other_origin = client
        .post(&url)
        .header(CSRF_HEADER, "1")
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(other_origin, 403, ProblemCode::CsrfRejected).await;
    let logout = client
        .delete(server.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    expect_problem(logout, 403, ProblemCode::CsrfRejected).await;
    // Both spellings of loopback are this server.
    let port = server.base.rsplit(':').next().unwrap();
    let ok = client
        .post(&url)
        .header(CSRF_HEADER, "1")
        .header("origin", format!("http://localhost:{port}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
}

#[tokio::test]
async fn cors_allows_only_the_listed_app_origin() {
    let server = start_with(Config {
        cors_origins: vec!["https://app.example".into()],
        limits: relaxed(),
        ..Config::default()
    })
    .await;
    let client = new_client();
    let preflight = client
        .request(Method::OPTIONS, server.url("/api/v1/flows"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            format!("content-type,{CSRF_HEADER}"),
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    let created = client
        .post(server.url("/api/v1/flows"))
        .header("origin", "https://app.example")
        .header(CSRF_HEADER, "1")
        .json(&json!({"organization": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let other = client
        .request(Method::OPTIONS, server.url("/api/v1/flows"))
        .header("origin", "https://other.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn each_login_gets_a_new_session_and_ends_the_old_one() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    let first = token_of(&set_cookie(&server.password(&flow, ALEX_PASSWORD).await));
    assert_eq!(session_with(&server, &first).await.status(), 200);
    // The same browser (cookie jar) logs in again.
    let flow = server.flow_for("alex").await;
    let second = token_of(&set_cookie(&server.password(&flow, ALEX_PASSWORD).await));
    assert_ne!(first, second);
    expect_problem(
        session_with(&server, &first).await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    assert_eq!(session_with(&server, &second).await.status(), 200);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let server = start().await;
    let flow = server.flow_for("sam").await;
    let resp = server.password(&flow, "quiet-meadow-compass").await;
    let token = token_of(&set_cookie(&resp));
    assert_eq!(server.get("/api/v1/session").await.status(), 200);
    let out = server
        .request(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(set_cookie(&out).contains("Max-Age=0"));
    // Even a copy of the old cookie no longer works.
    expect_problem(
        session_with(&server, &token).await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    expect_problem(
        server.get("/api/v1/session").await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    let again = server
        .request(Method::DELETE, "/api/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 204, "logging out twice is fine");
}

#[tokio::test]
async fn an_expired_flow_answers_410_with_a_replacement_keeping_organization_and_username() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    server.clock.advance(FLOW_SECONDS);
    for resp in [
        server.get(&format!("/api/v1/flows/{}", flow.id)).await,
        server.send_code(&flow).await,
        server.password(&flow, ALEX_PASSWORD).await,
    ] {
        let problem = expect_problem(resp, 410, ProblemCode::FlowExpired).await;
        let replacement = problem.replacement.unwrap();
        assert_ne!(replacement.id, flow.id);
        assert_eq!(replacement.organization.alias, "demo");
        assert_eq!(replacement.username.as_deref(), Some("alex"));
        assert_eq!(replacement.state, FlowState::ChooseMethod);
        assert_eq!(replacement.messages, [FlowMessage::FlowRestarted]);
    }
    let flow = server.flow_for("alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn steps_out_of_order_and_disabled_methods_are_refused() {
    let server = start().await;
    let resp = server
        .post("/api/v1/flows", json!({"organization": "demo"}))
        .await;
    let flow: Flow = resp.json().await.unwrap();
    // No username yet.
    expect_problem(
        server.send_code(&flow).await,
        409,
        ProblemCode::StepNotAllowed,
    )
    .await;
    expect_problem(
        server.verify(&flow, "123456").await,
        409,
        ProblemCode::StepNotAllowed,
    )
    .await;
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::EmailCode]),
            ..SettingsChange::default()
        })
        .await;
    let flow = server.flow_for("alex").await;
    expect_problem(
        server.password(&flow, ALEX_PASSWORD).await,
        400,
        ProblemCode::MethodNotEnabled,
    )
    .await;
    expect_problem(
        server.get("/api/v1/flows/no-such-flow").await,
        404,
        ProblemCode::FlowNotFound,
    )
    .await;
}

#[tokio::test]
async fn bad_requests_are_4xx_problem_documents_never_500() {
    let server = start().await;
    let flow = server.flow_for("alex").await;
    let username_path = format!("/api/v1/flows/{}/username", flow.id);
    let raw = |path: &str, content_type: &str, body: String| {
        server
            .request(Method::POST, path)
            .header("content-type", content_type.to_owned())
            .body(body)
            .send()
    };
    let cases: Vec<(reqwest::Response, u16, ProblemCode)> = vec![
        (
            raw("/api/v1/flows", "application/json", "{not json".into())
                .await
                .unwrap(),
            400,
            ProblemCode::BadRequest,
        ),
        (
            raw(
                "/api/v1/flows",
                "application/json",
                r#"{"organization": 42}"#.into(),
            )
            .await
            .unwrap(),
            400,
            ProblemCode::BadRequest,
        ),
        (
            raw(
                "/api/v1/flows",
                "application/json",
                r#"{"organization": "demo", "admin": true}"#.into(),
            )
            .await
            .unwrap(),
            400,
            ProblemCode::BadRequest,
        ),
        (
            raw("/api/v1/flows", "application/json", "{}".into())
                .await
                .unwrap(),
            400,
            ProblemCode::BadRequest,
        ),
        (
            raw(
                "/api/v1/flows",
                "text/plain",
                r#"{"organization":"demo"}"#.into(),
            )
            .await
            .unwrap(),
            415,
            ProblemCode::UnsupportedMediaType,
        ),
        (
            raw(
                "/api/v1/flows",
                "application/json",
                format!(r#"{{"organization":"{}"}}"#, "a".repeat(20_000)),
            )
            .await
            .unwrap(),
            413,
            ProblemCode::PayloadTooLarge,
        ),
        (
            raw(
                &username_path,
                "application/json",
                r#"{"username": ""}"#.into(),
            )
            .await
            .unwrap(),
            400,
            ProblemCode::InvalidUsername,
        ),
        (
            raw(
                &username_path,
                "application/json",
                format!(r#"{{"username": "{}"}}"#, "x".repeat(65)),
            )
            .await
            .unwrap(),
            400,
            ProblemCode::InvalidUsername,
        ),
        (
            raw(
                &username_path,
                "application/json",
                r#"{"username": "a\u0000b"}"#.into(),
            )
            .await
            .unwrap(),
            400,
            ProblemCode::InvalidUsername,
        ),
        (
            raw(
                "/api/v1/flows",
                "application/json",
                r#"{"organization": "nosuchorg"}"#.into(),
            )
            .await
            .unwrap(),
            404,
            ProblemCode::OrganizationNotFound,
        ),
        (
            server
                .request(Method::PUT, "/api/v1/flows")
                .send()
                .await
                .unwrap(),
            405,
            ProblemCode::MethodNotAllowed,
        ),
        (
            server.get("/api/v1/nothing/here").await,
            404,
            ProblemCode::NotFound,
        ),
    ];
    for (resp, status, code) in cases {
        expect_problem(resp, status, code).await;
    }
}

#[tokio::test]
async fn the_dev_mailbox_exists_only_in_dev_mode() {
    let server = start_with(Config {
        limits: relaxed(),
        ..Config::default()
    })
    .await;
    let flow = server.flow_for("alex").await;
    assert_eq!(server.send_code(&flow).await.status(), 200);
    expect_problem(
        server.get("/api/v1/dev/mailbox").await,
        404,
        ProblemCode::NotFound,
    )
    .await;
    // The email still went to the outbox (and the terminal).
    for _ in 0..100 {
        if !server.db.emails(Some(ALEX)).await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no email in the outbox");
}

#[tokio::test]
async fn the_openapi_document_is_served_and_names_every_problem_code() {
    let server = start().await;
    let doc: Value = server
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: Vec<&str> = doc["components"]["schemas"]["ProblemCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in ProblemCode::ALL {
        let name = serde_json::to_value(code).unwrap();
        assert!(
            documented.contains(&name.as_str().unwrap()),
            "{name} is not in docs/openapi.json"
        );
    }
    assert_eq!(documented.len(), ProblemCode::ALL.len());
}

/// Gives alex an authenticator secret and recovery codes, as enabling MFA does.
async fn enable_mfa(server: &TestServer, secret: &[u8], recovery: &[&str]) {
    let member = server
        .db
        .member_by_username(member_login_server::demo::ORGANIZATION_ID, "alex")
        .await
        .unwrap()
        .unwrap();
    let encoded = member_login_server::totp::base32_encode(secret);
    server
        .db
        .set_totp_pending(&member.id, &encoded)
        .await
        .unwrap();
    let hashes: Vec<String> = recovery
        .iter()
        .map(|code| member_login_server::secrets::digest(&[&member.id, code]))
        .collect();
    server
        .db
        .activate_totp(&member.id, 0, &hashes)
        .await
        .unwrap();
}

async fn second_factor(server: &TestServer, flow: &Flow, body: Value) -> reqwest::Response {
    server
        .post(&format!("/api/v1/flows/{}/second-factor", flow.id), body)
        .await
}

/// A flow for alex past the password, waiting for the second factor.
async fn at_second_factor(server: &TestServer) -> Flow {
    let flow = server.flow_for("alex").await;
    let resp = server.password(&flow, ALEX_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    assert!(
        !resp.headers().contains_key("set-cookie"),
        "no session before the second factor"
    );
    let flow: Flow = resp.json().await.unwrap();
    assert_eq!(flow.state, FlowState::SecondFactor);
    flow
}

#[tokio::test]
async fn members_with_mfa_need_an_authenticator_code_that_works_once() {
    let server = start().await;
    let secret = b"an-authenticator-key";
    enable_mfa(&server, secret, &[]).await;

    let flow = at_second_factor(&server).await;
    expect_problem(
        server.get("/api/v1/session").await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    // Out of order: the first factor cannot be given again to skip the second.
    expect_problem(
        server.password(&flow, ALEX_PASSWORD).await,
        409,
        ProblemCode::StepNotAllowed,
    )
    .await;
    let code = server.totp_code(secret, 0);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    expect_problem(
        second_factor(&server, &flow, json!({"method": "totp", "code": wrong})).await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    let resp = second_factor(&server, &flow, json!({"method": "totp", "code": code})).await;
    assert_eq!(resp.status(), 200);
    assert!(set_cookie(&resp).contains("HttpOnly"));
    let done: Flow = resp.json().await.unwrap();
    assert_eq!(done.state, FlowState::Complete);
    assert_eq!(server.get("/api/v1/session").await.status(), 200);

    // The same code cannot be replayed, even in a new flow.
    let flow = at_second_factor(&server).await;
    expect_problem(
        second_factor(&server, &flow, json!({"method": "totp", "code": code})).await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
}

#[tokio::test]
async fn an_authenticator_one_step_behind_or_ahead_is_accepted() {
    let server = start().await;
    let secret = b"another-authenticator";
    enable_mfa(&server, secret, &[]).await;
    // -1 then +1: each a later step than the one used before, so neither is a replay.
    for offset in [-1, 1] {
        let flow = at_second_factor(&server).await;
        let code = server.totp_code(secret, offset);
        let resp = second_factor(&server, &flow, json!({"method": "totp", "code": code})).await;
        assert_eq!(resp.status(), 200, "offset {offset}");
    }
    let flow = at_second_factor(&server).await;
    let far = server.totp_code(secret, 3);
    if (-1..=1).all(|o| server.totp_code(secret, o) != far) {
        expect_problem(
            second_factor(&server, &flow, json!({"method": "totp", "code": far})).await,
            401,
            ProblemCode::InvalidCredentials,
        )
        .await;
    }
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let server = start().await;
    enable_mfa(
        &server,
        b"a-third-authenticator",
        &["k3v9qm2xtp4w", "a7d2hr8nce5f"],
    )
    .await;
    let flow = at_second_factor(&server).await;
    // Typed in capitals with a dash: still the same code.
    let resp = second_factor(
        &server,
        &flow,
        json!({"method": "recovery_code", "code": "K3V9-QM2X-TP4W"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let flow = at_second_factor(&server).await;
    expect_problem(
        second_factor(
            &server,
            &flow,
            json!({"method": "recovery_code", "code": "k3v9qm2xtp4w"}),
        )
        .await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    expect_problem(
        second_factor(
            &server,
            &flow,
            json!({"method": "recovery_code", "code": "short"}),
        )
        .await,
        400,
        ProblemCode::InvalidCodeFormat,
    )
    .await;
    let resp = second_factor(
        &server,
        &flow,
        json!({"method": "recovery_code", "code": "a7d2hr8nce5f"}),
    )
    .await;
    assert_eq!(resp.status(), 200);
}

async fn unlock_with_cli(server: &TestServer, username: &str) {
    let out = server
        .cli(&["member", "unlock", "--org", "demo", "--username", username])
        .await;
    assert!(out.status.success(), "{out:?}");
}

#[tokio::test]
async fn the_session_lists_pending_requirements_and_an_overdue_grace_period_locks() {
    let server = start().await;
    let out = server
        .cli(&[
            "org",
            "settings",
            "--org",
            "demo",
            "--enforce-mfa",
            "true",
            "--enforce-password-renewal",
            "true",
            "--grace-days",
            "3",
            // Sessions that outlast the grace period, so the call after it meets the lock.
            "--session-hours",
            "720",
        ])
        .await;
    assert!(out.status.success(), "{out:?}");

    let flow = server.flow_for("alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    let kinds: Vec<RequirementKind> = session.requirements.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RequirementKind::UpdatePassword, RequirementKind::EnableMfa]
    );
    for r in &session.requirements {
        let left = r.deadline - session.now;
        assert!((3 * 86400 - 5..=3 * 86400).contains(&left), "{left}");
    }

    // Four days later: the next call locks, and so does the next login.
    server.clock.advance(4 * 86400);
    let problem = expect_problem(
        server.get("/api/v1/session").await,
        403,
        ProblemCode::AccountLocked,
    )
    .await;
    assert!(problem.detail.unwrap().contains("grace period"));
    let flow = server.flow_for("alex").await;
    expect_problem(
        server.password(&flow, ALEX_PASSWORD).await,
        403,
        ProblemCode::AccountLocked,
    )
    .await;

    // An administrator unlocks: a new grace period starts with the next login.
    unlock_with_cli(&server, "alex").await;
    let flow = server.flow_for("alex").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    assert!(session.requirements[0].deadline - session.now > 3 * 86400 - 5);
}

#[tokio::test]
async fn usernames_match_whatever_their_case() {
    let server = start().await;
    // "Sam" is the member sam: the code goes to sam's address, and logs sam in.
    let flow = server.flow_for("Sam").await;
    assert_eq!(flow.username.as_deref(), Some("sam"));
    assert_eq!(server.send_code(&flow).await.status(), 200);
    let code = server.code_number("sam@demo.example", 1).await;
    assert_eq!(server.verify(&flow, &code).await.status(), 200);
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    assert_eq!(session.member.username, "sam");
    // A password login in another case, too.
    let flow = server.flow_for("ALEX").await;
    assert_eq!(server.password(&flow, ALEX_PASSWORD).await.status(), 200);
    // And no second member can take the name in another case.
    let out = server
        .cli(&[
            "member",
            "create",
            "--org",
            "demo",
            "--username",
            "SAM",
            "--email",
            "impostor@demo.example",
        ])
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
}
