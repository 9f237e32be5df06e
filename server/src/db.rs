//! The one SQLite database: opened (and created on first start), migrated, and queried here only.

use std::path::Path;
use std::str::FromStr;

use member_login_api::{LoginMethod, Organization, OrganizationKey};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::SqlitePool;

#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// An Organization to create.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub id: String,
    pub alias: String,
    pub name: String,
    pub login_methods: Vec<LoginMethod>,
}

/// A member to create.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub organization_id: String,
    pub username: String,
    pub email: String,
    pub password_hash: Option<String>,
}

impl Db {
    /// Opens the database file at `path`, creating it and its folder on first start, and applies
    /// any migration it lacks.
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn find_organization(
        &self,
        key: &OrganizationKey,
    ) -> Result<Option<Organization>, sqlx::Error> {
        let column = match key {
            OrganizationKey::Id(_) => "id",
            OrganizationKey::Alias(_) => "alias",
        };
        let row: Option<(String, String, String, String)> = sqlx::query_as(&format!(
            "SELECT id, alias, name, login_methods FROM organizations WHERE {column} = ?"
        ))
        .bind(key.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, alias, name, methods)| Organization {
            id,
            alias,
            name,
            login_methods: decode_methods(&methods),
        }))
    }

    pub async fn list_organizations(&self) -> Result<Vec<Organization>, sqlx::Error> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, alias, name, login_methods FROM organizations ORDER BY alias",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, alias, name, methods)| Organization {
                id,
                alias,
                name,
                login_methods: decode_methods(&methods),
            })
            .collect())
    }

    /// Creates the Organization, or leaves an existing one with the same ID as it is.
    /// Returns whether it was created.
    pub async fn ensure_organization(&self, org: &NewOrganization) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO organizations (id, alias, name, login_methods) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&org.id)
        .bind(&org.alias)
        .bind(&org.name)
        .bind(encode_methods(&org.login_methods))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates the member, or leaves an existing one with the same username as it is.
    /// Returns whether it was created.
    pub async fn ensure_member(&self, member: &NewMember) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO members (id, organization_id, username, email, password_hash)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (organization_id, username) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&member.organization_id)
        .bind(&member.username)
        .bind(&member.email)
        .bind(&member.password_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn encode_methods(methods: &[LoginMethod]) -> String {
    methods
        .iter()
        .map(|m| match m {
            LoginMethod::EmailCode => "email_code",
            LoginMethod::Password => "password",
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_methods(text: &str) -> Vec<LoginMethod> {
    text.split(',')
        .filter_map(|m| match m {
            "email_code" => Some(LoginMethod::EmailCode),
            "password" => Some(LoginMethod::Password),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_methods_survive_the_column_encoding_in_order() {
        for methods in [
            vec![],
            vec![LoginMethod::Password],
            vec![LoginMethod::EmailCode, LoginMethod::Password],
            vec![LoginMethod::Password, LoginMethod::EmailCode],
        ] {
            assert_eq!(decode_methods(&encode_methods(&methods)), methods);
        }
    }
}
