//! Emails: through SMTP (lettre) when configured; otherwise into the outbox table and the
//! terminal, where a developer (and, in dev mode, the dev mailbox endpoint) reads them.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::Db;

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
    pub fn new(smtp: Option<&SmtpConfig>) -> Result<Self> {
        let Some(smtp) = smtp else {
            return Ok(Self::Outbox);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
            .map_err(Error::SmtpUrl)?
            .build();
        let from = address(&smtp.from)?;
        Ok(Self::Smtp { transport, from })
    }

    /// Sends in the background, so that the answer to the member never waits on (or reveals)
    /// whether an email was sent.
    pub fn send_later(&self, db: Db, clock: Clock, to: String, subject: String, body: String) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(&db, &clock, &to, &subject, &body).await {
                tracing::error!(%err, "email not sent");
            }
        });
    }

    async fn send(
        &self,
        db: &Db,
        clock: &Clock,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<()> {
        match self {
            Self::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(address(to)?)
                    .subject(subject)
                    .body(body.to_owned())?;
                transport.send(message).await?;
                Ok(())
            }
            Self::Outbox => {
                db.store_email(to, subject, body, clock.now()).await?;
                println!("\n── email to {to} ──\nSubject: {subject}\n\n{body}\n──");
                Ok(())
            }
        }
    }
}

fn address(text: &str) -> Result<Mailbox> {
    text.parse().map_err(|source| Error::EmailAddress {
        address: text.into(),
        source,
    })
}
