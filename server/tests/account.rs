//! A logged-in member meets the Organization's requirements: a new password checked against
//! the rules (other sessions end), and an authenticator set up with recovery codes.

mod common;

use common::{expect_problem, start, TestServer};
use member_login_api::flow::{Flow, FlowState};
use member_login_api::session::{
    MfaEnrollment, PasswordRule, RecoveryCodes, RequirementKind, Session,
};
use member_login_api::ProblemCode;
use member_login_server::store::SettingsChange;
use member_login_server::totp;
use reqwest::Method;
use serde_json::json;

const SAM_PASSWORD: &str = "quiet-meadow-compass";

/// Logs sam in with `server.client` (its cookie jar keeps the session).
async fn log_in(server: &TestServer, password: &str) -> reqwest::Response {
    let flow = server.flow_for("sam").await;
    server.password(&flow, password).await
}

async fn enforce_everything(server: &TestServer) {
    server
        .settings(SettingsChange {
            enforce_mfa: Some(true),
            enforce_password_renewal: Some(true),
            ..SettingsChange::default()
        })
        .await;
}

#[tokio::test]
async fn a_new_password_must_meet_every_rule() {
    let server = start().await;
    assert_eq!(log_in(&server, SAM_PASSWORD).await.status(), 200);
    for (password, broken) in [
        ("short", vec![PasswordRule::TooShort]),
        ("1qaz2wsx3edc", vec![PasswordRule::Common]),
        ("Q1W2E3R4T5Y6", vec![PasswordRule::Common]),
        ("hello-i-am-SAM-here", vec![PasswordRule::ContainsUsername]),
        (
            "sam",
            vec![PasswordRule::TooShort, PasswordRule::ContainsUsername],
        ),
    ] {
        let problem = expect_problem(
            server
                .post(
                    "/api/v1/session/password",
                    json!({ "new_password": password }),
                )
                .await,
            400,
            ProblemCode::PasswordRejected,
        )
        .await;
        assert_eq!(problem.rules, broken, "{password}");
    }
    let long = "x".repeat(129);
    let problem = expect_problem(
        server
            .post("/api/v1/session/password", json!({ "new_password": long }))
            .await,
        400,
        ProblemCode::PasswordRejected,
    )
    .await;
    assert_eq!(problem.rules, [PasswordRule::TooLong]);
}

#[tokio::test]
async fn changing_the_password_meets_the_requirement_and_ends_other_sessions() {
    let server = start().await;
    enforce_everything(&server).await;
    // Two devices: this client, and another.
    assert_eq!(log_in(&server, SAM_PASSWORD).await.status(), 200);
    let other = server.other_device();
    assert_eq!(log_in(&other, SAM_PASSWORD).await.status(), 200);

    let resp = server
        .post(
            "/api/v1/session/password",
            json!({ "new_password": "amber-river-telescope" }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let session: Session = resp.json().await.unwrap();
    let kinds: Vec<RequirementKind> = session.requirements.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RequirementKind::EnableMfa]);

    assert_eq!(
        server.get("/api/v1/session").await.status(),
        200,
        "this session stays"
    );
    expect_problem(
        other.get("/api/v1/session").await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    expect_problem(
        log_in(&other, SAM_PASSWORD).await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    assert_eq!(log_in(&other, "amber-river-telescope").await.status(), 200);
}

#[tokio::test]
async fn account_changes_need_a_session_and_the_csrf_header() {
    let server = start().await;
    expect_problem(
        server
            .post(
                "/api/v1/session/password",
                json!({ "new_password": "amber-river-telescope" }),
            )
            .await,
        401,
        ProblemCode::Unauthenticated,
    )
    .await;
    assert_eq!(log_in(&server, SAM_PASSWORD).await.status(), 200);
    let no_header = server
        .client
        .post(server.url("/api/v1/session/mfa"))
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    expect_problem(no_header, 403, ProblemCode::CsrfRejected).await;
}

#[tokio::test]
async fn setting_up_mfa_gives_recovery_codes_and_then_login_asks_for_a_second_factor() {
    let server = start().await;
    enforce_everything(&server).await;
    assert_eq!(log_in(&server, SAM_PASSWORD).await.status(), 200);

    expect_problem(
        server
            .post("/api/v1/session/mfa/verify", json!({"code": "123456"}))
            .await,
        409,
        ProblemCode::StepNotAllowed,
    )
    .await;
    let enrollment: MfaEnrollment = server
        .request(Method::POST, "/api/v1/session/mfa")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(totp::base32_decode(&enrollment.secret).unwrap().len(), 20);
    assert!(enrollment.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(enrollment
        .otpauth_uri
        .contains(&format!("secret={}", enrollment.secret)));
    assert!(enrollment.otpauth_uri.contains(":sam?"));

    let right = server.totp_code(&totp::base32_decode(&enrollment.secret).unwrap(), 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_problem(
        server
            .post("/api/v1/session/mfa/verify", json!({"code": wrong}))
            .await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    let codes: RecoveryCodes = server
        .post("/api/v1/session/mfa/verify", json!({"code": right}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.recovery_codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.recovery_codes.iter().collect();
    assert_eq!(distinct.len(), 10);

    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    assert!(session
        .requirements
        .iter()
        .all(|r| r.kind != RequirementKind::EnableMfa));
    expect_problem(
        server
            .request(Method::POST, "/api/v1/session/mfa")
            .send()
            .await
            .unwrap(),
        409,
        ProblemCode::StepNotAllowed,
    )
    .await;

    // From now on the password alone is not enough; the code used to set up is spent, and a
    // recovery code works once.
    let resp = log_in(&server, SAM_PASSWORD).await;
    let flow: Flow = resp.json().await.unwrap();
    assert_eq!(flow.state, FlowState::SecondFactor);
    expect_problem(
        server
            .post(
                &format!("/api/v1/flows/{}/second-factor", flow.id),
                json!({"method": "totp", "code": right}),
            )
            .await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
    let recovery = &codes.recovery_codes[3];
    let resp = server
        .post(
            &format!("/api/v1/flows/{}/second-factor", flow.id),
            json!({"method": "recovery_code", "code": recovery.to_uppercase()}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let flow: Flow = log_in(&server, SAM_PASSWORD).await.json().await.unwrap();
    expect_problem(
        server
            .post(
                &format!("/api/v1/flows/{}/second-factor", flow.id),
                json!({"method": "recovery_code", "code": recovery}),
            )
            .await,
        401,
        ProblemCode::InvalidCredentials,
    )
    .await;
}
