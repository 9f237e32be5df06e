//! The reference server over real HTTP on loopback, each test with its own temporary SQLite file.

mod common;

use member_login_api::{LoginMethod, Organization, Problem, ProblemCode, PROBLEM_CONTENT_TYPE};
use member_login_server::store;
use member_login_server::{demo, Config};

async fn start(dist: Option<std::path::PathBuf>) -> common::TestServer {
    common::start_with(Config {
        dist,
        ..Config::default()
    })
    .await
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn finds_the_demo_organization_by_alias_and_by_id_in_any_case() {
    let server = start(None).await;
    for key in [
        demo::ORGANIZATION_ALIAS.to_owned(),
        demo::ORGANIZATION_ID.to_owned(),
        demo::ORGANIZATION_ID.to_uppercase(),
    ] {
        let resp = reqwest::get(format!("{}/api/v1/organizations/{key}", server.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "key {key}");
        let org: Organization = resp.json().await.unwrap();
        assert_eq!(org.id, demo::ORGANIZATION_ID);
        assert_eq!(org.alias, "demo");
        assert_eq!(org.name, demo::ORGANIZATION_NAME);
        assert_eq!(
            org.login_methods,
            [
                LoginMethod::EmailCode,
                LoginMethod::Password,
                LoginMethod::Passkey
            ]
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_organizations_are_problem_documents() {
    let server = start(None).await;
    for (key, status, code) in [
        ("nosuchorg", 404, ProblemCode::OrganizationNotFound),
        (
            "00000000-0000-0000-0000-000000000000",
            404,
            ProblemCode::OrganizationNotFound,
        ),
        ("Demo", 400, ProblemCode::InvalidOrganization),
        ("x", 400, ProblemCode::InvalidOrganization),
        ("%27%20OR%201%3D1--", 400, ProblemCode::InvalidOrganization),
    ] {
        let resp = reqwest::get(format!("{}/api/v1/organizations/{key}", server.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "key {key}");
        assert_eq!(content_type(&resp), PROBLEM_CONTENT_TYPE);
        let problem: Problem = resp.json().await.unwrap();
        assert_eq!(problem.code, code, "key {key}");
        assert_eq!(problem.status, status);
    }
}

#[tokio::test]
async fn unknown_api_paths_are_404_problems_not_the_app() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>app</html>").unwrap();
    let server = start(Some(dist.path().to_owned())).await;
    let resp = reqwest::get(format!("{}/api/v1/no/such/thing", server.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(content_type(&resp), PROBLEM_CONTENT_TYPE);
    let problem: Problem = resp.json().await.unwrap();
    assert_eq!(problem.code, ProblemCode::NotFound);
}

#[tokio::test]
async fn serves_the_app_with_spa_fallback_and_security_headers() {
    let dist = tempfile::tempdir().unwrap();
    let index = "<html><head><script type=\"module\">import init from '/app.js';init();</script></head></html>";
    std::fs::write(dist.path().join("index.html"), index).unwrap();
    std::fs::write(dist.path().join("app.js"), "export default function(){}").unwrap();
    let server = start(Some(dist.path().to_owned())).await;

    for path in [
        "/",
        "/login/organization",
        "/login/username?organization=demo",
    ] {
        let resp = reqwest::get(format!("{}{path}", server.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "path {path}");
        let headers = resp.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(resp.text().await.unwrap(), index, "path {path}");
    }
    let js = reqwest::get(format!("{}/app.js", server.base))
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(content_type(&js).contains("javascript"));
}

#[tokio::test]
async fn serves_the_builds_compressed_copies_to_browsers_that_accept_them() {
    let dist = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &[u8]| std::fs::write(dist.path().join(name), body).unwrap();
    write("index.html", b"<html>app</html>");
    write("index.html.br", b"brotli index");
    write("app.wasm", b"plain wasm");
    write("app.wasm.br", b"brotli wasm");
    write("app.wasm.gz", b"gzip wasm");
    let server = start(Some(dist.path().to_owned())).await;
    let client = reqwest::Client::new();
    let get = |path: &str, accept: &str| {
        client
            .get(format!("{}{path}", server.base))
            .header("accept-encoding", accept)
            .send()
    };
    for (path, accept, encoding, body) in [
        ("/app.wasm", "gzip, deflate, br", Some("br"), "brotli wasm"),
        ("/app.wasm", "gzip", Some("gzip"), "gzip wasm"),
        ("/app.wasm", "identity", None, "plain wasm"),
        // The SPA fallback too: every step's URL gets the compressed index.html.
        ("/login/code", "br", Some("br"), "brotli index"),
    ] {
        let resp = get(path, accept).await.unwrap();
        assert_eq!(resp.status(), 200, "{path} {accept}");
        let got = resp
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), encoding, "{path} {accept}");
        if encoding.is_some() {
            assert!(resp.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding"));
        }
        assert!(resp.headers().contains_key("content-security-policy"));
        assert_eq!(resp.text().await.unwrap(), body, "{path} {accept}");
    }
}

/// The app is two pages: the login (`index.html`) and the account screens
/// (`account/index.html`). A path that is no file gets its own page's index.html.
#[tokio::test]
async fn serves_each_page_its_own_fallback_and_one_policy_for_both() {
    let dist = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &[u8]| {
        let path = dist.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    let login = "<html><style>main{color:red}</style><script>picker()</script>\
                 <script type=\"module\">load('/login.js')</script></html>";
    let account = "<html><style>main{color:red}</style>\
                   <script type=\"module\">load('/account/account.js')</script></html>";
    write("index.html", login.as_bytes());
    write("index.html.br", b"brotli login");
    write("account/index.html", account.as_bytes());
    write("account/index.html.br", b"brotli account");
    write("account/index.html.gz", b"gzip account");
    write("account/account-0123456789abcdef.js", b"export default 1");
    write(
        "account/account-0123456789abcdef.js.br",
        b"brotli account js",
    );
    let server = start(Some(dist.path().to_owned())).await;
    let client = reqwest::Client::new();
    let get = |path: &str, accept: &str| {
        let mut request = client.get(format!("{}{path}", server.base));
        if !accept.is_empty() {
            request = request.header("accept-encoding", accept);
        }
        request.send()
    };
    let expected_csp =
        member_login_server::static_files::content_security_policy(&[login, account]);
    let sha256 = |body: &str| {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body))
    };
    // The pages' one inline stylesheet, allowed once, as a style only.
    assert!(
        expected_csp.contains(&format!(
            "; style-src 'self' 'sha256-{}'; ",
            sha256("main{color:red}")
        )),
        "{expected_csp}"
    );
    for hash in [
        "picker()",
        "load('/login.js')",
        "load('/account/account.js')",
    ]
    .map(sha256)
    {
        assert!(
            expected_csp.contains(&format!("'sha256-{hash}'")),
            "{expected_csp}"
        );
    }

    for (path, accept, encoding, body) in [
        ("/", "", None, login),
        ("/login/code", "", None, login),
        ("/login/username?organization=demo", "", None, login),
        ("/no/such/page", "", None, login),
        ("/accounts", "", None, login),
        ("/account/mfa", "", None, account),
        ("/account/password?organization=demo", "", None, account),
        ("/account/", "", None, account),
        ("/account", "", None, account),
        ("/account/no/such/screen", "", None, account),
        ("/account/index.html", "", None, account),
        (
            "/account/account-0123456789abcdef.js",
            "",
            None,
            "export default 1",
        ),
        // The compressed copies, for both pages and their files.
        ("/login/code", "br", Some("br"), "brotli login"),
        ("/account/mfa", "br", Some("br"), "brotli account"),
        ("/account/mfa", "gzip", Some("gzip"), "gzip account"),
        ("/account", "gzip, br", Some("br"), "brotli account"),
        ("/account/", "br", Some("br"), "brotli account"),
        (
            "/account/account-0123456789abcdef.js",
            "br",
            Some("br"),
            "brotli account js",
        ),
    ] {
        let resp = get(path, accept).await.unwrap();
        assert_eq!(resp.status(), 200, "{path} {accept}");
        // Served at the address asked for, never redirected (`/account` too).
        assert_eq!(resp.url().as_str(), format!("{}{path}", server.base));
        let headers = resp.headers().clone();
        assert_eq!(
            headers["content-security-policy"],
            expected_csp.as_str(),
            "{path} {accept}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(headers["vary"], "accept-encoding", "{path} {accept}");
        let got = headers
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), encoding, "{path} {accept}");
        let html = !path.ends_with(".js");
        assert_eq!(
            content_type(&resp).starts_with("text/html"),
            html,
            "{path} {accept}"
        );
        assert_eq!(resp.text().await.unwrap(), body, "{path} {accept}");
    }
    // The API is still the API.
    let resp = get("/api/v1/no/such/thing", "").await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(content_type(&resp), PROBLEM_CONTENT_TYPE);
}

/// A build without the account page (an older one): every path that is no file gets the
/// login's index.html, and the policy is the login's alone.
#[tokio::test]
async fn a_build_without_the_account_page_falls_back_to_the_login_everywhere() {
    let dist = tempfile::tempdir().unwrap();
    let login = "<html><script type=\"module\">load('/login.js')</script></html>";
    std::fs::write(dist.path().join("index.html"), login).unwrap();
    let server = start(Some(dist.path().to_owned())).await;
    let csp = member_login_server::static_files::content_security_policy(&[login]);
    for path in ["/", "/login/code", "/account", "/account/", "/account/mfa"] {
        let resp = reqwest::get(format!("{}{path}", server.base))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-security-policy"], csp.as_str());
        assert_eq!(resp.text().await.unwrap(), login, "{path}");
    }
}

#[tokio::test]
async fn data_survives_a_restart_and_seeding_twice_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("keep.sqlite3");
    {
        let db = store::open_sqlite(&path).await.unwrap();
        demo::seed(&db).await.unwrap();
        demo::seed(&db).await.unwrap();
        assert_eq!(db.list_organizations().await.unwrap().len(), 1);
    }
    let db = store::open_sqlite(&path).await.unwrap();
    let orgs = db.list_organizations().await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].alias, demo::ORGANIZATION_ALIAS);
}
