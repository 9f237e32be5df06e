//! Emails: through SMTP (lettre) when configured; otherwise into the outbox table and the
//! terminal, where a developer (and, in dev mode, the dev mailbox endpoint) reads them.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::Db;

/// Where outgoing mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox,
}

/// SMTP settings: a URL such as `smtps://user:pass@smtp.example.com` or
/// `smtp://127.0.0.1:2525` (plain, for a local relay), and the From address.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: String,
    pub from: String,
}

impl Mailer {
    pub fn new(smtp: Option<&SmtpConfig>) -> Result<Self, String> {
        let Some(smtp) = smtp else {
            return Ok(Self::Outbox);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
            .map_err(|e| format!("SMTP URL {:?}: {e}", smtp.url))?
            .build();
        let from = smtp
            .from
            .parse()
            .map_err(|e| format!("SMTP from address {:?}: {e}", smtp.from))?;
        Ok(Self::Smtp { transport, from })
    }

    /// Sends in the background, so that the answer to the member never waits on (or reveals)
    /// whether an email was sent.
    pub fn send_later(&self, db: Db, to: String, subject: String, body: String) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(&db, &to, &subject, &body).await {
                tracing::error!(%err, "email not sent");
            }
        });
    }

    async fn send(&self, db: &Db, to: &str, subject: &str, body: &str) -> Result<(), String> {
        match self {
            Self::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?)
                    .subject(subject)
                    .body(body.to_owned())
                    .map_err(|e| e.to_string())?;
                transport.send(message).await.map_err(|e| e.to_string())?;
                Ok(())
            }
            Self::Outbox => {
                db.store_email(to, subject, body)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("\n── email to {to} ──\nSubject: {subject}\n\n{body}\n──");
                Ok(())
            }
        }
    }
}
