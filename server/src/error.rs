//! The server's one error type. A refusal the member or app should see is a [`Problem`] of the
//! contract; everything else (the database, a stored value that makes no sense, setting up TLS
//! or SMTP) is a fault that answers 500 and is logged, never shown.

use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use member_login_api::flow::Flow;
use member_login_api::session::PasswordRule;
use member_login_api::{Problem, ProblemCode, PROBLEM_CONTENT_TYPE};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal, answered as this problem document. Boxed: errors are the rare path, and a
    /// small `Result` keeps the common one cheap.
    #[error("refused: {}", .0.title)]
    Refused(Box<Problem>),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value this server cannot read (a flow state it does not know, say): the data
    /// was changed by something else, and guessing would be unsafe.
    #[error("the stored {what} {value:?} is not one this server knows")]
    Corrupt { what: &'static str, value: String },
    /// A database URL that names no backend this server has.
    #[error("the database URL {0:?} is neither sqlite://… nor postgres://…")]
    DatabaseUrl(String),
    /// A flow kept changing under this request (many parallel requests for one flow).
    #[error("the login flow kept changing; try again")]
    Contended,
    /// The server cannot take this request now: every password-hashing slot stayed taken for
    /// as long as a request may wait, or the request ran out of time. Answers 503 with
    /// `Retry-After: retry_after`.
    #[error("too busy to answer; retry after {retry_after} s")]
    Busy { retry_after: u64 },
    #[error("password hashing: {0}")]
    PasswordHash(argon2::password_hash::Error),
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("{}", pem_message(what, path, source))]
    TlsFile {
        what: &'static str,
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS certificate {} and key {} do not fit together: {source}", cert.display(), key.display())]
    TlsPair {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot set up TLS: {0}")]
    TlsSetup(rustls::Error),
    #[error("SMTP URL: {0}")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("email address {address:?}: {source}")]
    EmailAddress {
        address: String,
        source: lettre::address::AddressError,
    },
    #[error("email: {0}")]
    Email(#[from] lettre::error::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Passkeys: the relying party could not be set up, or a ceremony's state not written.
    #[error("passkeys: {0}")]
    Config(String),
}

fn pem_message(
    what: &str,
    path: &std::path::Path,
    error: &rustls::pki_types::pem::Error,
) -> String {
    use rustls::pki_types::pem::Error as Pem;
    match error {
        Pem::NoItemsFound => format!("{} holds no PEM {what}", path.display()),
        Pem::Io(e) => format!("cannot read the TLS {what} {}: {e}", path.display()),
        e => format!("the TLS {what} {} is not valid PEM: {e}", path.display()),
    }
}

impl From<argon2::password_hash::Error> for Error {
    fn from(err: argon2::password_hash::Error) -> Self {
        Self::PasswordHash(err)
    }
}

impl Error {
    /// A refusal with this code and title.
    pub fn new(code: ProblemCode, title: &str) -> Self {
        Self::Refused(Box::new(Problem::new(code, title)))
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self::new(ProblemCode::RateLimited, "Too many requests").with(|p| {
            p.retry_after = Some(seconds.max(1));
        })
    }

    /// 429: a code went out a moment ago (for another flow); a new one after `seconds`.
    pub fn resend_cooldown(seconds: i64) -> Self {
        Self::new(
            ProblemCode::ResendCooldown,
            "A code was sent a moment ago; a new one can be sent soon",
        )
        .with(|p| p.retry_after = Some(seconds.max(1) as u64))
    }

    /// The one answer for a wrong username, password or code.
    pub fn invalid_credentials() -> Self {
        Self::new(
            ProblemCode::InvalidCredentials,
            "The username, password or code is not right",
        )
    }

    pub fn step_not_allowed() -> Self {
        Self::new(
            ProblemCode::StepNotAllowed,
            "The login flow is not at this step",
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(ProblemCode::Unauthenticated, "Not logged in")
    }

    pub fn account_locked() -> Self {
        Self::new(
            ProblemCode::AccountLocked,
            "This member is locked; an administrator must unlock it",
        )
    }

    /// 503: the database takes no writes now (the readiness check).
    pub fn not_ready() -> Self {
        Self::new(
            ProblemCode::ServiceBusy,
            "The database does not take writes",
        )
        .with(|p| p.retry_after = Some(5))
    }

    /// Locked for a while after failed logins: `seconds` until the lock ends.
    pub fn account_locked_for(seconds: i64) -> Self {
        Self::new(
            ProblemCode::AccountLocked,
            "This member is locked for a while after failed logins",
        )
        .with(|p| p.retry_after = Some(seconds.max(1) as u64))
    }

    /// The Organization's requirements were not met in time: the member is locked now.
    pub fn grace_period_over() -> Self {
        Self::account_locked().with(|p| {
            p.detail =
                Some("The grace period for the Organization's security requirements is over".into())
        })
    }

    /// A wrong code, with the tries it has left.
    pub fn wrong_code(attempts_left: i64) -> Self {
        Self::invalid_credentials()
            .with(|p| p.attempts_left = Some(attempts_left.clamp(0, 255) as u8))
    }

    /// A new password refused for these rules.
    pub fn password_rejected(rules: Vec<PasswordRule>) -> Self {
        Self::new(
            ProblemCode::PasswordRejected,
            "The new password does not meet the rules",
        )
        .with(|p| p.rules = rules)
    }

    /// 410: the flow expired; `replacement` carries on with the same Organization and username.
    pub fn flow_expired(replacement: Flow) -> Self {
        Self::new(ProblemCode::FlowExpired, "The login flow expired")
            .with(|p| p.replacement = Some(Box::new(replacement)))
    }

    /// Changes the problem of a refusal (faults stay as they are).
    fn with(mut self, change: impl FnOnce(&mut Problem)) -> Self {
        if let Self::Refused(problem) = &mut self {
            change(problem);
        }
        self
    }

    /// The problem this error answers: a refusal's own, or 500 for a fault (logged here, so
    /// the member never sees its details).
    pub fn into_problem(self) -> Problem {
        match self {
            Self::Refused(problem) => *problem,
            Self::Contended => {
                let mut problem = Problem::new(ProblemCode::RateLimited, "Too many requests");
                problem.retry_after = Some(1);
                problem
            }
            Self::Busy { retry_after } => {
                tracing::warn!(retry_after, "too busy to answer a request");
                let mut problem = Problem::new(ProblemCode::ServiceBusy, "The server is busy");
                problem.retry_after = Some(retry_after.max(1));
                problem
            }
            fault => {
                tracing::error!(error = %fault, "internal error");
                Problem::new(ProblemCode::Internal, "Internal server error")
            }
        }
    }

    /// The problem code of a refusal; `None` for a fault.
    pub fn code(&self) -> Option<ProblemCode> {
        match self {
            Self::Refused(problem) => Some(problem.code),
            _ => None,
        }
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        err.into_problem()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = self.into_problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&problem).expect("a problem always serialises");
        let mut response =
            (status, [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)], body).into_response();
        if let Some(seconds) = problem.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_answer_500_without_their_details() {
        let problem = Error::Corrupt {
            what: "flow state",
            value: "secret detail".into(),
        }
        .into_problem();
        assert_eq!(problem.status, 500);
        assert_eq!(problem.code, ProblemCode::Internal);
        assert!(!serde_json::to_string(&problem)
            .unwrap()
            .contains("secret detail"));
    }

    #[test]
    fn refusals_keep_their_problem() {
        let problem = Error::wrong_code(3).into_problem();
        assert_eq!(problem.code, ProblemCode::InvalidCredentials);
        assert_eq!(problem.attempts_left, Some(3));
        assert_eq!(Error::rate_limited(0).into_problem().retry_after, Some(1));
    }

    #[test]
    fn busy_answers_503_with_retry_after() {
        let response = Error::Busy { retry_after: 5 }.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            PROBLEM_CONTENT_TYPE
        );
        let problem = Error::Busy { retry_after: 0 }.into_problem();
        assert_eq!(problem.code, ProblemCode::ServiceBusy);
        assert_eq!(problem.status, 503);
        assert_eq!(problem.retry_after, Some(1));
    }
}
