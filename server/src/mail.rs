//! Emails. A handler queues an email in the outbox table (`MailQueue::send`) before it answers,
//! so a crash after the answer loses nothing; a background worker on every replica claims
//! queued emails one at a time and delivers them — through SMTP (lettre) when configured,
//! otherwise to the terminal, where a developer (and, in dev mode, the dev mailbox endpoint)
//! reads them — retrying a failed delivery later, also after a restart.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::{Db, StoredEmail};

/// How long a worker holds a claimed email before another may try it.
const LEASE_SECONDS: i64 = 120;
/// How often a worker looks for emails queued by other replicas, or due again.
const POLL: Duration = Duration::from_secs(1);

/// How emails are delivered.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// Printed in the terminal (and kept in the outbox).
    Terminal,
}

/// SMTP settings: a URL such as `smtps://user:pass@smtp.example.com` or
/// `smtp://127.0.0.1:2525` (plain, for a local relay), and the From address.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: String,
    pub from: String,
}

impl Mailer {
    pub fn new(smtp: Option<&SmtpConfig>) -> Result<Self> {
        let Some(smtp) = smtp else {
            return Ok(Self::Terminal);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
            .map_err(Error::SmtpUrl)?
            .build();
        let from = address(&smtp.from)?;
        Ok(Self::Smtp { transport, from })
    }

    async fn deliver(&self, email: &StoredEmail) -> Result<()> {
        match self {
            Self::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(address(&email.recipient)?)
                    .subject(&email.subject)
                    // UTF-8 plain text: emails are written in the member's language.
                    .header(ContentType::TEXT_PLAIN)
                    .body(email.body.clone())?;
                transport.send(message).await?;
            }
            Self::Terminal => println!(
                "\n── email to {} ──\nSubject: {}\n\n{}\n──",
                email.recipient, email.subject, email.body
            ),
        }
        Ok(())
    }
}

fn address(text: &str) -> Result<Mailbox> {
    text.parse().map_err(|source| Error::EmailAddress {
        address: text.into(),
        source,
    })
}

/// Where handlers put emails: the outbox table, and a nudge to this replica's worker.
#[derive(Clone)]
pub struct MailQueue {
    db: Db,
    clock: Clock,
    wakeup: Arc<Notify>,
}

impl MailQueue {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            wakeup: Arc::new(Notify::new()),
        }
    }

    /// Queues an email. `None` as the recipient queues one that is never delivered, so that a
    /// request for an unknown username does the same database work as for a member.
    pub async fn send(&self, to: Option<&str>, subject: &str, body: &str) -> Result<()> {
        self.db
            .enqueue_email(to.unwrap_or_default(), subject, body, self.clock.now())
            .await?;
        self.wakeup.notify_one();
        Ok(())
    }

    /// Delivers queued emails until the process ends.
    pub fn spawn_worker(&self, mailer: Mailer) -> tokio::task::JoinHandle<()> {
        let queue = self.clone();
        tokio::spawn(async move {
            loop {
                match queue.deliver_next(&mailer).await {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = tokio::time::timeout(POLL, queue.wakeup.notified()).await;
                    }
                    Err(err) => {
                        tracing::error!(%err, "mail worker");
                        tokio::time::sleep(POLL).await;
                    }
                }
            }
        })
    }

    /// Claims and delivers the next email due; `false` when there is none.
    async fn deliver_next(&self, mailer: &Mailer) -> Result<bool> {
        let now = self.clock.now();
        let Some(email) = self.db.claim_email(now, LEASE_SECONDS).await? else {
            return Ok(false);
        };
        if email.recipient.is_empty() {
            self.db.email_sent(email.id, now).await?;
            return Ok(true);
        }
        match mailer.deliver(&email).await {
            Ok(()) => self.db.email_sent(email.id, self.clock.now()).await?,
            Err(err) => {
                let retry_at = self.clock.now() + retry_after(email.attempts);
                tracing::warn!(%err, id = email.id, retry_at, "email not delivered; will retry");
                self.db.email_failed(email.id, retry_at).await?;
            }
        }
        Ok(true)
    }
}

/// Seconds until the next try after `attempts` failed ones: 10 s, doubling, at most an hour.
pub fn retry_after(attempts: i64) -> i64 {
    (10_i64 << (attempts - 1).clamp(0, 9)).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let waits: Vec<i64> = (1..=11).map(retry_after).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }
}
