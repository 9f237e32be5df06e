//! `member-login-server`: the reference login API (`serve`) and its admin commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use member_login_api::{LoginMethod, OrganizationKey};
use member_login_server::db::{Db, NewOrganization};
use member_login_server::{demo, Config};

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the login API (and the built app, with --dist).
    Serve {
        /// Address to listen on; port 0 picks a free one.
        #[arg(long, env = "MEMBER_LOGIN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The app's built files (trunk's dist/), served on the same origin as the API.
        #[arg(long, env = "MEMBER_LOGIN_DIST")]
        dist: Option<PathBuf>,
        /// Create the demo Organization and members, and print how to log in.
        #[arg(long)]
        demo: bool,
    },
    /// Create the demo Organization and members (kept if they exist).
    SeedDemo,
    /// Manage Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
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
    },
    /// List Organizations.
    List,
}

fn parse_method(text: &str) -> Result<LoginMethod, String> {
    match text {
        "email_code" => Ok(LoginMethod::EmailCode),
        "password" => Ok(LoginMethod::Password),
        other => Err(format!(
            "unknown login method {other:?}: use email_code or password"
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "member_login_server=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let db = Db::open(&cli.data).await?;
    match cli.command {
        Command::Serve {
            listen,
            dist,
            demo: with_demo,
        } => {
            if with_demo {
                demo::seed(&db).await?;
            }
            if let Some(dist) = &dist {
                if !dist.join("index.html").is_file() {
                    return Err(format!(
                        "{} has no index.html: build the app first",
                        dist.display()
                    )
                    .into());
                }
            }
            member_login_server::serve(db, Config { dist }, listen, |addr| {
                let url = format!("http://{addr}/");
                // One line tests and scripts read to find the port.
                println!("Member Login is listening on {url}");
                if with_demo {
                    println!("{}", demo::credentials_text(&url));
                }
            })
            .await?;
        }
        Command::SeedDemo => {
            demo::seed(&db).await?;
            println!("{}", demo::credentials_text("http://127.0.0.1:8080/"));
        }
        Command::Org(OrgCommand::Create {
            alias,
            name,
            id,
            methods,
        }) => {
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
            let org = NewOrganization {
                id,
                alias,
                name,
                login_methods: methods,
            };
            if !db.ensure_organization(&org).await? {
                return Err(format!("an Organization with ID {} exists already", org.id).into());
            }
            println!("created Organization {} ({})", org.id, org.alias);
        }
        Command::Org(OrgCommand::List) => {
            for org in db.list_organizations().await? {
                println!("{}\t{}\t{}", org.id, org.alias, org.name);
            }
        }
    }
    Ok(())
}
