//! Emails in the member's language: a flow records the language the app names when it starts
//! it (`fr`, `fr-CA` → French; anything else, or none → English), keeps it through its steps
//! and its replacement, and every email it leads to is written in it — the code (whose link
//! opens the app's code step in that language), the lock after failed logins, and the emails
//! about changes made in the session it opened. The API's answers stay language-neutral.

mod common;

use common::{expect_problem, start, TestServer};
use member_login_api::flow::Flow;
use member_login_api::session::RecoveryCodes;
use member_login_api::ProblemCode;
use member_login_server::login::flow::FLOW_SECONDS;
use member_login_server::store::SettingsChange;
use member_login_server::totp;
use reqwest::Method;
use serde_json::{json, Value};

const ALEX: &str = "alex@demo.example";
const SAM: &str = "sam@demo.example";
const SAM_PASSWORD: &str = "quiet-meadow-compass";

/// A new flow for the demo Organization, with `username` given, started with `language` (as
/// the app sends it; `None` leaves the field out).
async fn flow_in(server: &TestServer, username: &str, language: Option<&str>) -> Flow {
    let mut body = json!({"organization": "demo", "username": username});
    if let Some(language) = language {
        body["language"] = json!(language);
    }
    let resp = server.post("/api/v1/flows", body).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

/// Sends a code for the flow and returns the email it arrived in, with the code.
async fn code_email(server: &TestServer, flow: &Flow) -> (Value, String) {
    server.wait_out_cooldown("alex").await;
    let before = server.mailbox(ALEX).await.len();
    assert_eq!(server.send_code(flow).await.status(), 200);
    let code = server.code_number(ALEX, before + 1).await;
    (server.mailbox(ALEX).await[0].clone(), code)
}

fn text<'a>(email: &'a Value, field: &str) -> &'a str {
    email[field].as_str().unwrap()
}

/// The code step's link for the flow, as the email should carry it in French.
fn french_link(server: &TestServer, flow: &Flow, code: &str) -> String {
    format!(
        "{}/login/code?organization=demo&flow={}&code={code}&lang=fr",
        server.base, flow.id
    )
}

fn assert_french_code_email(server: &TestServer, email: &Value, flow: &Flow, code: &str) {
    assert_eq!(
        text(email, "subject"),
        "Votre code de connexion pour Demo Organization"
    );
    let body = text(email, "body");
    assert!(body.starts_with("Bonjour alex,\n"), "{body}");
    assert!(
        body.contains("Votre code pour vous connecter à Demo Organization est"),
        "{body}"
    );
    assert!(body.contains("Il est valable 10 minutes."), "{body}");
    assert!(
        body.contains(&format!("\n{}\n", french_link(server, flow, code))),
        "the link opens the code step in French: {body}"
    );
}

fn assert_english_code_email(server: &TestServer, email: &Value, flow: &Flow, code: &str) {
    assert_eq!(
        text(email, "subject"),
        "Your login code for Demo Organization"
    );
    let body = text(email, "body");
    assert!(body.starts_with("Hello alex,\n"), "{body}");
    let link = format!(
        "{}/login/code?organization=demo&flow={}&code={code}&lang=en",
        server.base, flow.id
    );
    assert!(body.contains(&format!("\n{link}\n")), "{body}");
}

#[tokio::test]
async fn a_code_login_started_in_french_gets_its_email_in_french() {
    let server = start().await;
    let flow = flow_in(&server, "alex", Some("fr")).await;
    let (email, code) = code_email(&server, &flow).await;
    assert_french_code_email(&server, &email, &flow, &code);
    // The answers themselves name no language.
    let done = server.verify(&flow, &code).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert!(done.get("language").is_none(), "{done}");
}

#[tokio::test]
async fn a_language_is_named_by_its_primary_subtag_and_others_are_english() {
    let server = start().await;
    for (language, french) in [
        (Some("fr-CA"), true),
        (Some("FR"), true),
        (Some("fr_BE"), true),
        (None, false),
        (Some("en"), false),
        (Some("de"), false),
        (Some("en-GB"), false),
        (Some(""), false),
        (Some("français"), false),
    ] {
        let flow = flow_in(&server, "alex", language).await;
        let (email, code) = code_email(&server, &flow).await;
        if french {
            assert_french_code_email(&server, &email, &flow, &code);
        } else {
            assert_english_code_email(&server, &email, &flow, &code);
        }
    }
}

#[tokio::test]
async fn the_language_stays_through_the_username_step_and_a_change_of_username() {
    let server = start().await;
    let created: Flow = server
        .post(
            "/api/v1/flows",
            json!({"organization": "demo", "language": "fr-CA"}),
        )
        .await
        .json()
        .await
        .unwrap();
    for username in ["sam", "alex"] {
        let resp = server
            .post(
                &format!("/api/v1/flows/{}/username", created.id),
                json!({ "username": username }),
            )
            .await;
        assert_eq!(resp.status(), 200);
    }
    let (email, code) = code_email(&server, &created).await;
    assert_french_code_email(&server, &email, &created, &code);
}

#[tokio::test]
async fn an_expired_flows_replacement_keeps_its_language() {
    let server = start().await;
    let flow = flow_in(&server, "alex", Some("fr")).await;
    server.clock.advance(FLOW_SECONDS);
    let problem =
        expect_problem(server.send_code(&flow).await, 410, ProblemCode::FlowExpired).await;
    let replacement = *problem.replacement.unwrap();
    assert_ne!(replacement.id, flow.id);
    let (email, code) = code_email(&server, &replacement).await;
    assert_french_code_email(&server, &email, &replacement, &code);
    assert_eq!(server.verify(&replacement, &code).await.status(), 200);
}

async fn wrong_passwords_in_french(server: &TestServer, times: usize) {
    for _ in 0..times {
        let flow = flow_in(server, "alex", Some("fr")).await;
        let resp = server.password(&flow, "not-the-password").await;
        expect_problem(resp, 401, ProblemCode::InvalidCredentials).await;
    }
}

#[tokio::test]
async fn the_lock_email_is_in_the_language_of_the_failing_flow() {
    let server = start().await;
    wrong_passwords_in_french(&server, 5).await;
    let mail = server.mailbox(ALEX).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(
        text(&mail[0], "subject"),
        "Votre compte Demo Organization est verrouillé"
    );
    let body = text(&mail[0], "body");
    assert!(body.starts_with("Bonjour alex,\n"), "{body}");
    assert!(
        body.contains(
            "Après 5 connexions échouées, votre compte dans Demo Organization est verrouillé \
             pendant 15 minutes."
        ),
        "{body}"
    );

    // Locked until an administrator unlocks: said in French too.
    let out = server
        .cli(&["member", "unlock", "--org", "demo", "--username", "alex"])
        .await;
    assert!(out.status.success(), "{out:?}");
    server
        .settings(SettingsChange {
            lock_until_unlocked: Some(true),
            ..SettingsChange::default()
        })
        .await;
    server.clock.advance(15 * 60);
    wrong_passwords_in_french(&server, 5).await;
    let mail = server.mailbox(ALEX).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let body = text(&mail[0], "body");
    assert!(
        body.contains(
            "est verrouillé jusqu'à ce qu'un administrateur de votre Organisation le \
             déverrouille."
        ),
        "{body}"
    );
}

/// Logs sam in with a password in a flow started in `language` (the client keeps the session).
async fn sam_logs_in(server: &TestServer, language: &str) {
    let flow = server
        .post(
            "/api/v1/flows",
            json!({"organization": "demo", "username": "sam", "language": language}),
        )
        .await
        .json::<Flow>()
        .await
        .unwrap();
    assert_eq!(server.password(&flow, SAM_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn account_emails_are_in_the_language_of_the_login_that_opened_the_session() {
    let server = start().await;
    sam_logs_in(&server, "fr").await;
    let resp = server
        .post(
            "/api/v1/session/password",
            json!({ "new_password": "amber-river-telescope" }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mail = server.mailbox(SAM).await;
    assert_eq!(text(&mail[0], "subject"), "Votre mot de passe a été changé");
    let body = text(&mail[0], "body");
    assert!(body.starts_with("Bonjour sam,\n"), "{body}");
    assert!(
        body.contains(
            "Le mot de passe de votre compte dans Demo Organization a été changé, et toutes \
             vos autres sessions ont été déconnectées."
        ),
        "{body}"
    );

    // The same session sets up an authenticator: told in French too.
    let enrollment: Value = server
        .request(Method::POST, "/api/v1/session/mfa")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = totp::base32_decode(enrollment["secret"].as_str().unwrap()).unwrap();
    let codes: RecoveryCodes = server
        .post(
            "/api/v1/session/mfa/verify",
            json!({"code": server.totp_code(&secret, 0)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.recovery_codes.len(), 10);
    let mail = server.mailbox(SAM).await;
    assert_eq!(text(&mail[0], "subject"), "La MFA a été activée");
    let body = text(&mail[0], "body");
    assert!(
        body.contains("deuxième facteur de votre compte dans Demo Organization"),
        "{body}"
    );
}

#[tokio::test]
async fn account_emails_of_a_session_opened_in_english_are_in_english() {
    let server = start().await;
    sam_logs_in(&server, "en-US").await;
    let resp = server
        .post(
            "/api/v1/session/password",
            json!({ "new_password": "amber-river-telescope" }),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mail = server.mailbox(SAM).await;
    assert_eq!(text(&mail[0], "subject"), "Your password was changed");
    assert_eq!(
        text(&mail[0], "body"),
        "Hello sam,\n\nIn Demo Organization, the password of your account was changed, and \
         every other session of yours was logged out.\n\nIf this was not you, contact an \
         administrator of your Organization at once.\n"
    );
}
