//! A burst of password logins against the real server binary, twice: the process's memory
//! stays under a ceiling while the bursts run and after them, and no answer is a server
//! error (a 503 `service_busy` only for a request that waited out the hashing queue's bound).
//!
//! Each Argon2id check works in 19 MiB. Without a cap on concurrent checks, fifty at once took
//! this server (debug build, 2 cores) from 58 MiB to 1.9 GiB, all of it kept after the
//! bursts; with the cap, and the checker reusing its memory, it goes from 39 MiB to 64 MiB.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use member_login_api::flow::Flow;
use member_login_api::{Problem, ProblemCode, CSRF_HEADER};
use member_login_server::secrets::HASH_WAIT;
use reqwest::StatusCode;
use serde_json::json;

const LOGINS: usize = 50;
const ROUNDS: usize = 2;
/// Argon2id's memory per check, in MiB, rounded up: with the cap, at most one per core.
const PER_CORE_MIB: u64 = 20;
/// Resident memory, in MiB, the server must stay under during the bursts, besides
/// `PER_CORE_MIB` per core (190 MiB on 2 cores, where it peaks at 64 MiB).
const PEAK_BASE_MIB: u64 = 150;
/// Resident memory, in MiB, it may have gained from idle once the bursts are over, besides
/// `PER_CORE_MIB` per core (the checker keeps one block per core for the next check).
const KEPT_BASE_MIB: u64 = 40;

/// The server binary on a temporary SQLite file, with the demo members; stopped when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("load.sqlite3").display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_member-login-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--dev", "--demo"])
            .args(["--database-url", &database_url])
            .args(["--per-ip-limit", "100000", "--per-member-limit", "100000"])
            .args(["--max-connections-per-ip", "1000"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        // Reads the address, then keeps draining what the server prints.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Member Login is listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server started listening");
        Self {
            child,
            base,
            _dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of process `pid`, in KiB (`VmRSS` of /proc/PID/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

/// One password login as alex: a new flow, then the password. The password step's status
/// and how long it took.
async fn password_login(client: &reqwest::Client, base: &str) -> (StatusCode, Duration) {
    let post = |path: String, body: serde_json::Value| {
        client
            .post(format!("{base}{path}"))
            .header(CSRF_HEADER, "1")
            .header("origin", base)
            .json(&body)
            .send()
    };
    let resp = post(
        "/api/v1/flows".into(),
        json!({"organization": "demo", "username": "alex"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let flow: Flow = resp.json().await.unwrap();
    let started = Instant::now();
    let resp = post(
        format!("/api/v1/flows/{}/password", flow.id),
        json!({"password": "violet-harbor-lantern"}),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    let status = resp.status();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(resp.headers().contains_key("retry-after"));
        let problem: Problem = resp.json().await.unwrap();
        assert_eq!(problem.code, ProblemCode::ServiceBusy);
    }
    (status, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_password_logins_keep_the_servers_memory_bounded() {
    let server = Server::start();
    let pid = server.pid();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let idle = rss_kib(pid);

    // Samples the resident memory every few milliseconds while the bursts run.
    let peak = Arc::new(AtomicU64::new(idle));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let bursts = async {
        let mut after_each = Vec::new();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let logins = (0..LOGINS).map(|_| password_login(&client, &server.base));
            for (status, took) in futures::future::join_all(logins).await {
                let waited_out = status == StatusCode::SERVICE_UNAVAILABLE && took >= HASH_WAIT;
                assert!(
                    status == StatusCode::OK || waited_out,
                    "a password login answered {status} after {took:?}"
                );
            }
            after_each.push((rss_kib(pid), started.elapsed()));
        }
        after_each
    };
    let after_each = tokio::time::timeout(Duration::from_secs(180), bursts)
        .await
        .expect("the bursts finished within three minutes");
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    let peak = peak.load(Ordering::Relaxed);

    let mib = |kib: u64| kib / 1024;
    // The server sees the same cores: one hashing slot each.
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let peak_ceiling = PEAK_BASE_MIB + PER_CORE_MIB * cores;
    let after_ceiling = mib(idle) + KEPT_BASE_MIB + PER_CORE_MIB * cores;
    for (i, (rss, took)) in after_each.iter().enumerate() {
        eprintln!(
            "burst {}: {LOGINS} logins in {took:.2?}, then {} MiB",
            i + 1,
            mib(*rss)
        );
    }
    eprintln!(
        "server RSS: idle {} MiB, peak {} MiB, 1 s after the bursts {} MiB",
        mib(idle),
        mib(peak),
        mib(after),
    );
    assert!(
        mib(peak) < peak_ceiling,
        "the server peaked at {} MiB (ceiling {peak_ceiling} MiB on {cores} cores)",
        mib(peak)
    );
    assert!(
        mib(after) < after_ceiling,
        "the server kept {} MiB after the bursts (ceiling {after_ceiling} MiB on {cores} cores)",
        mib(after)
    );
}
