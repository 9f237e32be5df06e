//! The app on a static host of its own, with the login API at another origin, as README's
//! "Deploying the app on a static host" describes: `deploy/render.mjs` writes the nginx
//! configuration for a copy of the built app, Debian's nginx serves it as an unprivileged
//! process on its own loopback port, and the reference server answers the API on another
//! (`--cors-origin` naming nginx's origin). Both over HTTPS, as in production (and so WebKitGTK
//! keeps the Secure session cookie); app and API are on one site, so the SameSite=Strict
//! cookie goes along.
//!
//! The headers are checked as nginx sends them (the app is two pages, the login and the account
//! screens, each with its own SPA fallback and one policy for both), and a member logs in by
//! email code through the nginx-served app in each browser engine, opens an account screen from
//! the checklist and comes back, without a single Content-Security-Policy violation. The policy is rendered with a `report-uri` on nginx's origin, so every violation,
//! also one during the first load before a test can run a script, shows up as a POST in
//! nginx's access log; a `securitypolicyviolation` listener in the page names what was blocked.
//! A policy rendered for the wrong API origin (the bug this guards against) is caught that way.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use member_login_e2e::{
    as_str, built_app, free_loopback_port, in_every_browser, workspace,
    write_self_signed_certificate, Browser, Server, Session, WAIT,
};
use serde_json::Value;

const ALEX_EMAIL: &str = "alex@demo.example";
/// Where the rendered policy sends violation reports: a path on nginx's own origin (nginx
/// answers the POST with 405; its access log keeps the request).
const REPORT_PATH: &str = "/csp-violations";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Debian's nginx serving a copy of the built app with the configuration `deploy/render.mjs`
/// wrote for it, in a temporary folder (the site, the configuration, logs and nginx's
/// temporary files). Stopped when dropped, also when a test panics.
struct StaticHost {
    /// `https://127.0.0.1:PORT`, without a trailing slash.
    origin: String,
    /// Calls nginx directly, trusting its certificate.
    http: reqwest::Client,
    /// The copy of the app nginx serves.
    site: PathBuf,
    logs: PathBuf,
    nginx: Child,
    _dir: tempfile::TempDir,
}

/// The login API on the reference server, and the app on nginx at another origin, set up for
/// each other.
async fn api_and_static_host() -> (Server, StaticHost) {
    let port = free_loopback_port();
    let server = Server::start_api_for(&format!("https://127.0.0.1:{port}")).await;
    let host = StaticHost::start(port, &server.base, &server.base).await;
    (server, host)
}

impl StaticHost {
    /// Serves the app on `port`, its policy rendered for the API at `policy_api` and its
    /// config.json naming `api_base` (the same, unless a test wants them apart).
    async fn start(port: u16, policy_api: &str, api_base: &str) -> StaticHost {
        let dir = tempfile::tempdir().expect("temporary folder");
        let site = dir.path().join("site");
        let conf = dir.path().join("conf");
        let logs = dir.path().join("logs");
        let dist = built_app();
        assert!(
            dist.join("index.html").is_file(),
            "{} has no index.html: build the app with trunk first",
            dist.display()
        );
        copy_folder(&dist, &site);
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let (cert, key, trusted) = write_self_signed_certificate(dir.path());

        let render = workspace().join("deploy/render.mjs");
        let out = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
            .arg(&render)
            .args(["--api-origin", policy_api])
            .arg("--dist")
            .arg(&site)
            .arg("--out")
            .arg(&conf)
            .arg("--root")
            .arg(&site)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .args(["--brotli", "on", "--csp-report-uri", REPORT_PATH])
            .output()
            .unwrap_or_else(|e| panic!("cannot run node {}: {e}", render.display()));
        assert!(
            out.status.success(),
            "render.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The deploy step: config.json points the app at the API.
        std::fs::copy(conf.join("config.json"), site.join("config.json")).unwrap();
        if api_base != policy_api {
            let config = serde_json::json!({ "api_base": api_base }).to_string();
            std::fs::write(site.join("config.json"), config).unwrap();
        }

        let nginx_binary = std::env::var_os("NGINX").unwrap_or_else(|| "/usr/sbin/nginx".into());
        let mut command = Command::new(&nginx_binary);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(conf.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(logs.join("stderr.log")).unwrap());
        // Never as root: as root, the whole folder goes to `nobody` and nginx runs as it.
        if std::fs::metadata(dir.path()).unwrap().uid() == 0 {
            let (uid, gid) = nobody();
            chown_all(dir.path(), uid, gid);
            command.uid(uid).gid(gid);
        }
        let nginx = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} (scripts/setup.sh installs Debian's nginx): {e}",
                Path::new(&nginx_binary).display()
            )
        });
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(trusted)
            .build()
            .expect("an HTTP client");
        let mut host = StaticHost {
            origin: format!("https://127.0.0.1:{port}"),
            http,
            site,
            logs,
            nginx,
            _dir: dir,
        };
        host.wait_until_listening(port).await;
        host
    }

    async fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + WAIT;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.nginx.try_wait() {
                panic!("nginx exited ({status}):\n{}", self.log("stderr.log"));
            }
            assert!(
                Instant::now() < deadline,
                "nginx is not listening on {port}:\n{}",
                self.log("error.log")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self, name: &str) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.logs.join(name)) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// GETs `path` from nginx with this Accept-Encoding (none when empty).
    async fn get(&self, path: &str, accept_encoding: &str) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.origin));
        if !accept_encoding.is_empty() {
            request = request.header("accept-encoding", accept_encoding);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} from nginx: {e}"))
    }

    fn site_file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.site.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The violation reports that reached nginx so far: the POSTs in its access log.
    fn reports(&self) -> usize {
        self.log("access.log")
            .lines()
            .filter(|l| l.contains(&format!("\"POST {REPORT_PATH} ")))
            .count()
    }

    async fn open(&self, session: &Session, path: &str) {
        session
            .client
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap_or_else(|e| panic!("{path} does not open: {e}"));
        watch_for_violations(session).await;
    }
}

impl Drop for StaticHost {
    fn drop(&mut self) {
        // TERM: the master process stops its workers, then exits (KILL would leave the
        // workers serving).
        let _ = Command::new("kill")
            .args(["-TERM", &self.nginx.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.nginx.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

/// Copies a build, leaving out hidden entries (trunk's `.stage` while a build runs).
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The user and group ids of `nobody`, from /etc/passwd.
fn nobody() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"nobody") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .expect("a user nobody in /etc/passwd")
}

fn chown_all(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_all(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// trunk's hashed file names: NAME-<hash>.js, .css or _bg.wasm, the hash a 64-bit number in hex
/// without leading zeros (up to 16 digits).
fn is_hashed(name: &str) -> bool {
    let stem = [".js", ".css", "_bg.wasm"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext));
    stem.and_then(|s| s.rsplit_once('-'))
        .is_some_and(|(_, hash)| {
            (1..=16).contains(&hash.len())
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A Content-Security-Policy's directives by name.
fn directives(policy: &str) -> Vec<(String, String)> {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let (name, value) = d.split_once(' ').unwrap_or((d, ""));
            (name.to_owned(), value.trim().to_owned())
        })
        .collect()
}

/// The `'sha256-…'` sources of a policy's script-src.
fn script_hashes(policy: &str) -> std::collections::BTreeSet<String> {
    directive(&directives(policy), "script-src")
        .split_whitespace()
        .filter(|source| source.starts_with("'sha256-"))
        .map(str::to_owned)
        .collect()
}

fn directive<'a>(policy: &'a [(String, String)], name: &str) -> &'a str {
    policy
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in the policy {policy:?}"))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Records every `securitypolicyviolation` of the current document, with what was blocked.
async fn watch_for_violations(session: &Session) {
    session
        .client
        .execute(
            r#"if (!window.__violations) {
                 window.__violations = [];
                 document.addEventListener('securitypolicyviolation', e =>
                   window.__violations.push(e.effectiveDirective + ' blocked ' + e.blockedURI));
               }
               return true;"#,
            vec![],
        )
        .await
        .expect("the violation listener installs");
}

async fn violations_seen_by_page(session: &Session) -> Vec<String> {
    let seen = session
        .client
        .execute("return window.__violations || []", vec![])
        .await
        .expect("the page answers");
    seen.as_array()
        .map(|a| a.iter().map(|v| as_str(v).to_owned()).collect())
        .unwrap_or_default()
}

/// No violation in the page since the listener was installed, and no report at nginx, after
/// waiting a moment for a report still on its way.
async fn assert_no_violation(host: &StaticHost, session: &Session, when: &str) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = violations_seen_by_page(session).await;
    assert!(seen.is_empty(), "CSP violations {when}: {seen:?}");
    assert_eq!(
        host.reports(),
        0,
        "CSP violation reports reached nginx {when}:\n{}",
        host.log("access.log")
    );
}

#[tokio::test]
async fn nginx_sends_the_policy_the_fallback_and_the_cache_headers() {
    let (server, host) = api_and_static_host().await;
    let index = String::from_utf8(host.site_file("index.html")).unwrap();
    assert!(
        host.site.join("account/index.html").is_file(),
        "the build has no account/index.html: build the app with scripts/build-app.sh"
    );
    let account = String::from_utf8(host.site_file("account/index.html")).unwrap();

    // The policy: as strict as the reference server's, with the API's origin to connect to, and
    // the inline scripts of both pages.
    let root = host.get("/", "").await;
    assert_eq!(root.status(), 200);
    let csp = header(&root, "content-security-policy").to_owned();
    let policy = directives(&csp);
    let reference = member_login_server::static_files::content_security_policy(&[&index, &account]);
    assert_eq!(
        script_hashes(&csp),
        script_hashes(&reference),
        "the same script hashes as the reference server's policy"
    );
    assert_eq!(
        directive(&policy, "script-src"),
        directive(&directives(&reference), "script-src"),
    );
    for page in [&index, &account] {
        let own = member_login_server::static_files::content_security_policy(&[page]);
        assert!(!script_hashes(&own).is_empty());
        assert!(
            script_hashes(&own).is_subset(&script_hashes(&csp)),
            "each page's inline scripts are allowed"
        );
    }
    assert_eq!(directive(&policy, "default-src"), "'none'");
    assert_eq!(
        directive(&policy, "connect-src"),
        format!("'self' {}", server.base)
    );
    assert_eq!(directive(&policy, "img-src"), "'self' data: https:");
    // Each page's stylesheet is inline: its hash, and nothing else inline.
    assert_eq!(
        directive(&policy, "style-src"),
        directive(&directives(&reference), "style-src"),
    );
    assert!(
        directive(&policy, "style-src").starts_with("'self' 'sha256-"),
        "the pages' inline stylesheets are allowed: {csp}"
    );
    assert_eq!(directive(&policy, "object-src"), "'none'");
    assert_eq!(directive(&policy, "base-uri"), "'none'");
    assert_eq!(directive(&policy, "frame-ancestors"), "'none'");
    assert_eq!(header(&root, "x-content-type-options"), "nosniff");
    assert_eq!(header(&root, "referrer-policy"), "no-referrer");
    assert_eq!(header(&root, "cache-control"), "no-cache");
    assert!(header(&root, "content-type").starts_with("text/html"));
    assert_eq!(root.text().await.unwrap(), index);

    // config.json names the API and is never cached for long.
    let config = host.get("/config.json", "gzip, br").await;
    assert_eq!(header(&config, "cache-control"), "no-cache");
    assert_eq!(header(&config, "content-encoding"), "");
    let config: Value = config.json().await.expect("config.json is JSON");
    assert_eq!(as_str(&config["api_base"]), server.base);

    // SPA fallback: every step's path is the login's index.html, and /account and every path
    // under /account/ that is no file the account page's, revalidated on each use; so is a
    // hashed name that is not (or no longer) there, which must not be cached for a year.
    for (path, page_html) in [
        ("/index.html", &index),
        ("/login/code", &index),
        ("/login/organization?organization=demo", &index),
        ("/no/such/page", &index),
        ("/accounts", &index),
        ("/member-login-0123456789abcdef.js", &index),
        ("/account", &account),
        ("/account/", &account),
        ("/account/index.html", &account),
        ("/account/mfa", &account),
        ("/account/password?organization=demo", &account),
        ("/account/no/such/screen", &account),
        (
            "/account/member-login-account-0123456789abcdef.js",
            &account,
        ),
    ] {
        let page = host.get(path, "").await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(header(&page, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&page, "content-security-policy"), csp, "{path}");
        assert!(
            header(&page, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(&page.text().await.unwrap(), page_html, "{path}");
    }

    // Hashed files, the login's and the account page's: a year, immutable, and the build's own
    // .br and .gz copies.
    let mut hashed: Vec<String> = Vec::new();
    for folder in ["", "account/"] {
        for entry in std::fs::read_dir(host.site.join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if is_hashed(&name) {
                hashed.push(format!("{folder}{name}"));
            }
        }
    }
    hashed.sort();
    for folder in ["", "account/"] {
        let own: Vec<&String> = hashed
            .iter()
            .filter(|n| n.strip_prefix(folder).is_some_and(|n| !n.contains('/')))
            .collect();
        assert!(
            own.iter().any(|n| n.ends_with("_bg.wasm")) && own.iter().any(|n| n.ends_with(".js")),
            "hashed files of the page in /{folder}: {hashed:?}"
        );
    }
    for name in &hashed {
        let path = format!("/{name}");
        for (accept, encoding, file) in [
            ("", "", name.clone()),
            ("gzip", "gzip", format!("{name}.gz")),
            ("br, gzip", "br", format!("{name}.br")),
        ] {
            let response = host.get(&path, accept).await;
            assert_eq!(response.status(), 200, "{path} ({accept})");
            assert_eq!(header(&response, "cache-control"), IMMUTABLE, "{path}");
            assert_eq!(
                header(&response, "content-encoding"),
                encoding,
                "{path} ({accept})"
            );
            if !accept.is_empty() {
                assert!(
                    header(&response, "vary")
                        .to_ascii_lowercase()
                        .contains("accept-encoding"),
                    "{path} ({accept}) varies by Accept-Encoding"
                );
            }
            if name.ends_with(".wasm") {
                assert_eq!(header(&response, "content-type"), "application/wasm");
            }
            let body = response.bytes().await.unwrap();
            assert!(body[..] == host.site_file(&file)[..], "{path} is {file}");
        }
    }
    // Each page's index.html goes out precompressed too.
    for (path, file) in [
        ("/login/code", "index.html.br"),
        ("/account/mfa", "account/index.html.br"),
    ] {
        let compressed = host.get(path, "br").await;
        assert_eq!(header(&compressed, "content-encoding"), "br", "{path}");
        assert!(
            compressed.bytes().await.unwrap()[..] == host.site_file(file)[..],
            "{path} is {file}"
        );
    }
}

/// A member logs in by email code through the app nginx serves, the API on the reference
/// server at another origin, opens an account screen from the checklist (the account page, from
/// nginx's /account/ fallback) and goes back to the login's page, with no CSP violation from
/// the first load to logout.
async fn code_login_on_a_static_host(browser: Browser) {
    let (server, host) = api_and_static_host().await;
    let session = Session::start(browser).await;

    // The administrator's direct link, straight to the username step.
    host.open(&session, "/login/organization?organization=demo")
        .await;
    session.wait_for_text("h1", "Enter your username").await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;
    session.type_into("#username", "alex").await;
    session.submit().await;
    session.wait_for_text("h1", "Choose how to log in").await;
    session.click("#send-code").await;
    session
        .wait_for_text("h1", "Enter the code from your email")
        .await;
    let code = server.latest_code(ALEX_EMAIL, 1).await;
    session.type_into("#code", &code).await;
    session.wait_for_text("h1", "You are logged in").await;
    session.wait_for_text("#session-username", "alex").await;
    assert_no_violation(&host, &session, "during the login").await;

    // The checklist's Enable MFA loads the account page, which starts the enrollment with the
    // API; Back to your checklist loads the login's page again.
    session.click("a[href='/account/mfa']").await;
    session.wait_for_text("h1", "Enable MFA").await;
    session.element(".qr svg").await;
    watch_for_violations(&session).await;
    let url = session.client.current_url().await.unwrap();
    assert_eq!(url.origin().ascii_serialization(), host.origin);
    assert_eq!(url.path(), "/account/mfa");
    session.click("#back-to-checklist").await;
    session.wait_for_text("h1", "You are logged in").await;
    session.wait_for_text("#session-username", "alex").await;
    watch_for_violations(&session).await;
    assert_no_violation(&host, &session, "on the account page and back").await;

    // A reload of the done step: nginx's fallback serves the app again, and the API's
    // session cookie, set across origins, still holds.
    let url = session.client.current_url().await.unwrap();
    assert_eq!(url.origin().ascii_serialization(), host.origin);
    assert_eq!(url.path(), "/login/done");
    session.client.refresh().await.unwrap();
    watch_for_violations(&session).await;
    session.wait_for_text("h1", "You are logged in").await;
    session
        .wait_for_text("#session-organization", "Demo Organization")
        .await;
    session.log_out().await;
    assert_no_violation(&host, &session, "after a reload and logout").await;
    session.close().await;
}

/// The bug this guards against: a policy whose connect-src lacks the API's origin (the
/// reference server's own `connect-src 'self'` copied onto a static host) blocks every API
/// call, the member is told to check their connection, and the violation is reported, which is
/// how the login test would fail.
async fn a_policy_without_the_api_is_reported(browser: Browser) {
    let port = free_loopback_port();
    let server = Server::start_api_for(&format!("https://127.0.0.1:{port}")).await;
    let host = StaticHost::start(port, "https://login-api.invalid", &server.base).await;
    let session = Session::start(browser).await;

    host.open(&session, "/login/organization?organization=demo")
        .await;
    session
        .wait_for_text_containing("#organization-error", "Check your connection")
        .await;
    let deadline = Instant::now() + WAIT;
    while host.reports() == 0 {
        assert!(
            Instant::now() < deadline,
            "no violation report reached nginx:\n{}",
            host.log("access.log")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.close().await;
}

in_every_browser!(
    code_login_on_a_static_host,
    a_policy_without_the_api_is_reported
);
