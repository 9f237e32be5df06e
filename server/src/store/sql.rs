//! The SQL both backends run, written once: `$1`-style parameters, `ON CONFLICT` upserts and
//! `RETURNING` (SQLite 3.35+ and PostgreSQL alike), times as integer seconds, and booleans
//! that SQLite keeps as 0/1. `sql_store!` implements every store trait for a store type with a
//! `pool: sqlx::Pool<DB>` field.

use crate::error::Result;
use crate::login::flow::{parse_state, Flow, PendingCode};
use crate::mail_text::Language;
use crate::store::SessionRecord;

pub(super) const MEMBER_COLUMNS: &str = "id, organization_id, username, email, password_hash, \
     failed_logins, locked, locked_until, lockouts, totp_secret, totp_last_step, first_login_at, \
     password_changed_at, mfa_required_since, password_renewal_required_since, \
     (SELECT COUNT(*) FROM passkeys WHERE passkeys.member_id = members.id) AS passkeys";

pub(super) const FLOW_COLUMNS: &str = "id, organization_id, state, username, member_id, \
     created_at, expires_at, code_hash, code_expires_at, code_attempts_left, codes_sent, \
     resend_available_at, version, replaced_by, language, passkey_challenge";

/// A flow as stored.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct FlowRow {
    id: String,
    organization_id: String,
    state: String,
    username: Option<String>,
    member_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    code_hash: Option<String>,
    code_expires_at: Option<i64>,
    code_attempts_left: Option<i64>,
    codes_sent: i64,
    resend_available_at: Option<i64>,
    version: i64,
    replaced_by: Option<String>,
    language: String,
    passkey_challenge: Option<String>,
}

impl FlowRow {
    pub(super) fn into_flow(self) -> Result<Flow> {
        let code = match (
            self.code_hash,
            self.code_expires_at,
            self.code_attempts_left,
        ) {
            (Some(hash), Some(expires_at), Some(attempts_left)) => Some(PendingCode {
                hash,
                expires_at,
                attempts_left,
            }),
            _ => None,
        };
        Ok(Flow {
            state: parse_state(&self.state)?,
            id: self.id,
            organization_id: self.organization_id,
            username: self.username,
            member_id: self.member_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
            code,
            codes_sent: self.codes_sent,
            resend_available_at: self.resend_available_at,
            version: self.version,
            replaced_by: self.replaced_by,
            language: Language::parse_stored(&self.language)?,
            passkey_challenge: self.passkey_challenge,
        })
    }
}

pub(super) const PASSKEY_COLUMNS: &str = "id, member_id, organization_id, credential_id, name, \
     credential, synced, created_at, last_used_at";

pub(super) const SESSION_COLUMNS: &str = "member_id, created_at, expires_at, language";

/// A session as stored.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct SessionRow {
    member_id: String,
    created_at: i64,
    expires_at: i64,
    language: String,
}

impl SessionRow {
    pub(super) fn into_session(self) -> Result<SessionRecord> {
        Ok(SessionRecord {
            language: Language::parse_stored(&self.language)?,
            member_id: self.member_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

/// Implements every store trait for `$store` (a struct with `pool: sqlx::Pool<$db>`). The one
/// difference between the backends' SQL is `$skip_locked`: the row-locking clause of the
/// outbox claim (SQLite has one writer at a time and no such clause).
macro_rules! sql_store {
    ($store:ty, $backend:literal, $skip_locked:literal) => {
        use async_trait::async_trait;
        use member_login_api::{Organization, OrganizationKey};

        use crate::error::Result;
        use crate::login::flow::{state_name, username_key, Flow};
        use crate::mail_text::Language;
        use crate::store::sql::{
            FlowRow, SessionRow, FLOW_COLUMNS, MEMBER_COLUMNS, PASSKEY_COLUMNS, SESSION_COLUMNS,
        };
        use crate::store::{
            decode_methods, decode_urls, encode_methods, encode_urls, CodeSends, FailedLogins, Flows, Hit, LoginMethod, Maintenance,
            Members, MemberRecord, NewMember, NewOrganization, OrganizationRecord, Organizations,
            Outbox, PasskeyRecord, Passkeys, Purged, RateLimits, SessionRecord, Sessions, SettingsChange, Store,
            StoredEmail, TotpReplayGuard,
        };

        type OrgRow = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            bool,
            bool,
            i64,
            bool,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
        );

        fn org_record(row: OrgRow) -> OrganizationRecord {
            let (
                id,
                alias,
                name,
                methods,
                max_failed,
                session,
                mfa,
                renewal,
                grace,
                admin_unlock,
                logo_url,
                accent_color,
                return_urls,
                console_url,
            ) = row;
            OrganizationRecord {
                public: Organization {
                    id,
                    alias,
                    name,
                    login_methods: decode_methods(&methods),
                    logo_url: logo_url.filter(|s| !s.is_empty()),
                    accent_color: accent_color.filter(|s| !s.is_empty()),
                    return_urls: decode_urls(&return_urls),
                    console_url: console_url.filter(|s| !s.is_empty()),
                },
                max_failed_logins: max_failed,
                session_seconds: session,
                enforce_mfa: mfa,
                enforce_password_renewal: renewal,
                grace_period_seconds: grace,
                lock_until_unlocked: admin_unlock,
            }
        }

        const ORG_COLUMNS: &str = "id, alias, name, login_methods, max_failed_logins, \
             session_seconds, enforce_mfa, enforce_password_renewal, grace_period_seconds, \
             lock_until_unlocked, logo_url, accent_color, return_urls, console_url";

        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }
        }

        #[async_trait]
        impl Organizations for $store {
            async fn find_organization(
                &self,
                key: &OrganizationKey,
            ) -> Result<Option<Organization>> {
                let column = match key {
                    OrganizationKey::Id(_) => "id",
                    OrganizationKey::Alias(_) => "alias",
                };
                let row: Option<OrgRow> = sqlx::query_as(&format!(
                    "SELECT {ORG_COLUMNS} FROM organizations WHERE {column} = $1"
                ))
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|row| org_record(row).public))
            }

            async fn list_organizations(&self) -> Result<Vec<Organization>> {
                let rows: Vec<OrgRow> = sqlx::query_as(&format!(
                    "SELECT {ORG_COLUMNS} FROM organizations ORDER BY alias"
                ))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|row| org_record(row).public).collect())
            }

            async fn organization_record(&self, id: &str) -> Result<Option<OrganizationRecord>> {
                let row: Option<OrgRow> = sqlx::query_as(&format!(
                    "SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(org_record))
            }

            async fn ensure_organization(&self, org: &NewOrganization) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO organizations
                         (id, alias, name, login_methods, max_failed_logins, session_seconds,
                          enforce_mfa, enforce_password_renewal, grace_period_seconds,
                          lock_until_unlocked, logo_url, accent_color, return_urls, console_url)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&org.id)
                .bind(&org.alias)
                .bind(&org.name)
                .bind(encode_methods(&org.login_methods))
                .bind(org.max_failed_logins)
                .bind(org.session_seconds)
                .bind(org.security.enforce_mfa)
                .bind(org.security.enforce_password_renewal)
                .bind(org.security.grace_period_seconds)
                .bind(org.security.lock_until_unlocked)
                .bind(&org.public.logo_url)
                .bind(&org.public.accent_color)
                .bind(encode_urls(&org.public.return_urls))
                .bind(&org.public.console_url)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn update_organization_settings(
                &self,
                id: &str,
                change: &SettingsChange,
            ) -> Result<()> {
                let passkeys_off = change
                    .login_methods
                    .as_ref()
                    .is_some_and(|m| !m.contains(&LoginMethod::Passkey));
                let mut tx = self.pool.begin().await?;
                // Passkeys turned off where they were on: they no longer count as MFA here, so for
                // members whose only second factor was a passkey the requirement applies anew,
                // from their next login or call. A write first, so SQLite's transaction takes
                // the write lock at once rather than upgrading a read.
                sqlx::query(
                    "UPDATE members SET mfa_required_since = NULL
                     WHERE $1 AND organization_id = $2 AND totp_secret IS NULL
                       AND EXISTS (SELECT 1 FROM passkeys WHERE passkeys.member_id = members.id)
                       AND (SELECT login_methods FROM organizations WHERE id = $2)
                           LIKE '%passkey%'",
                )
                .bind(passkeys_off)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE organizations SET
                         login_methods = COALESCE($1, login_methods),
                         max_failed_logins = COALESCE($2, max_failed_logins),
                         session_seconds = COALESCE($3, session_seconds),
                         enforce_mfa = COALESCE($4, enforce_mfa),
                         enforce_password_renewal = COALESCE($5, enforce_password_renewal),
                         grace_period_seconds = COALESCE($6, grace_period_seconds),
                         lock_until_unlocked = COALESCE($7, lock_until_unlocked),
                         logo_url = CASE WHEN $9 THEN $10 ELSE logo_url END,
                         accent_color = CASE WHEN $11 THEN $12 ELSE accent_color END,
                         return_urls = COALESCE($13, return_urls),
                         console_url = CASE WHEN $14 THEN $15 ELSE console_url END
                     WHERE id = $8",
                )
                .bind(change.login_methods.as_deref().map(encode_methods))
                .bind(change.max_failed_logins)
                .bind(change.session_seconds)
                .bind(change.enforce_mfa)
                .bind(change.enforce_password_renewal)
                .bind(change.grace_period_seconds)
                .bind(change.lock_until_unlocked)
                .bind(id)
                .bind(change.logo_url.is_some())
                .bind(change.logo_url.as_ref().and_then(Option::as_deref))
                .bind(change.accent_color.is_some())
                .bind(change.accent_color.as_ref().and_then(Option::as_deref))
                .bind(change.return_urls.as_deref().map(encode_urls))
                .bind(change.console_url.is_some())
                .bind(change.console_url.as_ref().and_then(Option::as_deref))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }

        #[async_trait]
        impl Members for $store {
            async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {MEMBER_COLUMNS} FROM members WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn member_by_username(
                &self,
                organization_id: &str,
                username: &str,
            ) -> Result<Option<MemberRecord>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {MEMBER_COLUMNS} FROM members
                     WHERE organization_id = $1 AND username_key = $2"
                ))
                .bind(organization_id)
                .bind(username_key(username))
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn member_id_by_username(
                &self,
                organization_id: &str,
                username: &str,
            ) -> Result<Option<String>> {
                let (id,): (String,) = sqlx::query_as(
                    "SELECT COALESCE((SELECT id FROM members
                                      WHERE organization_id = $1 AND username_key = $2), '')",
                )
                .bind(organization_id)
                .bind(username_key(username))
                .fetch_one(&self.pool)
                .await?;
                Ok(Some(id).filter(|id| !id.is_empty()))
            }

            async fn list_members(&self, organization_id: &str) -> Result<Vec<MemberRecord>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {MEMBER_COLUMNS} FROM members WHERE organization_id = $1
                     ORDER BY username"
                ))
                .bind(organization_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ensure_member(&self, member: &NewMember) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO members
                         (id, organization_id, username, username_key, email, password_hash)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(&member.organization_id)
                .bind(&member.username)
                .bind(username_key(&member.username))
                .bind(&member.email)
                .bind(&member.password_hash)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_failed_login(
                &self,
                member_id: &str,
            ) -> Result<Option<FailedLogins>> {
                Ok(sqlx::query_as(
                    "UPDATE members SET failed_logins = failed_logins + 1 WHERE id = $1
                     RETURNING failed_logins, lockouts",
                )
                .bind(member_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn lock_after_failures(
                &self,
                member_id: &str,
                limit: i64,
                until: Option<i64>,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE members SET failed_logins = 0, lockouts = lockouts + 1,
                            locked_until = $1,
                            locked = CASE WHEN $2 THEN TRUE ELSE locked END
                     WHERE id = $3 AND failed_logins >= $4",
                )
                .bind(until)
                .bind(until.is_none())
                .bind(member_id)
                .bind(limit)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_login(&self, member_id: &str, now: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE members SET failed_logins = 0, lockouts = 0, locked_until = NULL,
                            first_login_at = COALESCE(first_login_at, $1)
                     WHERE id = $2",
                )
                .bind(now)
                .bind(member_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn start_requirements(
                &self,
                member_id: &str,
                now: i64,
                mfa: bool,
                renewal: bool,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE members SET
                         mfa_required_since = CASE WHEN $2 THEN COALESCE(mfa_required_since, $1)
                                                   ELSE mfa_required_since END,
                         password_renewal_required_since =
                             CASE WHEN $3 THEN COALESCE(password_renewal_required_since, $1)
                                  ELSE password_renewal_required_since END
                     WHERE id = $4",
                )
                .bind(now)
                .bind(mfa)
                .bind(renewal)
                .bind(member_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn lock_member(&self, member_id: &str) -> Result<()> {
                sqlx::query("UPDATE members SET locked = TRUE WHERE id = $1")
                    .bind(member_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_member_locked(
                &self,
                organization_id: &str,
                username: &str,
                locked: bool,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE members SET locked = $1,
                            failed_logins = CASE WHEN $1 THEN failed_logins ELSE 0 END,
                            lockouts = CASE WHEN $1 THEN lockouts ELSE 0 END,
                            locked_until = CASE WHEN $1 THEN locked_until ELSE NULL END,
                            mfa_required_since =
                                CASE WHEN $1 THEN mfa_required_since ELSE NULL END,
                            password_renewal_required_since =
                                CASE WHEN $1 THEN password_renewal_required_since ELSE NULL END
                     WHERE organization_id = $2 AND username_key = $3",
                )
                .bind(locked)
                .bind(organization_id)
                .bind(username_key(username))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_password(&self, member_id: &str, hash: &str, now: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE members SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
                )
                .bind(hash)
                .bind(now)
                .bind(member_id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn set_totp_pending(&self, member_id: &str, secret: &str) -> Result<()> {
                sqlx::query("UPDATE members SET totp_pending_secret = $1 WHERE id = $2")
                    .bind(secret)
                    .bind(member_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn totp_pending(&self, member_id: &str) -> Result<Option<String>> {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT totp_pending_secret FROM members WHERE id = $1")
                        .bind(member_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.and_then(|(secret,)| secret))
            }

            async fn activate_totp(
                &self,
                member_id: &str,
                step: i64,
                recovery_hashes: &[String],
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE members SET totp_secret = totp_pending_secret,
                            totp_pending_secret = NULL, totp_last_step = $1
                     WHERE id = $2",
                )
                .bind(step)
                .bind(member_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM recovery_codes WHERE member_id = $1")
                    .bind(member_id)
                    .execute(&mut *tx)
                    .await?;
                for hash in recovery_hashes {
                    sqlx::query("INSERT INTO recovery_codes (member_id, code_hash) VALUES ($1, $2)")
                        .bind(member_id)
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn has_recovery_code(&self, member_id: &str, code_hash: &str) -> Result<bool> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT member_id FROM recovery_codes
                     WHERE member_id = $1 AND code_hash = $2 AND used_at IS NULL",
                )
                .bind(member_id)
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some())
            }

            async fn use_recovery_code(
                &self,
                member_id: &str,
                code_hash: &str,
                now: i64,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE recovery_codes SET used_at = $1
                     WHERE member_id = $2 AND code_hash = $3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(member_id)
                .bind(code_hash)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl Flows for $store {
            async fn insert_flow(&self, flow: &Flow) -> Result<()> {
                let code = flow.code.as_ref();
                sqlx::query(
                    "INSERT INTO flows (id, organization_id, state, username, member_id,
                                        created_at, expires_at, code_hash, code_expires_at,
                                        code_attempts_left, codes_sent, resend_available_at,
                                        version, language, passkey_challenge)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                )
                .bind(&flow.id)
                .bind(&flow.organization_id)
                .bind(state_name(flow.state))
                .bind(&flow.username)
                .bind(&flow.member_id)
                .bind(flow.created_at)
                .bind(flow.expires_at)
                .bind(code.map(|c| c.hash.as_str()))
                .bind(code.map(|c| c.expires_at))
                .bind(code.map(|c| c.attempts_left))
                .bind(flow.codes_sent)
                .bind(flow.resend_available_at)
                .bind(flow.version)
                .bind(flow.language.code())
                .bind(&flow.passkey_challenge)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn flow(&self, id: &str) -> Result<Option<Flow>> {
                let row: Option<FlowRow> =
                    sqlx::query_as(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(FlowRow::into_flow).transpose()
            }

            async fn save_flow(&self, flow: &mut Flow) -> Result<bool> {
                let code = flow.code.as_ref();
                let done = sqlx::query(
                    "UPDATE flows SET state = $1, username = $2, member_id = $3, code_hash = $4,
                            code_expires_at = $5, code_attempts_left = $6, codes_sent = $7,
                            resend_available_at = $8, language = $9, passkey_challenge = $12,
                            version = version + 1
                     WHERE id = $10 AND version = $11",
                )
                .bind(state_name(flow.state))
                .bind(&flow.username)
                .bind(&flow.member_id)
                .bind(code.map(|c| c.hash.as_str()))
                .bind(code.map(|c| c.expires_at))
                .bind(code.map(|c| c.attempts_left))
                .bind(flow.codes_sent)
                .bind(flow.resend_available_at)
                .bind(flow.language.code())
                .bind(&flow.id)
                .bind(flow.version)
                .bind(&flow.passkey_challenge)
                .execute(&self.pool)
                .await?;
                let saved = done.rows_affected() == 1;
                if saved {
                    flow.version += 1;
                }
                Ok(saved)
            }

            async fn set_replacement(
                &self,
                expired: &str,
                previous: Option<&str>,
                replacement: &str,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE flows SET replaced_by = $1
                     WHERE id = $2 AND ((replaced_by IS NULL AND $3 IS NULL) OR replaced_by = $3)",
                )
                .bind(replacement)
                .bind(expired)
                .bind(previous)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_flow(&self, id: &str) -> Result<()> {
                sqlx::query("DELETE FROM flows WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn forget_other_codes(
                &self,
                organization_id: &str,
                username: &str,
                keep_flow: &str,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE flows SET code_hash = NULL, code_expires_at = NULL,
                            code_attempts_left = NULL, version = version + 1
                     WHERE organization_id = $1 AND username = $2 AND id != $3
                       AND code_hash IS NOT NULL",
                )
                .bind(organization_id)
                .bind(username)
                .bind(keep_flow)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl Sessions for $store {
            async fn insert_session(
                &self,
                token_hash: &str,
                member_id: &str,
                now: i64,
                expires_at: i64,
                language: Language,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, member_id, created_at, expires_at, language)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token_hash)
                .bind(member_id)
                .bind(now)
                .bind(expires_at)
                .bind(language.code())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str, now: i64) -> Result<Option<SessionRecord>> {
                let row: Option<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE token_hash = $1 AND expires_at > $2"
                ))
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(SessionRow::into_session).transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn end_other_sessions(&self, member_id: &str, keep_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE member_id = $1 AND token_hash != $2")
                    .bind(member_id)
                    .bind(keep_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }

        const EMAIL_COLUMNS: &str =
            "id, recipient, subject, body, created_at, sent_at, attempts";

        #[async_trait]
        impl Outbox for $store {
            async fn enqueue_email(
                &self,
                to: &str,
                subject: &str,
                body: &str,
                now: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO outbox (recipient, subject, body, created_at, next_attempt_at)
                     VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(to)
                .bind(subject)
                .bind(body)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn claim_email(&self, now: i64, lease: i64) -> Result<Option<StoredEmail>> {
                // The outer condition repeats the inner one, so that of two workers that picked
                // the same email only one claims it (PostgreSQL checks it again on the row it
                // updates; SQLite runs one writer at a time).
                Ok(sqlx::query_as(&format!(
                    "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1
                     WHERE id = (SELECT id FROM outbox
                                 WHERE sent_at IS NULL AND next_attempt_at <= $2
                                   AND (claimed_until IS NULL OR claimed_until <= $2)
                                 ORDER BY next_attempt_at, id LIMIT 1 {})
                       AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $2)
                     RETURNING {EMAIL_COLUMNS}",
                    $skip_locked
                ))
                .bind(now + lease)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn email_sent(&self, id: i64, now: i64) -> Result<()> {
                sqlx::query("UPDATE outbox SET sent_at = $1, claimed_until = NULL WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn email_failed(&self, id: i64, retry_at: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL WHERE id = $2",
                )
                .bind(retry_at)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn emails(&self, to: Option<&str>) -> Result<Vec<StoredEmail>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {EMAIL_COLUMNS} FROM outbox
                     WHERE $1 IS NULL OR recipient = $1 ORDER BY id DESC LIMIT 100"
                ))
                .bind(to)
                .fetch_all(&self.pool)
                .await?)
            }
        }

        #[async_trait]
        impl RateLimits for $store {
            async fn hit(&self, key: &str, now: i64, window: i64) -> Result<Hit> {
                let (hits, window_start): (i64, i64) = sqlx::query_as(
                    "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
                     ON CONFLICT (key) DO UPDATE SET
                         hits = CASE WHEN rate_limits.window_start <= $3 THEN 1
                                     ELSE rate_limits.hits + 1 END,
                         window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2
                                             ELSE rate_limits.window_start END
                     RETURNING hits, window_start",
                )
                .bind(key)
                .bind(now)
                .bind(now - window)
                .fetch_one(&self.pool)
                .await?;
                Ok(Hit { hits, window_start })
            }

            async fn code_sends(
                &self,
                organization_id: &str,
                username: &str,
            ) -> Result<Option<CodeSends>> {
                Ok(sqlx::query_as(
                    "SELECT sent, last_sent_at, available_at FROM code_sends
                     WHERE organization_id = $1 AND username = $2",
                )
                .bind(organization_id)
                .bind(username)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn replace_code_sends(
                &self,
                organization_id: &str,
                username: &str,
                expected: Option<CodeSends>,
                new: CodeSends,
            ) -> Result<bool> {
                let done = match expected {
                    None => {
                        sqlx::query(
                            "INSERT INTO code_sends
                                 (organization_id, username, sent, last_sent_at, available_at)
                             VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (organization_id, username) DO NOTHING",
                        )
                        .bind(organization_id)
                        .bind(username)
                        .bind(new.sent)
                        .bind(new.last_sent_at)
                        .bind(new.available_at)
                        .execute(&self.pool)
                        .await?
                    }
                    Some(old) => {
                        sqlx::query(
                            "UPDATE code_sends SET sent = $1, last_sent_at = $2, available_at = $3
                             WHERE organization_id = $4 AND username = $5
                               AND sent = $6 AND last_sent_at = $7 AND available_at = $8",
                        )
                        .bind(new.sent)
                        .bind(new.last_sent_at)
                        .bind(new.available_at)
                        .bind(organization_id)
                        .bind(username)
                        .bind(old.sent)
                        .bind(old.last_sent_at)
                        .bind(old.available_at)
                        .execute(&self.pool)
                        .await?
                    }
                };
                Ok(done.rows_affected() == 1)
            }
        }

        #[async_trait]
        impl Maintenance for $store {
            async fn purge(&self, now: i64) -> Result<Purged> {
                const DAY: i64 = 86400;
                let mut tx = self.pool.begin().await?;
                let flows = sqlx::query("DELETE FROM flows WHERE expires_at < $1")
                    .bind(now - DAY)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(now - DAY)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let emails = sqlx::query("DELETE FROM outbox WHERE created_at < $1")
                    .bind(now - 7 * DAY)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let counters = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
                    .bind(now - DAY)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    + sqlx::query("DELETE FROM code_sends WHERE last_sent_at < $1")
                        .bind(now - DAY)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    + sqlx::query("DELETE FROM passkey_registrations WHERE expires_at < $1")
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                tx.commit().await?;
                Ok(Purged {
                    flows,
                    sessions,
                    emails,
                    counters,
                })
            }

            async fn check_writable(&self, now: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO health (id, checked_at) VALUES (1, $1)
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }

        #[async_trait]
        impl Passkeys for $store {
            async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO passkeys (id, member_id, organization_id, credential_id, name,
                                           credential, synced, created_at, last_used_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&passkey.id)
                .bind(&passkey.member_id)
                .bind(&passkey.organization_id)
                .bind(&passkey.credential_id)
                .bind(&passkey.name)
                .bind(&passkey.credential)
                .bind(passkey.synced)
                .bind(passkey.created_at)
                .bind(passkey.last_used_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn passkeys(&self, member_id: &str) -> Result<Vec<PasskeyRecord>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE member_id = $1
                     ORDER BY created_at, id"
                ))
                .bind(member_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn passkey_by_credential(
                &self,
                credential_id: &str,
            ) -> Result<Option<PasskeyRecord>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1"
                ))
                .bind(credential_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn rename_passkey(
                &self,
                member_id: &str,
                id: &str,
                name: &str,
            ) -> Result<Option<PasskeyRecord>> {
                Ok(sqlx::query_as(&format!(
                    "UPDATE passkeys SET name = $1 WHERE member_id = $2 AND id = $3
                     RETURNING {PASSKEY_COLUMNS}"
                ))
                .bind(name)
                .bind(member_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn delete_passkey(&self, member_id: &str, id: &str) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("DELETE FROM passkeys WHERE member_id = $1 AND id = $2")
                    .bind(member_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 1 {
                    // Their last second factor gone: the MFA requirement applies to them anew,
                    // its grace period starting at their next login or call, never in the past.
                    sqlx::query(
                        "UPDATE members SET mfa_required_since = NULL
                         WHERE id = $1 AND totp_secret IS NULL
                           AND NOT EXISTS (SELECT 1 FROM passkeys WHERE member_id = $1)",
                    )
                    .bind(member_id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn passkey_used(
                &self,
                id: &str,
                read: &str,
                credential: &str,
                synced: bool,
                now: i64,
            ) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE passkeys SET credential = $1, synced = $2, last_used_at = $3
                     WHERE id = $4 AND credential = $5",
                )
                .bind(credential)
                .bind(synced)
                .bind(now)
                .bind(id)
                .bind(read)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_passkey_registration(
                &self,
                session_hash: &str,
                member_id: &str,
                state: &str,
                expires_at: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO passkey_registrations (session_hash, member_id, state, expires_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (session_hash) DO UPDATE SET
                         member_id = excluded.member_id, state = excluded.state,
                         expires_at = excluded.expires_at",
                )
                .bind(session_hash)
                .bind(member_id)
                .bind(state)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_passkey_registration(
                &self,
                session_hash: &str,
                member_id: &str,
                now: i64,
            ) -> Result<Option<String>> {
                let row: Option<(String, String, i64)> = sqlx::query_as(
                    "DELETE FROM passkey_registrations WHERE session_hash = $1
                     RETURNING member_id, state, expires_at",
                )
                .bind(session_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .filter(|(member, _, expires_at)| member == member_id && *expires_at > now)
                    .map(|(_, state, _)| state))
            }
        }

        #[async_trait]
        impl TotpReplayGuard for $store {
            async fn claim_totp_step(&self, member_id: &str, step: i64) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE members SET totp_last_step = $1
                     WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                )
                .bind(step)
                .bind(member_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(super) use sql_store;
