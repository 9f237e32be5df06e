//! Passkeys end to end: a software authenticator (1Password's `passkey` crates: a WebAuthn
//! client and a CTAP2 authenticator with discoverable credentials and user verification) plays
//! the browser and the device against a real server, on the backend under test.

mod common;

use common::authenticator::Device;
use common::{expect_problem, start, TestServer};
use member_login_api::flow::{Flow, FlowState, SecondFactorMethod};
use member_login_api::passkey::{Passkey as ApiPasskey, Passkeys, CHALLENGE_SECONDS, MAX_PASSKEYS};
use member_login_api::session::{RequirementKind, Session};
use member_login_api::{LoginMethod, ProblemCode};
use member_login_server::demo;
use member_login_server::session::RECENT_LOGIN_SECONDS;
use member_login_server::store::{
    NewOrganization, PasskeyRecord, PublicSettings, SecuritySettings, SettingsChange,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

const SAM_PASSWORD: &str = "quiet-meadow-compass";
const ALEX_PASSWORD: &str = "violet-harbor-lantern";

/// A device with the app's pages at `http://localhost:PORT`, the name passkeys take for the
/// loopback server.
fn device_for(server: &TestServer) -> Device {
    let port = Url::parse(&server.base).unwrap().port().unwrap();
    Device::at(&format!("http://localhost:{port}"))
}

async fn log_in(server: &TestServer, username: &str, password: &str) {
    let flow = server.flow_for(username).await;
    let resp = server.password(&flow, password).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Adds a passkey named `name` from `device` in the logged-in session of `server.client`.
async fn add_passkey(server: &TestServer, device: &mut Device, name: &str) -> ApiPasskey {
    let options = json_of(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        200,
    )
    .await;
    let credential = device.create(options).await;
    serde_json::from_value(
        json_of(
            server
                .post(
                    "/api/v1/session/passkeys",
                    json!({ "name": name, "credential": credential }),
                )
                .await,
            201,
        )
        .await,
    )
    .unwrap()
}

/// A new flow of the demo Organization, with no username.
async fn bare_flow(server: &TestServer, organization: &str) -> Flow {
    serde_json::from_value(
        json_of(
            server
                .post("/api/v1/flows", json!({ "organization": organization }))
                .await,
            201,
        )
        .await,
    )
    .unwrap()
}

async fn login_options(server: &TestServer, flow: &Flow) -> Value {
    json_of(
        server
            .post(
                &format!("/api/v1/flows/{}/passkey/options", flow.id),
                json!({}),
            )
            .await,
        200,
    )
    .await
}

async fn answer(server: &TestServer, flow: &Flow, credential: &Value) -> reqwest::Response {
    server
        .post(
            &format!("/api/v1/flows/{}/passkey", flow.id),
            json!({ "credential": credential }),
        )
        .await
}

/// On a new device of nobody's, a discoverable sign-in to `organization` with `device`'s
/// passkey: the answer to it.
async fn sign_in_elsewhere(
    server: &TestServer,
    device: &mut Device,
    organization: &str,
) -> reqwest::Response {
    let other = server.other_device();
    let flow = bare_flow(&other, organization).await;
    let options = login_options(&other, &flow).await;
    let credential = device.get(options).await;
    answer(&other, &flow, &credential).await
}

/// sam logged in on `server.client` with a passkey on a new device.
async fn sam_with_passkey(server: &TestServer) -> (Device, ApiPasskey) {
    log_in(server, "sam", SAM_PASSWORD).await;
    let mut device = device_for(server);
    let added = add_passkey(server, &mut device, "  Work laptop ").await;
    (device, added)
}

#[tokio::test]
async fn registration_asks_for_a_discoverable_verified_passkey_and_emails_the_member() {
    let server = start().await;
    log_in(&server, "sam", SAM_PASSWORD).await;
    let options = json_of(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        200,
    )
    .await;
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    // The device lists it by username and Organization: the same username may be a member of
    // another Organization on this login app.
    assert_eq!(public_key["user"]["name"], "sam@demo");
    assert_eq!(public_key["user"]["displayName"], "sam (Demo Organization)");
    assert_eq!(
        public_key["authenticatorSelection"]["residentKey"],
        "required"
    );
    assert_eq!(
        public_key["authenticatorSelection"]["requireResidentKey"],
        true
    );
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    let mut device = device_for(&server);
    let credential = device.create(options).await;
    let added: ApiPasskey = serde_json::from_value(
        json_of(
            server
                .post(
                    "/api/v1/session/passkeys",
                    json!({ "name": " Phone ", "credential": credential }),
                )
                .await,
            201,
        )
        .await,
    )
    .unwrap();
    assert_eq!(added.name, "Phone");
    assert_eq!(added.last_used_at, None);
    assert!(device.passkey().user_handle.is_some(), "discoverable");
    let mails = server.mailbox("sam@demo.example").await;
    assert!(
        mails
            .iter()
            .any(|m| m["subject"] == "A passkey was added: Phone"),
        "{mails:?}"
    );
    // The challenge was used: the same answer again is refused.
    expect_problem(
        server
            .post(
                "/api/v1/session/passkeys",
                json!({ "name": "Again", "credential": credential }),
            )
            .await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    // The passkey is excluded from the next registration's options.
    let next = json_of(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(
        next["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_passkey_logs_in_with_no_username_and_its_counter_and_use_are_kept() {
    let server = start().await;
    let (mut device, added) = sam_with_passkey(&server).await;
    let other = server.other_device();
    let flow = bare_flow(&other, "demo").await;
    assert_eq!(flow.state, FlowState::Username);
    let options = login_options(&other, &flow).await;
    assert!(options["publicKey"]
        .get("allowCredentials")
        .is_none_or(|a| a.as_array().is_some_and(Vec::is_empty)));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let before = device.passkey().counter;
    let credential = device.get(options).await;
    let resp = answer(&other, &flow, &credential).await;
    assert!(resp
        .headers()
        .get("set-cookie")
        .is_some_and(|c| c.to_str().unwrap().contains("member-login-session")));
    let done: Flow = serde_json::from_value(json_of(resp, 200).await).unwrap();
    assert_eq!(done.state, FlowState::Complete);
    assert_eq!(done.username.as_deref(), Some("sam"));
    let session: Session = other.get("/api/v1/session").await.json().await.unwrap();
    assert_eq!(session.member.username, "sam");
    let list: Passkeys = other
        .get("/api/v1/session/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.passkeys.len(), 1);
    assert_eq!(list.passkeys[0].id, added.id);
    assert_eq!(list.passkeys[0].last_used_at, Some(server.clock.now()));
    // The authenticator's counter moved on, and the server kept the new one.
    assert!(device.passkey().counter > before);
    let stored = server
        .db
        .passkeys(
            &server
                .db
                .member_by_username(demo::ORGANIZATION_ID, "sam")
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    let counter: Value = serde_json::from_str(&stored[0].credential).unwrap();
    // The backup state, which the list shows as `synced` (this software authenticator, like
    // a password manager's, says its passkeys are backed up), from registration on.
    assert_eq!(counter["cred"]["backup_state"], Value::Bool(true));
    assert!(added.synced);
    assert!(list.passkeys[0].synced);
    assert_eq!(
        counter["cred"]["counter"].as_u64(),
        device.passkey().counter.map(u64::from)
    );
}

#[tokio::test]
async fn a_challenge_and_an_answer_are_used_once() {
    let server = start().await;
    let (mut device, _) = sam_with_passkey(&server).await;
    let other = server.other_device();
    let flow = bare_flow(&other, "demo").await;
    // An answer with no challenge asked for.
    let stale = {
        let first = bare_flow(&other, "demo").await;
        let options = login_options(&other, &first).await;
        device.get(options).await
    };
    expect_problem(
        answer(&other, &flow, &stale).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    // A challenge of another flow does not answer this one's.
    let _ = login_options(&other, &flow).await;
    expect_problem(
        answer(&other, &flow, &stale).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    // The challenge is gone after that try, however it went.
    let options = login_options(&other, &flow).await;
    let credential = device.get(options).await;
    assert_eq!(answer(&other, &flow, &credential).await.status(), 200);
    // Replayed on a new flow (no challenge, then a new one): refused.
    let again = bare_flow(&server.other_device(), "demo").await;
    let third = server.other_device();
    expect_problem(
        answer(&third, &again, &credential).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    let _ = login_options(&third, &again).await;
    expect_problem(
        answer(&third, &again, &credential).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    // A challenge expires.
    let late = bare_flow(&third, "demo").await;
    let options = login_options(&third, &late).await;
    let credential = device.get(options).await;
    server.clock.advance(CHALLENGE_SECONDS);
    expect_problem(
        answer(&third, &late, &credential).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
}

#[tokio::test]
async fn an_answer_from_another_origin_is_refused() {
    let server = start().await;
    let (device, _) = sam_with_passkey(&server).await;
    let other = server.other_device();
    let flow = bare_flow(&other, "demo").await;
    let options = login_options(&other, &flow).await;
    // The same passkey, used from a page on another port of localhost.
    let mut elsewhere = device.copy_at("http://localhost:1");
    let credential = elsewhere.get(options).await;
    expect_problem(
        answer(&other, &flow, &credential).await,
        401,
        ProblemCode::PasskeyRefused,
    )
    .await;
    let session = other.get("/api/v1/session").await;
    assert_eq!(session.status(), 401);
}

#[tokio::test]
async fn a_passkey_of_another_organization_is_refused() {
    let server = start().await;
    let (mut device, _) = sam_with_passkey(&server).await;
    server
        .db
        .ensure_organization(&NewOrganization {
            id: "6a1f0f5e-3c2b-4d8e-9f10-1a2b3c4d5e6f".into(),
            alias: "other".into(),
            name: "Other".into(),
            login_methods: vec![LoginMethod::Password, LoginMethod::Passkey],
            max_failed_logins: 5,
            session_seconds: 3600,
            security: SecuritySettings::default(),
            public: PublicSettings::default(),
        })
        .await
        .unwrap();
    expect_problem(
        sign_in_elsewhere(&server, &mut device, "other").await,
        401,
        ProblemCode::PasskeyOfAnotherOrganization,
    )
    .await;
}

#[tokio::test]
async fn a_removed_passkey_is_not_recognized_and_only_its_owner_manages_it() {
    let server = start().await;
    let (mut device, added) = sam_with_passkey(&server).await;
    // alex cannot rename or remove sam's passkey.
    let alex = server.other_device();
    log_in(&alex, "alex", ALEX_PASSWORD).await;
    let path = format!("/api/v1/session/passkeys/{}", added.id);
    expect_problem(
        alex.request(Method::PATCH, &path)
            .json(&json!({ "name": "Mine" }))
            .send()
            .await
            .unwrap(),
        404,
        ProblemCode::NotFound,
    )
    .await;
    expect_problem(
        alex.request(Method::DELETE, &path).send().await.unwrap(),
        404,
        ProblemCode::NotFound,
    )
    .await;
    // sam renames it, then removes it.
    expect_problem(
        server
            .request(Method::PATCH, &path)
            .json(&json!({ "name": "\u{202E}" }))
            .send()
            .await
            .unwrap(),
        400,
        ProblemCode::InvalidPasskeyName,
    )
    .await;
    let renamed: ApiPasskey = json_of(
        server
            .request(Method::PATCH, &path)
            .json(&json!({ "name": "Old laptop" }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
    .as_object()
    .map(|o| serde_json::from_value(Value::Object(o.clone())).unwrap())
    .unwrap();
    assert_eq!(renamed.name, "Old laptop");
    let resp = server.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let list: Passkeys = server
        .get("/api/v1/session/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert!(list.passkeys.is_empty());
    let mails = server.mailbox("sam@demo.example").await;
    assert!(
        mails
            .iter()
            .any(|m| m["subject"] == "A passkey was removed: Old laptop"),
        "{mails:?}"
    );
    expect_problem(
        sign_in_elsewhere(&server, &mut device, "demo").await,
        401,
        ProblemCode::PasskeyNotRecognized,
    )
    .await;
}

#[tokio::test]
async fn a_passkey_is_the_second_factor_after_a_password() {
    let server = start().await;
    let (mut device, _) = sam_with_passkey(&server).await;
    let other = server.other_device();
    let flow = other.flow_for("sam").await;
    let at_second: Flow = other
        .password(&flow, SAM_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(at_second.state, FlowState::SecondFactor);
    assert_eq!(at_second.second_factors, [SecondFactorMethod::Passkey]);
    let read: Flow = other
        .get(&format!("/api/v1/flows/{}", flow.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read.second_factors, [SecondFactorMethod::Passkey]);
    let options = login_options(&other, &flow).await;
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "sam's passkey only");
    let credential = device.get(options).await;
    let done: Flow = json_of(answer(&other, &flow, &credential).await, 200)
        .await
        .as_object()
        .map(|o| serde_json::from_value(Value::Object(o.clone())).unwrap())
        .unwrap();
    assert_eq!(done.state, FlowState::Complete);
    assert_eq!(other.get("/api/v1/session").await.status(), 200);

    // alex's passkey is not sam's second factor.
    let alex = server.other_device();
    log_in(&alex, "alex", ALEX_PASSWORD).await;
    let mut alex_device = device_for(&server);
    add_passkey(&alex, &mut alex_device, "Alex's").await;
    let third = server.other_device();
    let flow = third.flow_for("sam").await;
    third.password(&flow, SAM_PASSWORD).await;
    let options = login_options(&third, &flow).await;
    let mut options_for_alex = options.clone();
    options_for_alex["publicKey"]
        .as_object_mut()
        .unwrap()
        .remove("allowCredentials");
    let credential = alex_device.get(options_for_alex).await;
    expect_problem(
        answer(&third, &flow, &credential).await,
        401,
        ProblemCode::PasskeyNotRecognized,
    )
    .await;

    // Where the Organization turns passkeys off, they are no second factor.
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::Password]),
            ..SettingsChange::default()
        })
        .await;
    let fourth = server.other_device();
    let flow = fourth.flow_for("sam").await;
    let done: Flow = fourth
        .password(&flow, SAM_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done.state, FlowState::Complete);
}

#[tokio::test]
async fn a_locked_member_is_told_after_a_right_passkey() {
    let server = start().await;
    let (mut device, _) = sam_with_passkey(&server).await;
    let out = server
        .cli(&["member", "lock", "--org", "demo", "--username", "sam"])
        .await;
    assert!(out.status.success(), "{out:?}");
    expect_problem(
        sign_in_elsewhere(&server, &mut device, "demo").await,
        403,
        ProblemCode::AccountLocked,
    )
    .await;
}

#[tokio::test]
async fn adding_and_removing_need_a_recent_login_and_renaming_does_not() {
    let server = start().await;
    let (_, added) = sam_with_passkey(&server).await;
    server.clock.advance(RECENT_LOGIN_SECONDS + 1);
    expect_problem(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        403,
        ProblemCode::ReauthenticationRequired,
    )
    .await;
    let path = format!("/api/v1/session/passkeys/{}", added.id);
    expect_problem(
        server.request(Method::DELETE, &path).send().await.unwrap(),
        403,
        ProblemCode::ReauthenticationRequired,
    )
    .await;
    let resp = server
        .request(Method::PATCH, &path)
        .json(&json!({ "name": "Still mine" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_disabled_method_is_refused_but_the_list_still_answers() {
    let server = start().await;
    let (mut device, added) = sam_with_passkey(&server).await;
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::EmailCode, LoginMethod::Password]),
            ..SettingsChange::default()
        })
        .await;
    expect_problem(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        400,
        ProblemCode::MethodNotEnabled,
    )
    .await;
    let list: Passkeys = server
        .get("/api/v1/session/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.passkeys, [added]);
    let other = server.other_device();
    let flow = bare_flow(&other, "demo").await;
    expect_problem(
        other
            .post(
                &format!("/api/v1/flows/{}/passkey/options", flow.id),
                json!({}),
            )
            .await,
        400,
        ProblemCode::MethodNotEnabled,
    )
    .await;
    // Not even with a challenge asked for while it was on.
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::Passkey]),
            ..SettingsChange::default()
        })
        .await;
    let options = login_options(&other, &flow).await;
    let credential = device.get(options).await;
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::Password]),
            ..SettingsChange::default()
        })
        .await;
    expect_problem(
        answer(&other, &flow, &credential).await,
        400,
        ProblemCode::MethodNotEnabled,
    )
    .await;
}

#[tokio::test]
async fn a_passkey_meets_the_mfa_requirement() {
    let server = start().await;
    log_in(&server, "sam", SAM_PASSWORD).await;
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    assert!(session
        .requirements
        .iter()
        .any(|r| r.kind == RequirementKind::EnableMfa));
    let mut device = device_for(&server);
    add_passkey(&server, &mut device, "Phone").await;
    let session: Session = server.get("/api/v1/session").await.json().await.unwrap();
    assert!(
        !session
            .requirements
            .iter()
            .any(|r| r.kind == RequirementKind::EnableMfa),
        "{:?}",
        session.requirements
    );
}

#[tokio::test]
async fn the_second_factor_step_lists_a_passkey_first_then_the_authenticator() {
    let server = start().await;
    let (_, _) = sam_with_passkey(&server).await;
    let sam = server
        .db
        .member_by_username(demo::ORGANIZATION_ID, "sam")
        .await
        .unwrap()
        .unwrap();
    server
        .db
        .set_totp_pending(&sam.id, "JBSWY3DPEHPK3PXP")
        .await
        .unwrap();
    server.db.activate_totp(&sam.id, 0, &[]).await.unwrap();
    let other = server.other_device();
    let flow = other.flow_for("sam").await;
    let at_second: Flow = other
        .password(&flow, SAM_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(at_second.state, FlowState::SecondFactor);
    assert_eq!(
        at_second.second_factors,
        [
            SecondFactorMethod::Passkey,
            SecondFactorMethod::Totp,
            SecondFactorMethod::RecoveryCode
        ]
    );
    // Without passkeys enabled, the authenticator alone.
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::Password]),
            ..SettingsChange::default()
        })
        .await;
    let read: Flow = other
        .get(&format!("/api/v1/flows/{}", flow.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        read.second_factors,
        [SecondFactorMethod::Totp, SecondFactorMethod::RecoveryCode]
    );
}

#[tokio::test]
async fn an_administrator_turns_passkeys_on_and_off_like_any_method() {
    let server = start().await;
    let out = server
        .cli(&["org", "settings", "--org", "demo", "--methods", "password"])
        .await;
    assert!(out.status.success(), "{out:?}");
    let org: member_login_api::Organization = server
        .get("/api/v1/organizations/demo")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(org.login_methods, [LoginMethod::Password]);
    let out = server
        .cli(&[
            "org",
            "settings",
            "--org",
            "demo",
            "--methods",
            "passkey,email_code",
        ])
        .await;
    assert!(out.status.success(), "{out:?}");
    let org: member_login_api::Organization = server
        .get("/api/v1/organizations/demo")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        org.login_methods,
        [LoginMethod::Passkey, LoginMethod::EmailCode]
    );
    let list = server.cli(&["org", "list"]).await;
    assert!(String::from_utf8_lossy(&list.stdout).contains("methods=passkey,email_code"));
    let refused = server
        .cli(&["org", "settings", "--org", "demo", "--methods", "webauthn"])
        .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("email_code, password or passkey"));
    // Passkeys alone would let nobody in: a member adds one only once logged in.
    for args in [
        &["org", "settings", "--org", "demo", "--methods", "passkey"][..],
        &[
            "org",
            "create",
            "--alias",
            "keys",
            "--name",
            "Keys",
            "--methods",
            "passkey",
        ],
    ] {
        let refused = server.cli(args).await;
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("email_code or password too"),
            "{refused:?}"
        );
    }
    let org: member_login_api::Organization = server
        .get("/api/v1/organizations/demo")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        org.login_methods,
        [LoginMethod::Passkey, LoginMethod::EmailCode]
    );
}

#[test]
fn the_local_server_says_to_open_it_at_localhost() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_member-login-server"))
        .args(["--data", dir.path().join("db.sqlite3").to_str().unwrap()])
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = std::io::BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("Demo members"))
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    let port = lines
        .iter()
        .find_map(|l| l.strip_prefix("Member Login is listening on http://127.0.0.1:"))
        .and_then(|rest| rest.trim_end_matches('/').parse::<u16>().ok())
        .expect("the listening line");
    let open = format!("http://localhost:{port}/");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("Open {open}"))),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("{open}login/organization?organization=demo"))),
        "{lines:?}"
    );
}

/// sam, whose only second factor is a passkey, long after his first login's grace period, and
/// just logged in with that passkey on `server.client`.
async fn sam_later_with_only_a_passkey(server: &TestServer) -> ApiPasskey {
    server
        .settings(SettingsChange {
            enforce_password_renewal: Some(false),
            ..SettingsChange::default()
        })
        .await;
    let (mut device, added) = sam_with_passkey(server).await;
    server.clock.advance(30 * 86400);
    let flow = bare_flow(server, "demo").await;
    let options = login_options(server, &flow).await;
    let credential = device.get(options).await;
    assert_eq!(answer(server, &flow, &credential).await.status(), 200);
    added
}

/// The MFA requirement of a session that is not locked, and its deadline.
async fn mfa_deadline(server: &TestServer) -> Option<i64> {
    let resp = server.get("/api/v1/session").await;
    assert_eq!(resp.status(), 200, "the member must not be locked");
    let session: Session = resp.json().await.unwrap();
    session
        .requirements
        .iter()
        .find(|r| r.kind == RequirementKind::EnableMfa)
        .map(|r| r.deadline)
}

#[tokio::test]
async fn removing_the_last_passkey_starts_a_new_grace_period_not_a_lock() {
    let server = start().await;
    let added = sam_later_with_only_a_passkey(&server).await;
    assert_eq!(mfa_deadline(&server).await, None);
    let path = format!("/api/v1/session/passkeys/{}", added.id);
    let resp = server.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    // The grace period of his first login ended weeks ago; a new one starts now.
    let grace = 3 * 86400;
    assert_eq!(
        mfa_deadline(&server).await,
        Some(server.clock.now() + grace)
    );
}

#[tokio::test]
async fn turning_passkeys_off_gives_their_members_a_new_grace_period_and_lets_them_remove_one() {
    let server = start().await;
    let added = sam_later_with_only_a_passkey(&server).await;
    server
        .settings(SettingsChange {
            login_methods: Some(vec![LoginMethod::EmailCode, LoginMethod::Password]),
            ..SettingsChange::default()
        })
        .await;
    assert_eq!(
        mfa_deadline(&server).await,
        Some(server.clock.now() + 3 * 86400)
    );
    // A lost device's passkey can go while passkeys are off, so it cannot come back with them.
    let path = format!("/api/v1/session/passkeys/{}", added.id);
    let resp = server.request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let list: Passkeys = server
        .get("/api/v1/session/passkeys")
        .await
        .json()
        .await
        .unwrap();
    assert!(list.passkeys.is_empty());
}

#[tokio::test]
async fn a_member_has_at_most_twenty_passkeys() {
    let server = start().await;
    log_in(&server, "sam", SAM_PASSWORD).await;
    let mut device = device_for(&server);
    // A registration started while there was room…
    let options = json_of(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        200,
    )
    .await;
    let credential = device.create(options).await;
    // …and the member at the most meanwhile (records of other devices, as stored).
    let sam = server
        .db
        .member_by_username(demo::ORGANIZATION_ID, "sam")
        .await
        .unwrap()
        .unwrap();
    for i in 0..MAX_PASSKEYS {
        let added = server
            .db
            .add_passkey(&PasskeyRecord {
                id: format!("other-{i}"),
                member_id: sam.id.clone(),
                organization_id: sam.organization_id.clone(),
                credential_id: format!("credential-{i}"),
                name: format!("Key {i}"),
                credential: "{}".into(),
                synced: false,
                created_at: server.clock.now(),
                last_used_at: None,
            })
            .await
            .unwrap();
        assert!(added);
    }
    expect_problem(
        server
            .post(
                "/api/v1/session/passkeys",
                json!({ "name": "One too many", "credential": credential }),
            )
            .await,
        409,
        ProblemCode::TooManyPasskeys,
    )
    .await;
    expect_problem(
        server
            .post("/api/v1/session/passkeys/options", json!({}))
            .await,
        409,
        ProblemCode::TooManyPasskeys,
    )
    .await;
    // One removed makes room again.
    let resp = server
        .request(Method::DELETE, "/api/v1/session/passkeys/other-0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    // The refusal left the registration's challenge unused: the same answer now adds it.
    let added = server
        .post(
            "/api/v1/session/passkeys",
            json!({ "name": "Laptop", "credential": credential }),
        )
        .await;
    assert_eq!(added.status(), 201);
}
