//! PostgreSQL, for several replicas of the server sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` and applies any migration it lacks. sqlx holds a
    /// PostgreSQL advisory lock while migrating, so replicas starting together on a new
    /// database migrate it once.
    pub async fn connect(url: &str) -> Result<Self, crate::error::Error> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

// A worker claiming an email skips the rows other workers are claiming right now, instead of
// waiting for them and then finding its pick gone.
super::sql::sql_store!(PostgresStore, "postgres", "FOR UPDATE SKIP LOCKED");
