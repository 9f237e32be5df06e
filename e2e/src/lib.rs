//! The end-to-end harness: the real reference server serving the built app (`dist/`) over
//! HTTPS, and real browsers (Chromium, Firefox, WebKitGTK) driven over WebDriver. HTTPS because
//! WebKitGTK drops the `Secure` session cookie over plain http, even on loopback. Every process
//! started here is killed when its handle drops.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long any single wait for the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_or(var: &str, default: impl Into<PathBuf>) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| default.into())
}

/// The reference server with a fresh database, the demo Organization, the dev mailbox, and the
/// built app, over HTTPS with a self-signed certificate made at start.
pub struct Server {
    /// `https://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    /// Calls the API directly (the dev mailbox), trusting the server's certificate.
    http: reqwest::Client,
    _process: Child,
    _data: tempfile::TempDir,
}

fn server_binary() -> PathBuf {
    env_or(
        "MEMBER_LOGIN_SERVER",
        workspace_root().join("target/debug/member-login-server"),
    )
}

impl Server {
    pub async fn start() -> Server {
        let dist = env_or("MEMBER_LOGIN_DIST", workspace_root().join("dist"));
        assert!(
            dist.join("index.html").is_file(),
            "{} has no index.html: build the app with trunk first",
            dist.display()
        );
        Server::launch(&[OsStr::new("--dist"), dist.as_os_str()]).await
    }

    /// The reference server on a fresh database in a folder of its own, over HTTPS with a
    /// certificate made for it, the demo Organization and the dev mailbox, with `extra`
    /// arguments to `serve`; ready once it says where it listens.
    async fn launch(extra: &[&OsStr]) -> Server {
        let binary = server_binary();
        let data = tempfile::tempdir().expect("temporary folder");
        let (cert, key, trusted) = self_signed_certificate(data.path());
        let mut process = Command::new(&binary)
            .arg("--data")
            .arg(data.path().join("e2e.sqlite3"))
            .args(["serve", "--listen", "127.0.0.1:0", "--dev", "--demo"])
            .args(extra)
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let base = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("Member Login is listening on ") {
                    return url.trim_end_matches('/').to_owned();
                }
            }
            panic!("the server stopped before listening");
        })
        .await
        .expect("the server did not start in time");
        // Keep reading its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(trusted)
            .build()
            .expect("an HTTP client");
        Server {
            base,
            http,
            _process: process,
            _data: data,
        }
    }

    /// Runs an admin command of the server binary (`org settings …`, `member unlock …`) on
    /// this server's data file, as an administrator would, and asserts it succeeded.
    pub fn admin(&self, args: &[&str]) {
        let out = std::process::Command::new(server_binary())
            .arg("--data")
            .arg(self._data.path().join("e2e.sqlite3"))
            .args(args)
            .output()
            .expect("the server binary runs");
        assert!(
            out.status.success(),
            "admin command {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The body of the `nth` email (1 = the oldest) to `email`, once it has arrived: the
    /// server sends email in the background, so this polls the dev mailbox.
    pub async fn email(&self, email: &str, nth: usize) -> String {
        as_str(&self.email_message(email, nth).await["body"]).to_owned()
    }

    /// The `nth` email (1 = the oldest) to `email` as the dev mailbox lists it (`subject`,
    /// `body`, …), once it has arrived.
    pub async fn email_message(&self, email: &str, nth: usize) -> Value {
        let url = format!("{}/api/v1/dev/mailbox", self.base);
        let deadline = Instant::now() + WAIT;
        loop {
            // Newest first.
            let mails: Vec<Value> = self
                .http
                .get(&url)
                .query(&[("to", email)])
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .unwrap_or_else(|e| panic!("cannot read the dev mailbox: {e}"))
                .json()
                .await
                .expect("the dev mailbox answers a JSON array");
            if mails.len() >= nth {
                return mails[mails.len() - nth].clone();
            }
            assert!(
                Instant::now() < deadline,
                "email {nth} to {email} never arrived ({} did)",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The code in the `nth` email to `email`: 6 digits alone on a line.
    pub async fn latest_code(&self, email: &str, nth: usize) -> String {
        let body = self.email(email, nth).await;
        body.lines()
            .map(str::trim)
            .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in email {nth} to {email}: {body}"))
            .to_owned()
    }
}

/// Writes a self-signed certificate for 127.0.0.1 and localhost, and its key, into `dir`;
/// returns both paths and the certificate for a client to trust.
fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf, reqwest::Certificate) {
    let made = rcgen::generate_simple_self_signed(["127.0.0.1".into(), "localhost".into()])
        .expect("a self-signed certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("the certificate file");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("the key file");
    let trusted =
        reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).expect("the certificate as PEM");
    (cert, key, trusted)
}

/// Declares one test per browser engine for `journey(Browser)`: `journey::chromium`,
/// `journey::firefox`, `journey::webkit`.
#[macro_export]
macro_rules! in_every_browser {
    ($($journey:ident),+ $(,)?) => {$(
        mod $journey {
            use $crate::Browser;

            #[tokio::test]
            async fn chromium() {
                super::$journey(Browser::Chromium).await;
            }

            #[tokio::test]
            async fn firefox() {
                super::$journey(Browser::Firefox).await;
            }

            #[tokio::test]
            async fn webkit() {
                super::$journey(Browser::WebKit).await;
            }
        }
    )+};
}

/// The three browser engines the app is tested in.
#[derive(Debug, Clone, Copy)]
pub enum Browser {
    Chromium,
    Firefox,
    WebKit,
}

/// A browser under WebDriver control, with the processes behind it.
pub struct Session {
    pub client: Client,
    _processes: Vec<Child>,
    /// Chromium's profile, removed with the session. Left to chromedriver, a profile of about
    /// 90 MB stays in the temporary folder whenever a test ends without quitting the browser.
    _profile: Option<tempfile::TempDir>,
}

impl Session {
    pub async fn start(browser: Browser) -> Session {
        let port = free_port();
        let mut processes = Vec::new();
        let mut caps = Map::new();
        // The server's certificate is self-signed, made at test start.
        caps.insert("acceptInsecureCerts".into(), json!(true));
        let mut profile = None;
        let driver = match browser {
            Browser::Chromium => {
                let dir = tempfile::tempdir().expect("temporary folder");
                caps.insert(
                    "goog:chromeOptions".into(),
                    json!({
                        "binary": env_or("CHROMIUM", "/usr/bin/chromium"),
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--disable-dev-shm-usage", "--disable-background-networking",
                                 "--disable-component-update", "--disable-sync", "--no-first-run",
                                 "--disable-quic", "--window-size=1280,900",
                                 format!("--user-data-dir={}", dir.path().display())]
                    }),
                );
                profile = Some(dir);
                let mut cmd = Command::new(env_or("CHROMEDRIVER", "/usr/bin/chromedriver"));
                cmd.arg(format!("--port={port}"));
                cmd
            }
            Browser::Firefox => {
                caps.insert(
                    "moz:firefoxOptions".into(),
                    json!({
                        "binary": env_or("FIREFOX", "/usr/bin/firefox-esr"),
                        "args": ["-headless", "--width=1280", "--height=900"],
                        // WebDriver's virtual authenticators (`add_virtual_authenticator`) live
                        // in Firefox's software token: without it, a ceremony never ends.
                        "prefs": {
                            "security.webauth.webauthn_enable_softtoken": true,
                            "security.webauth.webauthn_enable_usbtoken": false
                        }
                    }),
                );
                let mut cmd = Command::new(env_or("GECKODRIVER", "geckodriver"));
                cmd.args(["--port", &port.to_string()]);
                cmd
            }
            Browser::WebKit => {
                let (xvfb, display) = start_xvfb().await;
                processes.push(xvfb);
                caps.insert("browserName".into(), json!("MiniBrowser"));
                caps.insert(
                    "webkitgtk:browserOptions".into(),
                    json!({
                        "binary": env_or("MINIBROWSER",
                            "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
                        "args": ["--automation"]
                    }),
                );
                let mut cmd = Command::new(env_or("WEBKITWEBDRIVER", "WebKitWebDriver"));
                cmd.arg(format!("--port={port}")).env("DISPLAY", display);
                cmd
            }
        };
        let mut driver = driver;
        let driver = driver
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the WebDriver server for {browser:?}: {e}"));
        processes.push(driver);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match Client::with_capabilities_and_connector(&url, &caps, HttpConnector::new()).await {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => {
                    panic!("no {browser:?} WebDriver session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Session {
            client,
            _processes: processes,
            _profile: profile,
        }
    }

    /// Waits for the element matching `css` and returns it.
    pub async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Follows the administrator's direct link to the demo Organization, and waits for the
    /// username step it leads to.
    pub async fn follow_demo_link(&self, server: &Server) {
        self.client
            .goto(&format!(
                "{}/login/organization?organization=demo",
                server.base
            ))
            .await
            .expect("the direct link opens");
        self.wait_for_text("h1", "Enter your username").await;
    }

    /// Logs out from the done step and waits for the landing's confirmation.
    pub async fn log_out(&self) {
        self.click("#logout").await;
        self.wait_for_text(".notice", "You are logged out.").await;
    }

    /// Waits for the element matching `css` and clicks it.
    pub async fn click(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Submits the step's form with its submit button.
    pub async fn submit(&self) {
        self.click("button[type=submit]").await;
    }

    /// Waits for the field matching `css` and types `text` into it (after what it holds).
    pub async fn type_into(&self, css: &str, text: &str) {
        self.element(css)
            .await
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Waits until the element matching `css` has exactly `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        self.wait_for_text_where(css, &format!("read {text:?}"), |t| t.trim() == text)
            .await;
    }

    /// Waits until the element matching `css` has text containing `part`.
    pub async fn wait_for_text_containing(&self, css: &str, part: &str) {
        self.wait_for_text_where(css, &format!("contained {part:?}"), |t| t.contains(part))
            .await;
    }

    /// Waits until the text of the element matching `css` passes `ok`; `what` says what was
    /// awaited when it never does.
    pub async fn wait_for_text_where(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if ok(&t) {
                        return;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never {what} (last: {last:?})");
    }

    /// Runs axe-core (the WCAG 2.0–2.2 A and AA rules) on the page as it is now and fails the
    /// test with every violation found, naming `what` was being checked.
    pub async fn assert_accessible(&self, what: &str) {
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "accessibility violations on {what}:\n{}",
            violations.join("\n")
        );
    }

    /// axe-core's violations on the page as it is now, each as "rule: help at elements".
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = workspace_root().join("e2e/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe)
            .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh installs it)", axe.display()));
        self.client
            .execute(&format!("{source}\nreturn true;"), vec![])
            .await
            .expect("axe-core loads into the page");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { runOnly: { type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
                  .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +
                      v.nodes.map(n => n.target.join(' ')).join(', '))))
                  .catch(e => done(['axe-core failed: ' + e]));"#,
                vec![],
            )
            .await
            .expect("axe-core answers");
        result
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves what the browser shows as `docs/screenshots/{browser}-{name}.png`.
    pub async fn screenshot(&self, browser: Browser, name: &str) {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("no screenshot from {browser:?}: {e}"));
        let folder = workspace_root().join("docs/screenshots");
        std::fs::create_dir_all(&folder).expect("the screenshots folder");
        let file = folder.join(format!(
            "{}-{name}.png",
            format!("{browser:?}").to_lowercase()
        ));
        std::fs::write(&file, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver's passthrough
    /// (`goog/cdp/execute`) and returns its result. Chromium only.
    pub async fn devtools(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Extension::post(
                "goog/cdp/execute",
                json!({ "cmd": cmd, "params": params }),
            ))
            .await
            .unwrap_or_else(|e| panic!("DevTools command {cmd} failed: {e}"))
    }

    /// Emulates CSS media features, e.g. `[("prefers-color-scheme", "dark")]` or
    /// `[("forced-colors", "active")]`, for this tab and the pages it loads next (Chromium
    /// only), and checks that the page sees them.
    pub async fn emulate_media(&self, features: &[(&str, &str)]) {
        let list: Vec<Value> = features
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
        self.devtools("Emulation.setEmulatedMedia", json!({ "features": list }))
            .await;
        for (name, value) in features {
            let query = format!("({name}: {value})");
            let matches = self
                .client
                .execute(
                    "return matchMedia(arguments[0]).matches",
                    vec![json!(query)],
                )
                .await
                .expect("matchMedia answers");
            assert_eq!(matches, json!(true), "{query} is not emulated");
        }
    }

    /// Adds a virtual authenticator to the browser (the WebAuthn WebDriver extension,
    /// `POST /session/{id}/webauthn/authenticator`): a platform authenticator that keeps
    /// discoverable credentials and verifies the user at once, so passkey prompts answer
    /// themselves. Returns its id, or the driver's refusal (WebKitWebDriver has no such
    /// command).
    pub async fn add_virtual_authenticator(&self) -> Result<String, String> {
        let options = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "isUserConsenting": true,
        });
        self.client
            .issue_cmd(Extension::post("webauthn/authenticator", options))
            .await
            .map(|id| as_str(&id).to_owned())
            .map_err(|e| e.to_string())
    }

    /// The credentials a virtual authenticator holds
    /// (`GET /session/{id}/webauthn/authenticator/{authenticator}/credentials`).
    pub async fn virtual_credentials(&self, authenticator: &str) -> Vec<Value> {
        self.client
            .issue_cmd(Extension {
                method: http::Method::GET,
                path: format!("webauthn/authenticator/{authenticator}/credentials"),
                body: None,
            })
            .await
            .unwrap_or_else(|e| panic!("no credentials from the virtual authenticator: {e}"))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Ends the browser session (geckodriver and WebKitWebDriver want this before exit).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A command of a WebDriver extension on the session: `method` on `session/{id}/{path}`
/// (the WebAuthn extension's, or chromedriver's DevTools passthrough `goog/cdp/execute`).
#[derive(Debug)]
struct Extension {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl Extension {
    fn post(path: &str, body: Value) -> Self {
        Self {
            method: http::Method::POST,
            path: path.to_owned(),
            body: Some(body),
        }
    }
}

impl fantoccini::wd::WebDriverCompatibleCommand for Extension {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A virtual X display for WebKitGTK, on a display number Xvfb picks itself.
async fn start_xvfb() -> (Child, String) {
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start Xvfb (install the xvfb package)");
    let mut lines = BufReader::new(xvfb.stdout.take().unwrap()).lines();
    let number = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("Xvfb did not report its display")
        .unwrap()
        .expect("Xvfb exited");
    (xvfb, format!(":{}", number.trim()))
}

/// What the test asserts about a JSON value the page returned.
pub fn as_str(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

impl Server {
    /// The reference server as the login API alone, for the app on a static host of its own
    /// at `app_origin` (`https://127.0.0.1:PORT`): no `dist/`, CORS with credentials for that
    /// origin (`--cors-origin`), and email links to it (`--app-url`). Otherwise as
    /// [`Server::start`]: HTTPS, a fresh database, the demo Organization, the dev mailbox.
    pub async fn start_api_for(app_origin: &str) -> Server {
        let origin = OsStr::new(app_origin);
        Server::launch(&[
            OsStr::new("--cors-origin"),
            origin,
            OsStr::new("--app-url"),
            origin,
        ])
        .await
    }
}

/// The built app the tests serve: `MEMBER_LOGIN_DIST`, or `dist/` in the workspace.
pub fn built_app() -> PathBuf {
    env_or("MEMBER_LOGIN_DIST", workspace_root().join("dist"))
}

/// The workspace's root folder (where `dist/`, `deploy/` and `scripts/` are).
pub fn workspace() -> PathBuf {
    workspace_root()
}

/// A loopback port that was free a moment ago, for a process a test starts itself.
pub fn free_loopback_port() -> u16 {
    free_port()
}

/// Writes a self-signed certificate for 127.0.0.1 and localhost, and its key, into `dir`;
/// returns both paths and the certificate for a client to trust.
pub fn write_self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf, reqwest::Certificate) {
    self_signed_certificate(dir)
}
