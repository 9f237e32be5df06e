//! The embedded default: one SQLite file, in WAL mode.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it and its folder on first start, and
    /// applies any migration it lacks.
    pub async fn open(path: &Path) -> Result<Self, crate::error::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL is durable across application crashes and skips an fsync per
            // commit; it also keeps a write from taking visibly longer than a read, which
            // would tell a known username (whose failure count is written) from an unknown one.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        // Servers (or admin commands) starting together on a new file would each try to switch
        // it to WAL and create the tables: one connects and migrates while it holds a lock on
        // a file beside the database, the others wait, then find nothing left to do. (Two
        // connections switching a new file's journal mode at once can fail at once, "database
        // is locked", without waiting for each other.)
        let lock = std::fs::File::create(lock_path(path))?;
        // Waiting for the lock blocks a thread: not one of the runtime's.
        let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock)).await??;
        let opened = async {
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Ok::<_, crate::error::Error>(pool)
        }
        .await;
        lock.unlock()?;
        Ok(Self { pool: opened? })
    }
}

/// `data.sqlite3` → `data.sqlite3.migrate-lock`.
fn lock_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".migrate-lock");
    name.into()
}

super::sql::sql_store!(SqliteStore, "sqlite", "");
