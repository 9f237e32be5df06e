//! A load generator for the login API: complete email-code logins, a bounded number of them, a
//! few at a time, against one or more servers (replicas on one database). Used by
//! `scripts/bench-server.sh`; see docs/PERFORMANCE.md.
//!
//! One login is: POST /api/v1/flows with the Organization and a username, POST …/code, poll the
//! dev mailbox (`--dev` servers only) until the code's email is there, POST …/code/verify with
//! the code, which must answer 200 with a session cookie. Every login uses its own member
//! (`PREFIX{i}`, email `PREFIX{i}@DOMAIN`, i from 0), since a member can have a code sent only
//! every 30 seconds. Request i of a login goes to `--url` number i modulo their count, as a
//! round-robin load balancer would send it, so with two replicas each login moves between them.
//!
//!   cargo run --release -p member-login-server --example login_load -- \
//!       --url http://127.0.0.1:8080 --url http://127.0.0.1:8081 --org bench --logins 400
//!
//! Prints logins per second over the whole run, p50 and p99 of a login's wall time (first
//! request to the verify answer), the count of non-2xx answers, and a last line
//! `RESULT {json}` for scripts. Exits 1 if any answer was not 2xx or any login failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt;
use member_login_api::{CSRF_HEADER, SESSION_COOKIE};
use reqwest::header::{ORIGIN, SET_COOKIE};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Complete email-code logins against Member Login servers, and their rate")]
struct Args {
    /// A server's base URL (http://127.0.0.1:PORT); give several (or comma-separated) for
    /// replicas: requests rotate across them.
    #[arg(long = "url", required = true, value_delimiter = ',')]
    urls: Vec<String>,
    /// Logins measured.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    logins: u32,
    /// Logins in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// Logins run first and not measured (they use the members after the measured ones).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    warmup: u32,
    /// The Organization's alias (or ID).
    #[arg(long, default_value = "bench")]
    org: String,
    /// Members are PREFIX0, PREFIX1, …: at least logins + warmup of them must exist.
    #[arg(long, default_value = "bench")]
    user_prefix: String,
    /// The members' email domain: PREFIX{i}@DOMAIN.
    #[arg(long, default_value = "bench.example")]
    email_domain: String,
    /// A name for this set-up, repeated in the RESULT line.
    #[arg(long, default_value = "")]
    setup: String,
    /// Longest wait for one login's email, in seconds.
    #[arg(long, default_value_t = 10)]
    mail_timeout: u64,
}

/// Counters shared by all logins.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    non_2xx: AtomicU64,
    mailbox_polls: AtomicU64,
}

struct Load<'a> {
    args: &'a Args,
    urls: Vec<String>,
    client: reqwest::Client,
    tally: Tally,
}

/// A login that did not complete, and why.
type Failure = String;

impl Load<'_> {
    /// Sends a request to the server whose turn it is and returns the JSON answer; a non-2xx
    /// answer is counted and fails the login.
    async fn call(
        &self,
        turn: &mut usize,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response, Failure> {
        let base = &self.urls[*turn % self.urls.len()];
        *turn += 1;
        let mut request = self.client.request(method.clone(), format!("{base}{path}"));
        if let Some(body) = body {
            // A state-changing call as the app makes it: custom header, the server's Origin.
            request = request
                .header(CSRF_HEADER, "1")
                .header(ORIGIN, base.as_str())
                .json(&body);
        }
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {base}{path}: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            self.tally.non_2xx.fetch_add(1, Ordering::Relaxed);
            let text = response.text().await.unwrap_or_default();
            return Err(format!("{method} {base}{path}: {status} {text}"));
        }
        Ok(response)
    }

    async fn json(response: reqwest::Response) -> Result<Value, Failure> {
        response
            .json()
            .await
            .map_err(|e| format!("unreadable answer: {e}"))
    }

    /// One complete login of member `i`; its wall time.
    async fn login(&self, i: u32) -> Result<Duration, Failure> {
        let username = format!("{}{i}", self.args.user_prefix);
        let email = format!("{username}@{}", self.args.email_domain);
        // Start each login on the next server, so that both see every kind of request.
        let mut turn = i as usize;
        let started = Instant::now();

        let flow = Self::json(
            self.call(
                &mut turn,
                reqwest::Method::POST,
                "/api/v1/flows",
                Some(json!({"organization": self.args.org, "username": username})),
            )
            .await?,
        )
        .await?;
        let id = flow["id"]
            .as_str()
            .ok_or_else(|| format!("no flow id in {flow}"))?
            .to_owned();

        self.call(
            &mut turn,
            reqwest::Method::POST,
            &format!("/api/v1/flows/{id}/code"),
            Some(json!({})),
        )
        .await?;

        // The email is stored right after the answer, in the background: poll for it.
        let deadline = started + Duration::from_secs(self.args.mail_timeout);
        let mailbox = format!("/api/v1/dev/mailbox?to={email}");
        let code = loop {
            self.tally.mailbox_polls.fetch_add(1, Ordering::Relaxed);
            let mails = Self::json(
                self.call(&mut turn, reqwest::Method::GET, &mailbox, None)
                    .await?,
            )
            .await?;
            // Newest first; a fresh member has no other email.
            if let Some(body) = mails.get(0).and_then(|m| m["body"].as_str()) {
                break code_in(body).ok_or_else(|| format!("no code in the email {body:?}"))?;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no email to {email} within {:?}",
                    deadline - started
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };

        let verified = self
            .call(
                &mut turn,
                reqwest::Method::POST,
                &format!("/api/v1/flows/{id}/code/verify"),
                Some(json!({ "code": code })),
            )
            .await?;
        let elapsed = started.elapsed();
        if verified.status() != reqwest::StatusCode::OK {
            return Err(format!("verify answered {}", verified.status()));
        }
        let has_session = verified
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.starts_with(&format!("{SESSION_COOKIE}=")));
        if !has_session {
            return Err(format!("verify for {username} set no session cookie"));
        }
        Self::json(verified).await?;
        Ok(elapsed)
    }

    /// Runs logins `range` with the concurrency asked for; their wall times (in completion
    /// order), the failures, and the time it all took.
    async fn run(&self, range: std::ops::Range<u32>) -> (Vec<Duration>, Vec<Failure>, Duration) {
        let started = Instant::now();
        let results: Vec<_> = futures::stream::iter(range)
            .map(|i| self.login(i))
            .buffer_unordered(self.args.concurrency as usize)
            .collect()
            .await;
        let elapsed = started.elapsed();
        let mut times = Vec::with_capacity(results.len());
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(t) => times.push(t),
                Err(f) => failures.push(f),
            }
        }
        (times, failures, elapsed)
    }
}

/// The 6-digit code on its own line of an email body.
fn code_in(body: &str) -> Option<String> {
    body.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// The nearest-rank percentile `p` (0–100) of sorted times, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

// One thread: the load generator shares the machine with the servers and the database, and
// should take as little of it as it can.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let urls: Vec<String> = args
        .urls
        .iter()
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency as usize)
        .build()
        .expect("an HTTP client");
    let load = Load {
        args: &args,
        urls,
        client,
        tally: Tally::default(),
    };
    let label = if args.setup.is_empty() {
        load.urls.join(" + ")
    } else {
        args.setup.clone()
    };

    if args.warmup > 0 {
        let (_, failures, _) = load.run(args.logins..args.logins + args.warmup).await;
        if let Some(f) = failures.first() {
            eprintln!("[login_load] warm-up failed: {f}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let warmup_requests = load.tally.requests.swap(0, Ordering::Relaxed);
    load.tally.mailbox_polls.store(0, Ordering::Relaxed);

    let (mut times, failures, elapsed) = load.run(0..args.logins).await;
    times.sort();
    let completed = times.len();
    let per_second = completed as f64 / elapsed.as_secs_f64();
    let p50 = percentile_ms(&times, 50.0);
    let p99 = percentile_ms(&times, 99.0);
    let requests = load.tally.requests.load(Ordering::Relaxed);
    let errors = load.tally.non_2xx.load(Ordering::Relaxed);
    let polls = load.tally.mailbox_polls.load(Ordering::Relaxed);

    println!(
        "[login_load] {label}: {completed} of {} logins in {:.2} s, {} at a time, {} server(s)",
        args.logins,
        elapsed.as_secs_f64(),
        args.concurrency,
        load.urls.len()
    );
    println!(
        "[login_load]   {per_second:.1} logins/s, p50 {p50:.1} ms, p99 {p99:.1} ms, \
         {requests} requests ({:.0}/s, {:.2} mailbox polls per login), {errors} non-2xx answers",
        requests as f64 / elapsed.as_secs_f64(),
        polls as f64 / args.logins as f64,
    );
    for f in failures.iter().take(5) {
        eprintln!("[login_load]   failed: {f}");
    }
    if failures.len() > 5 {
        eprintln!("[login_load]   … and {} more failures", failures.len() - 5);
    }
    let result = json!({
        "setup": label,
        "servers": load.urls.len(),
        "logins": completed,
        "failed": failures.len(),
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "seconds": round(elapsed.as_secs_f64(), 3),
        "per_second": round(per_second, 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "requests": requests,
        "mailbox_polls_per_login": round(polls as f64 / args.logins as f64, 2),
        "warmup_requests": warmup_requests,
        "errors": errors,
    });
    println!("RESULT {result}");
    if errors > 0 || !failures.is_empty() {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
