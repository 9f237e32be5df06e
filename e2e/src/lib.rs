//! The end-to-end harness: the real reference server serving the built app (`dist/`), and real
//! browsers (Chromium, Firefox, WebKitGTK) driven over WebDriver. Every process started here
//! is killed when its handle drops.

use std::path::PathBuf;
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

/// The reference server with a fresh database, the demo Organization, and the built app.
pub struct Server {
    pub base: String,
    _process: Child,
    _data: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let binary = env_or(
            "MEMBER_LOGIN_SERVER",
            workspace_root().join("target/debug/member-login-server"),
        );
        let dist = env_or("MEMBER_LOGIN_DIST", workspace_root().join("dist"));
        assert!(
            dist.join("index.html").is_file(),
            "{} has no index.html: build the app with trunk first",
            dist.display()
        );
        let data = tempfile::tempdir().expect("temporary folder");
        let mut process = Command::new(&binary)
            .arg("--data")
            .arg(data.path().join("e2e.sqlite3"))
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--dist"])
            .arg(&dist)
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
        Server {
            base,
            _process: process,
            _data: data,
        }
    }
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
}

impl Session {
    pub async fn start(browser: Browser) -> Session {
        let port = free_port();
        let mut processes = Vec::new();
        let mut caps = Map::new();
        let driver = match browser {
            Browser::Chromium => {
                caps.insert(
                    "goog:chromeOptions".into(),
                    json!({
                        "binary": env_or("CHROMIUM", "/usr/bin/chromium"),
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--disable-dev-shm-usage", "--disable-background-networking",
                                 "--disable-component-update", "--disable-sync", "--no-first-run",
                                 "--disable-quic", "--window-size=1280,900"]
                    }),
                );
                let mut cmd = Command::new(env_or("CHROMEDRIVER", "/usr/bin/chromedriver"));
                cmd.arg(format!("--port={port}"));
                cmd
            }
            Browser::Firefox => {
                caps.insert(
                    "moz:firefoxOptions".into(),
                    json!({
                        "binary": env_or("FIREFOX", "/usr/bin/firefox-esr"),
                        "args": ["-headless", "--width=1280", "--height=900"]
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

    /// Waits until the element matching `css` has exactly `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.trim() == text {
                        return;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never read {text:?} (last: {last:?})");
    }

    /// Ends the browser session (geckodriver and WebKitWebDriver want this before exit).
    pub async fn close(self) {
        let _ = self.client.close().await;
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
