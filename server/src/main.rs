//! `member-login-server`: the reference login API (`serve`) and its admin commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use member_login_api::{LoginMethod, OrganizationKey};
use member_login_server::client_ip::{self, TrustedProxies};
use member_login_server::connections::ConnectionLimits;
use member_login_server::limits::Limits;
use member_login_server::mail::SmtpConfig;
use member_login_server::secrets::hash_password;
use member_login_server::store::{
    self, Db, NewMember, NewOrganization, PublicSettings, SecuritySettings, SettingsChange,
};
use member_login_server::tls::TlsFiles;
use member_login_server::{demo, Config};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(version, about = "Reference login API server for Member Login")]
struct Cli {
    /// The SQLite data file; created, with its folder, on first start.
    #[arg(
        long,
        env = "MEMBER_LOGIN_DATA",
        default_value = "data/member-login.sqlite3",
        global = true
    )]
    data: PathBuf,
    /// The database, as a URL: sqlite://PATH, or postgres://USER@HOST:PORT/NAME for several
    /// replicas sharing one database. Takes the place of --data.
    #[arg(long, env = "MEMBER_LOGIN_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the login API (and the built app, with --dist).
    Serve(ServeArgs),
    /// Create the demo Organization and members (kept if they exist).
    SeedDemo,
    /// Manage Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage the members of an Organization.
    #[command(subcommand)]
    Member(MemberCommand),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "MEMBER_LOGIN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The app's built files (trunk's dist/), served on the same origin as the API.
    #[arg(long, env = "MEMBER_LOGIN_DIST")]
    dist: Option<PathBuf>,
    /// The origin members reach this server at, e.g. https://login.example.com.
    #[arg(long, env = "MEMBER_LOGIN_PUBLIC_ORIGIN")]
    public_origin: Option<String>,
    /// Where the app is, for links in emails (default: the public origin).
    #[arg(long, env = "MEMBER_LOGIN_APP_URL")]
    app_url: Option<String>,
    /// An origin of an app hosted elsewhere that may call the API; repeat for more.
    #[arg(
        long = "cors-origin",
        env = "MEMBER_LOGIN_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,
    /// The WebAuthn relying party ID passkeys are bound to: a domain, the app's or a parent of
    /// it (default: the host of the app URL; `localhost` when that is an IP address, which
    /// WebAuthn refuses). Passkeys work on the app origins whose host is it or under it.
    #[arg(long, env = "MEMBER_LOGIN_PASSKEY_RP_ID")]
    passkey_rp_id: Option<String>,
    /// SMTP server URL (smtps://user:pass@host or smtp://host:port); without it, email goes to
    /// the outbox table and the terminal.
    #[arg(long, env = "MEMBER_LOGIN_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From address of emails sent through SMTP.
    #[arg(
        long,
        env = "MEMBER_LOGIN_SMTP_FROM",
        default_value = "Member Login <login@localhost>"
    )]
    smtp_from: String,
    /// Development mode: the outbox is readable at /api/v1/dev/mailbox. Never in production.
    #[arg(long)]
    dev: bool,
    /// Create the demo Organization and members, and print how to log in.
    #[arg(long)]
    demo: bool,
    /// Serve HTTPS with this PEM certificate chain (and --tls-key); without it, plain HTTP.
    #[arg(long, env = "MEMBER_LOGIN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of the --tls-cert certificate.
    #[arg(long, env = "MEMBER_LOGIN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Reverse proxies (addresses or CIDR networks, comma-separated) whose Forwarded or
    /// X-Forwarded-For headers name the client; from any other peer those headers are ignored.
    #[arg(long = "trusted-proxy", env = "MEMBER_LOGIN_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    trusted_proxies: Vec<client_ip::Cidr>,
    /// State-changing API calls allowed per client IP address and minute.
    #[arg(long, env = "MEMBER_LOGIN_PER_IP_LIMIT", default_value_t = Limits::default().per_ip, value_parser = clap::value_parser!(u32).range(1..))]
    per_ip_limit: u32,
    /// Credential checks allowed per Organization member and minute.
    #[arg(long, env = "MEMBER_LOGIN_PER_MEMBER_LIMIT", default_value_t = Limits::default().per_member, value_parser = clap::value_parser!(u32).range(1..))]
    per_member_limit: u32,
    /// Seconds a client has to send a request's line and headers; also how long an idle
    /// connection stays open.
    #[arg(long, env = "MEMBER_LOGIN_HEADER_READ_TIMEOUT", default_value_t = ConnectionLimits::DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_read_timeout: u64,
    /// Seconds a request may take, its body included, before it answers 503.
    #[arg(long, env = "MEMBER_LOGIN_REQUEST_TIMEOUT", default_value_t = ConnectionLimits::DEFAULT_REQUEST_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Connections one client IP address may hold open at once (trusted proxies: no cap).
    #[arg(long, env = "MEMBER_LOGIN_MAX_CONNECTIONS_PER_IP", default_value_t = ConnectionLimits::DEFAULT_PER_IP as u32, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_ip: u32,
}

fn parse_cidr(text: &str) -> Result<client_ip::Cidr, String> {
    text.trim().parse().map_err(|e| format!("{e}"))
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an Organization.
    Create {
        /// 2–32 lower-case letters a–z.
        #[arg(long)]
        alias: String,
        #[arg(long)]
        name: String,
        /// The Organization ID (a UUID); a new one when left out.
        #[arg(long)]
        id: Option<String>,
        /// Login methods members may use.
        #[arg(long, value_delimiter = ',', default_value = "email_code,password", value_parser = parse_method)]
        methods: Vec<LoginMethod>,
        /// Consecutive failed logins that lock a member.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(i64).range(1..=100))]
        max_failed_logins: i64,
        /// How long a session lasts, in hours.
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(i64).range(1..=720))]
        session_hours: i64,
        /// Members must enable MFA within the grace period after their first login.
        #[arg(long)]
        enforce_mfa: bool,
        /// Members must choose a new password within the grace period after their first login.
        #[arg(long)]
        enforce_password_renewal: bool,
        /// The grace period, in days, from when a requirement first applies to a member.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i64).range(0..=365))]
        grace_days: i64,
        /// Failed logins lock a member until an administrator unlocks them (by default the
        /// lock ends by itself: 15 minutes, doubling with each lock, at most a day).
        #[arg(long)]
        lock_until_unlocked: bool,
        #[command(flatten)]
        public: PublicArgs,
    },
    /// Change an Organization's settings; what is not given stays as it is.
    Settings {
        /// The Organization's ID or alias.
        #[arg(long)]
        org: String,
        #[arg(long, value_delimiter = ',', value_parser = parse_method)]
        methods: Option<Vec<LoginMethod>>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=100))]
        max_failed_logins: Option<i64>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=720))]
        session_hours: Option<i64>,
        #[arg(long)]
        enforce_mfa: Option<bool>,
        #[arg(long)]
        enforce_password_renewal: Option<bool>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..=365))]
        grace_days: Option<i64>,
        #[arg(long)]
        lock_until_unlocked: Option<bool>,
        #[command(flatten)]
        public: PublicArgs,
    },
    /// List Organizations.
    List,
}

/// What an Organization shows on its login pages and where members go after logging in. With
/// `org settings`, a flag left out keeps the setting and an empty value ('') removes it.
#[derive(clap::Args)]
struct PublicArgs {
    /// The logo shown on the login pages: an absolute https:// URL.
    #[arg(long, value_name = "URL")]
    logo_url: Option<String>,
    /// The accent colour of the login pages: #rrggbb or #rgb. The app uses it only if white
    /// text on it has a contrast of at least 4.5:1 (WCAG AA), otherwise its own colour.
    #[arg(long, value_name = "COLOR")]
    accent_color: Option<String>,
    /// A URL prefix a member may be sent back to after logging in (?return_to=): an absolute
    /// https:// URL (http:// only for localhost and 127.0.0.1) whose path ends with / (an
    /// origin alone gets /). Repeat it or separate with commas; with `org settings` it replaces
    /// the whole list.
    #[arg(long = "return-url", value_name = "URL", value_delimiter = ',')]
    return_urls: Option<Vec<String>>,
    /// Where members go after logging in when no allowed return_to was given: an absolute
    /// https:// URL (http:// only for localhost and 127.0.0.1), no query or fragment.
    #[arg(long, value_name = "URL")]
    console_url: Option<String>,
}

/// The checked, normalised settings `PublicArgs` asks for: `None` leaves one as it is,
/// `Some(None)` (or an empty list) removes it.
struct PublicChange {
    logo_url: Option<Option<String>>,
    accent_color: Option<Option<String>>,
    return_urls: Option<Vec<String>>,
    console_url: Option<Option<String>>,
}

impl PublicArgs {
    fn check(self) -> Result<PublicChange, Error> {
        use member_login_api::branding::{
            accent_passes_aa, contrast_ratio, normalize_accent_color, normalize_logo_url,
            parse_hex_color,
        };
        use member_login_api::handoff::{normalize_console_url, normalize_return_prefix};
        fn url(
            flag: &str,
            value: Option<String>,
            normalize: fn(&str) -> Result<String, member_login_api::UrlError>,
        ) -> Result<Option<Option<String>>, Error> {
            match value {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(Some(None)),
                Some(v) => normalize(&v)
                    .map(|v| Some(Some(v)))
                    .map_err(|e| format!("{flag} {v:?}: {e}").into()),
            }
        }
        let accent_color = match self.accent_color {
            None => None,
            Some(v) if v.is_empty() => Some(None),
            Some(v) => {
                let color = normalize_accent_color(&v).ok_or_else(|| {
                    format!("--accent-color {v:?} is not a colour: use #rrggbb or #rgb")
                })?;
                if !accent_passes_aa(&color) {
                    let ratio = contrast_ratio(parse_hex_color(&color).unwrap(), [255; 3]);
                    eprintln!(
                        "warning: white text on {color} has a contrast of {ratio:.1}:1, under \
                         the 4.5:1 of WCAG AA: the app will show its default colour instead"
                    );
                }
                Some(Some(color))
            }
        };
        let return_urls = match self.return_urls {
            None => None,
            Some(values) => {
                let mut prefixes: Vec<String> = Vec::new();
                for v in values.iter().filter(|v| !v.is_empty()) {
                    let prefix = normalize_return_prefix(v)
                        .map_err(|e| format!("--return-url {v:?}: {e}"))?;
                    if !prefixes.contains(&prefix) {
                        prefixes.push(prefix);
                    }
                }
                Some(prefixes)
            }
        };
        Ok(PublicChange {
            logo_url: url("--logo-url", self.logo_url, normalize_logo_url)?,
            accent_color,
            return_urls,
            console_url: url("--console-url", self.console_url, normalize_console_url)?,
        })
    }
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a member. The password, if any, is read from the MEMBER_LOGIN_PASSWORD variable so
    /// it never shows in the process list.
    Create {
        /// The Organization's ID or alias.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
    /// List an Organization's members.
    List {
        #[arg(long)]
        org: String,
    },
    /// Lock a member: no login succeeds until unlocked.
    Lock {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
    },
    /// Unlock a member and clear their failed-login count.
    Unlock {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
    },
}

/// An Organization's login methods: at least one, and one that needs nothing added first.
/// A member adds a passkey only once logged in, so passkeys alone would let nobody in.
fn check_methods(methods: &[LoginMethod]) -> Result<(), String> {
    if methods.is_empty() {
        return Err("--methods needs at least one login method".into());
    }
    if methods.iter().all(|m| *m == LoginMethod::Passkey) {
        return Err(
            "--methods needs email_code or password too: members add passkeys once logged in"
                .into(),
        );
    }
    Ok(())
}

fn parse_method(text: &str) -> Result<LoginMethod, String> {
    match text {
        "email_code" => Ok(LoginMethod::EmailCode),
        "password" => Ok(LoginMethod::Password),
        "passkey" => Ok(LoginMethod::Passkey),
        other => Err(format!(
            "unknown login method {other:?}: use email_code, password or passkey"
        )),
    }
}

fn main() -> std::process::ExitCode {
    // Before the runtime starts its threads: glibc's mallopt is not safe alongside others.
    return_large_blocks_to_the_system();
    let runtime = tokio::runtime::Runtime::new().expect("the async runtime starts");
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Blocks of 4 MiB and more get memory of their own from the system, returned when freed.
/// By default glibc raises that threshold to the largest block freed so far: after the first
/// Argon2 block (19 MiB) was freed, later ones came from the heap, were split by small
/// allocations there, and were never returned (a burst of logins kept gigabytes). The
/// password checker reuses its blocks; this keeps any other large one from staying.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: sets a malloc parameter, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

async fn run() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "member_login_server=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let db = match &cli.database_url {
        Some(url) => store::open(url).await?,
        None => store::open_sqlite(&cli.data).await?,
    };
    match cli.command {
        Command::Serve(args) => serve(db, args).await,
        Command::SeedDemo => {
            demo::seed(&db).await?;
            println!("{}", demo::credentials_text("http://127.0.0.1:8080/"));
            Ok(())
        }
        Command::Org(command) => org(db, command).await,
        Command::Member(command) => member(db, command).await,
    }
}

async fn serve(db: Db, args: ServeArgs) -> Result<(), Error> {
    if args.demo {
        demo::seed(&db).await?;
    }
    if let Some(dist) = &args.dist {
        if !dist.join("index.html").is_file() {
            return Err(
                format!("{} has no index.html: build the app first", dist.display()).into(),
            );
        }
    }
    let config = Config {
        dist: args.dist,
        public_origin: args.public_origin,
        app_url: args.app_url,
        cors_origins: args.cors_origins,
        passkey_rp_id: args.passkey_rp_id,
        dev_mode: args.dev,
        smtp: args.smtp_url.map(|url| SmtpConfig {
            url,
            from: args.smtp_from,
        }),
        limits: Limits {
            per_ip: args.per_ip_limit,
            per_member: args.per_member_limit,
            ..Limits::default()
        },
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| TlsFiles { cert, key }),
        trusted_proxies: TrustedProxies::new(args.trusted_proxies),
        clock: Default::default(),
        connections: ConnectionLimits {
            header_read_timeout: Duration::from_secs(args.header_read_timeout),
            request_timeout: Duration::from_secs(args.request_timeout),
            per_ip: args.max_connections_per_ip as usize,
        },
    };
    let with_demo = args.demo;
    let scheme = config.scheme();
    let own_origin = config.public_origin.is_none();
    member_login_server::serve(db, config, args.listen, |addr| {
        let url = format!("{scheme}://{addr}/");
        // One line tests and scripts read to find the port.
        println!("Member Login is listening on {url}");
        // Passkeys need a domain name, and a loopback server is also reached as localhost.
        let open = if own_origin && addr.ip().is_loopback() {
            format!("{scheme}://localhost:{}/", addr.port())
        } else {
            url
        };
        if own_origin && addr.ip().is_loopback() {
            println!("Open {open} (passkeys work there, not on the IP address)");
        }
        if with_demo {
            println!("{}", demo::credentials_text(&open));
        }
    })
    .await?;
    Ok(())
}

async fn org(db: Db, command: OrgCommand) -> Result<(), Error> {
    match command {
        OrgCommand::Create {
            alias,
            name,
            id,
            methods,
            max_failed_logins,
            session_hours,
            enforce_mfa,
            enforce_password_renewal,
            grace_days,
            lock_until_unlocked,
            public,
        } => {
            let public = public.check()?;
            let id = match id {
                Some(id) => match OrganizationKey::parse(&id) {
                    Ok(OrganizationKey::Id(id)) => id,
                    _ => return Err(format!("--id {id:?} is not a UUID").into()),
                },
                None => uuid::Uuid::new_v4().to_string(),
            };
            if !matches!(
                OrganizationKey::parse(&alias),
                Ok(OrganizationKey::Alias(_))
            ) {
                return Err(
                    format!("--alias {alias:?} must be 2 to 32 lower-case letters a-z").into(),
                );
            }
            if name.trim().is_empty() {
                return Err("--name must not be empty".into());
            }
            if db
                .find_organization(&OrganizationKey::Alias(alias.clone()))
                .await?
                .is_some()
            {
                return Err(format!("the alias {alias} is taken").into());
            }
            check_methods(&methods)?;
            let org = NewOrganization {
                id,
                alias,
                name,
                login_methods: methods,
                max_failed_logins,
                session_seconds: session_hours * 3600,
                security: SecuritySettings {
                    enforce_mfa,
                    enforce_password_renewal,
                    grace_period_seconds: grace_days * 86400,
                    lock_until_unlocked,
                },
                public: PublicSettings {
                    logo_url: public.logo_url.flatten(),
                    accent_color: public.accent_color.flatten(),
                    return_urls: public.return_urls.unwrap_or_default(),
                    console_url: public.console_url.flatten(),
                },
            };
            if !db.ensure_organization(&org).await? {
                return Err(format!("an Organization with ID {} exists already", org.id).into());
            }
            println!("created Organization {} ({})", org.id, org.alias);
        }
        OrgCommand::Settings {
            org,
            methods,
            max_failed_logins,
            session_hours,
            enforce_mfa,
            enforce_password_renewal,
            grace_days,
            lock_until_unlocked,
            public,
        } => {
            let public = public.check()?;
            if let Some(methods) = &methods {
                check_methods(methods)?;
            }
            let id = organization_id(&db, &org).await?;
            let change = SettingsChange {
                login_methods: methods,
                max_failed_logins,
                session_seconds: session_hours.map(|h| h * 3600),
                enforce_mfa,
                enforce_password_renewal,
                grace_period_seconds: grace_days.map(|d| d * 86400),
                lock_until_unlocked,
                logo_url: public.logo_url,
                accent_color: public.accent_color,
                return_urls: public.return_urls,
                console_url: public.console_url,
            };
            db.update_organization_settings(&id, &change).await?;
            println!("updated Organization {id}");
        }
        OrgCommand::List => {
            for org in db.list_organizations().await? {
                let settings = db.organization_record(&org.id).await?;
                let Some(settings) = settings else { continue };
                let methods: Vec<String> = org
                    .login_methods
                    .iter()
                    .map(|m| {
                        serde_json::to_value(m)
                            .unwrap()
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect();
                let mut public = String::new();
                for (label, value) in [
                    ("logo", org.logo_url.clone()),
                    ("accent", org.accent_color.clone()),
                    ("return urls", Some(org.return_urls.join(","))),
                    ("console", org.console_url.clone()),
                ] {
                    if let Some(value) = value.filter(|v| !v.is_empty()) {
                        public.push_str(&format!("\t{label}={value}"));
                    }
                }
                println!(
                    "{}\t{}\t{}\tmethods={}\tlock after {} failures{}\tsessions {} h\t\
                     enforce mfa={} password renewal={}\tgrace {} days{public}",
                    org.id,
                    org.alias,
                    org.name,
                    methods.join(","),
                    settings.max_failed_logins,
                    if settings.lock_until_unlocked {
                        " until unlocked"
                    } else {
                        ""
                    },
                    settings.session_seconds / 3600,
                    settings.enforce_mfa,
                    settings.enforce_password_renewal,
                    settings.grace_period_seconds / 86400,
                );
            }
        }
    }
    Ok(())
}

async fn organization_id(db: &Db, key: &str) -> Result<String, Error> {
    let key = OrganizationKey::parse(key)
        .map_err(|_| format!("--org {key:?} is neither an Organization ID nor an alias"))?;
    Ok(db
        .find_organization(&key)
        .await?
        .ok_or_else(|| format!("no Organization {}", key.as_str()))?
        .id)
}

async fn member(db: Db, command: MemberCommand) -> Result<(), Error> {
    match command {
        MemberCommand::Create {
            org,
            username,
            email,
        } => {
            let organization_id = organization_id(&db, &org).await?;
            let username = member_login_server::login::flow::canonical_username(&username).ok_or(
                "--username must be 1 to 64 characters, with no control or invisible characters",
            )?;
            if !email.contains('@') {
                return Err(format!("--email {email:?} is not an email address").into());
            }
            let password_hash = match std::env::var("MEMBER_LOGIN_PASSWORD") {
                Ok(p) if !p.is_empty() => Some(hash_password(&p)?),
                _ => None,
            };
            let created = db
                .ensure_member(&NewMember {
                    organization_id,
                    username: username.clone(),
                    email,
                    password_hash,
                })
                .await?;
            if !created {
                return Err(format!("a member {username} exists already").into());
            }
            println!("created member {username}");
        }
        MemberCommand::List { org } => {
            let organization_id = organization_id(&db, &org).await?;
            for m in db.list_members(&organization_id).await? {
                let now = member_login_server::clock::Clock::system().now();
                let status = match m.locked_until {
                    _ if m.locked => "locked".to_owned(),
                    Some(until) if until > now => {
                        format!("locked for {} more minutes", (until - now + 59) / 60)
                    }
                    _ => "active".to_owned(),
                };
                println!("{}\t{}\t{status}", m.username, m.email);
            }
        }
        MemberCommand::Lock { org, username } => set_locked(&db, &org, &username, true).await?,
        MemberCommand::Unlock { org, username } => set_locked(&db, &org, &username, false).await?,
    }
    Ok(())
}

async fn set_locked(db: &Db, org: &str, username: &str, locked: bool) -> Result<(), Error> {
    let organization_id = organization_id(db, org).await?;
    if !db
        .set_member_locked(&organization_id, username, locked)
        .await?
    {
        return Err(format!("no member {username} in {org}").into());
    }
    println!(
        "{} member {username}",
        if locked { "locked" } else { "unlocked" }
    );
    Ok(())
}
