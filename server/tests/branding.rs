//! An Organization's branding (logo, accent colour) and hand-off targets (return URL prefixes,
//! console URL): set with the admin CLI, which refuses what could mislead a browser, and carried
//! by every answer that names the Organization — the lookup, the flow and the session.

mod common;

use common::{start, TestServer};
use member_login_api::flow::Flow;
use member_login_api::session::Session;
use member_login_api::Organization;
use member_login_server::demo;
use serde_json::Value;

const SAM_PASSWORD: &str = "quiet-meadow-compass";

/// Runs the admin CLI and asserts it succeeded; returns what it printed.
async fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args).await;
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the admin CLI, asserts it refused, and returns its error output.
async fn cli_refused(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args).await;
    assert!(!out.status.success(), "{args:?} should be refused");
    String::from_utf8(out.stderr).unwrap()
}

/// The Organization as the lookup answers it, raw and parsed.
async fn lookup(server: &TestServer, key: &str) -> (Value, Organization) {
    let resp = server.get(&format!("/api/v1/organizations/{key}")).await;
    assert_eq!(resp.status(), 200);
    let json: Value = resp.json().await.unwrap();
    (json.clone(), serde_json::from_value(json).unwrap())
}

/// Sets every branding and hand-off setting of the demo, in the forms an administrator might
/// type them.
async fn brand_the_demo(server: &TestServer) {
    cli_ok(
        server,
        &[
            "org",
            "settings",
            "--org",
            "demo",
            "--logo-url",
            "HTTPS://CDN.Example/demo/logo.svg?v=2",
            "--accent-color",
            "#0B5FFF",
            "--return-url",
            "https://Console.Example,http://localhost:3000/app/",
            "--return-url",
            "https://console.example/",
            "--console-url",
            "https://console.example/home",
        ],
    )
    .await;
}

fn assert_branded(org: &Organization) {
    assert_eq!(
        org.logo_url.as_deref(),
        Some("https://cdn.example/demo/logo.svg?v=2")
    );
    assert_eq!(org.accent_color.as_deref(), Some("#0b5fff"));
    assert_eq!(
        org.return_urls,
        ["https://console.example/", "http://localhost:3000/app/"],
        "normalised, in order, without duplicates"
    );
    assert_eq!(
        org.console_url.as_deref(),
        Some("https://console.example/home")
    );
}

#[tokio::test]
async fn the_demo_has_an_accent_that_passes_aa_and_nothing_else() {
    let server = start().await;
    let (json, org) = lookup(&server, "demo").await;
    assert_eq!(org.accent_color.as_deref(), Some(demo::ACCENT_COLOR));
    assert!(member_login_api::accent_passes_aa(demo::ACCENT_COLOR));
    // Unset settings are left out of the answer, not sent as null or [].
    for absent in ["logo_url", "return_urls", "console_url"] {
        assert!(json.get(absent).is_none(), "{absent} in {json}");
    }
}

#[tokio::test]
async fn lookup_flow_and_session_carry_the_settings() {
    let server = start().await;
    brand_the_demo(&server).await;

    let (json, by_alias) = lookup(&server, "demo").await;
    assert_branded(&by_alias);
    assert_eq!(json["accent_color"], "#0b5fff");
    assert_eq!(lookup(&server, demo::ORGANIZATION_ID).await.1, by_alias);

    let flow: Flow = server.flow_for("sam").await;
    assert_eq!(flow.organization, by_alias);
    let resp = server.password(&flow, SAM_PASSWORD).await;
    assert_eq!(resp.status(), 200);
    let done: Flow = resp.json().await.unwrap();
    assert_eq!(done.organization, by_alias);

    let resp = server.get("/api/v1/session").await;
    assert_eq!(resp.status(), 200);
    let session: Session = resp.json().await.unwrap();
    assert_eq!(session.organization, by_alias);
}

#[tokio::test]
async fn an_empty_value_removes_a_setting_and_a_left_out_flag_keeps_it() {
    let server = start().await;
    brand_the_demo(&server).await;

    cli_ok(
        &server,
        &["org", "settings", "--org", "demo", "--logo-url", ""],
    )
    .await;
    let org = lookup(&server, "demo").await.1;
    assert_eq!(org.logo_url, None);
    assert_eq!(org.accent_color.as_deref(), Some("#0b5fff"));
    assert_eq!(org.return_urls.len(), 2);

    // A new list replaces the old one.
    cli_ok(
        &server,
        &[
            "org",
            "settings",
            "--org",
            "demo",
            "--return-url",
            "https://other.example/x/",
        ],
    )
    .await;
    assert_eq!(
        lookup(&server, "demo").await.1.return_urls,
        ["https://other.example/x/"]
    );

    cli_ok(
        &server,
        &[
            "org",
            "settings",
            "--org",
            "demo",
            "--return-url",
            "",
            "--accent-color",
            "",
            "--console-url",
            "",
        ],
    )
    .await;
    let (json, org) = lookup(&server, "demo").await;
    assert_eq!(
        json.as_object().unwrap().len(),
        4,
        "only id, alias, name and login_methods are left: {json}"
    );
    assert_eq!(
        org.login_methods.len(),
        3,
        "the demo's email code, password and passkey"
    );
}

#[tokio::test]
async fn org_create_takes_the_settings_and_org_list_shows_them() {
    let server = start().await;
    cli_ok(
        &server,
        &[
            "org",
            "create",
            "--alias",
            "acme",
            "--name",
            "Acme",
            "--logo-url",
            "https://cdn.example/acme.png",
            "--accent-color",
            "#4F0599",
            "--return-url",
            "https://console.acme.example",
            "--console-url",
            "https://console.acme.example/start",
        ],
    )
    .await;
    let org = lookup(&server, "acme").await.1;
    assert_eq!(
        org.logo_url.as_deref(),
        Some("https://cdn.example/acme.png")
    );
    assert_eq!(org.accent_color.as_deref(), Some("#4f0599"));
    assert_eq!(org.return_urls, ["https://console.acme.example/"]);
    assert_eq!(
        org.console_url.as_deref(),
        Some("https://console.acme.example/start")
    );

    let list = cli_ok(&server, &["org", "list"]).await;
    let acme = list.lines().find(|l| l.contains("\tacme\t")).unwrap();
    for shown in [
        "logo=https://cdn.example/acme.png",
        "accent=#4f0599",
        "return urls=https://console.acme.example/",
        "console=https://console.acme.example/start",
    ] {
        assert!(acme.contains(shown), "{shown} in {acme}");
    }
    let demo = list.lines().find(|l| l.contains("\tdemo\t")).unwrap();
    assert!(demo.contains("accent=#00695c"), "{demo}");
    assert!(!demo.contains("logo="), "{demo}");
}

#[tokio::test]
async fn an_accent_that_fails_aa_is_kept_with_a_warning() {
    let server = start().await;
    let out = server
        .cli(&["org", "settings", "--org", "demo", "--accent-color", "#fc0"])
        .await;
    assert!(out.status.success());
    let warning = String::from_utf8(out.stderr).unwrap();
    assert!(warning.contains("WCAG AA"), "{warning}");
    assert!(warning.contains("default colour"), "{warning}");
    // Kept: the app decides with the same rule and shows its own colour.
    assert_eq!(
        lookup(&server, "demo").await.1.accent_color.as_deref(),
        Some("#ffcc00")
    );
}

#[tokio::test]
async fn the_cli_refuses_bad_values_and_changes_nothing() {
    let server = start().await;
    brand_the_demo(&server).await;
    let before = lookup(&server, "demo").await.0;
    let long = format!("https://cdn.example/{}", "a".repeat(2048));
    for (flag, value, why) in [
        ("--logo-url", "http://cdn.example/logo.svg", "https://"),
        ("--logo-url", "//cdn.example/logo.svg", "https://"),
        ("--logo-url", "javascript:alert(1)", "https://"),
        ("--logo-url", "data:image/svg+xml,<svg/>", "https://"),
        (
            "--logo-url",
            "https://user:pw@cdn.example/l.svg",
            "user name",
        ),
        (
            "--logo-url",
            "https://cdn.example/my logo.svg",
            "whitespace",
        ),
        ("--logo-url", &long, "2048"),
        ("--accent-color", "blue", "#rrggbb"),
        ("--accent-color", "0b5fff", "#rrggbb"),
        ("--accent-color", "#0b5ff", "#rrggbb"),
        ("--return-url", "//evil.example", "https://"),
        ("--return-url", "javascript:alert(1)", "https://"),
        ("--return-url", "/relative/", "https://"),
        (
            "--return-url",
            "https://evil.example@console.example/",
            "user name",
        ),
        ("--return-url", "https:\\\\evil.example", "backslash"),
        ("--return-url", "https://console.example/app", "end with /"),
        ("--return-url", "https://console.example/?next=x", "query"),
        ("--return-url", "https://console.example/#x", "fragment"),
        ("--return-url", "http://console.example/", "localhost"),
        ("--return-url", "https://console.example/\t", "whitespace"),
        ("--return-url", "https://console.example/a/../", "segments"),
        ("--console-url", "//evil.example/", "https://"),
        (
            "--console-url",
            "https://console.example@evil.example/",
            "user name",
        ),
        ("--console-url", "http://console.example/", "localhost"),
        ("--console-url", "https://console.example/home?x=1", "query"),
    ] {
        let error = cli_refused(&server, &["org", "settings", "--org", "demo", flag, value]).await;
        assert!(error.contains(flag), "{flag} {value:?}: {error}");
        assert!(error.contains(why), "{flag} {value:?}: {why} in {error}");
    }
    // One bad entry in a list refuses the whole command.
    cli_refused(
        &server,
        &[
            "org",
            "settings",
            "--org",
            "demo",
            "--return-url",
            "https://fine.example/,//evil.example",
            "--accent-color",
            "#000",
        ],
    )
    .await;
    assert_eq!(lookup(&server, "demo").await.0, before);
    // org create checks them the same way, and creates nothing.
    let error = cli_refused(
        &server,
        &[
            "org",
            "create",
            "--alias",
            "acme",
            "--name",
            "Acme",
            "--console-url",
            "javascript:alert(1)",
        ],
    )
    .await;
    assert!(error.contains("--console-url"), "{error}");
    let resp = server.get("/api/v1/organizations/acme").await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn the_openapi_document_describes_every_field_the_lookup_answers() {
    let server = start().await;
    brand_the_demo(&server).await;
    let doc: Value = server
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let schema = &doc["components"]["schemas"]["Organization"]["properties"];
    let (json, _) = lookup(&server, "demo").await;
    assert_eq!(json.as_object().unwrap().len(), 8, "{json}");
    for field in json.as_object().unwrap().keys() {
        assert!(
            schema.get(field).is_some(),
            "{field} is not in docs/openapi.json"
        );
    }
}
