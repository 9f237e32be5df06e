//! Every message the app shows for an error, in one place, keyed by what went wrong.

use std::borrow::Cow;

use member_login_api::flow::FlowMessage;
use member_login_api::{OrganizationInputError, Problem, ProblemCode};

use crate::api_client::ClientError;
use crate::wizard::Step;

pub fn organization_input(error: OrganizationInputError) -> &'static str {
    match error {
        OrganizationInputError::Empty => "Enter your Organization ID or alias.",
        OrganizationInputError::Malformed => {
            "Enter an Organization ID like 123e4567-e89b-12d3-a456-426614174000, \
             or an alias of 2 to 32 lower-case letters."
        }
    }
}

pub const USERNAME_EMPTY: &str = "Enter your username.";
pub const CODE_INCOMPLETE: &str = "Enter the 6-digit code from the email.";
pub const CODE_INCOMPLETE_AUTHENTICATOR: &str =
    "Enter the 6-digit code your authenticator app shows.";
pub const PASSWORD_EMPTY: &str = "Enter your password.";
pub const RECOVERY_CODE_MALFORMED: &str =
    "Enter one of your recovery codes, for example k3v9-qm2x-tp4w.";
pub const CODE_SENT: &str =
    "If this username is registered, we sent a code to its email address. It is valid for 10 minutes.";
/// Asked for a code while the one sent for this flow is still good: nothing was sent. Says no
/// more than [`CODE_SENT`] about whether the username exists.
pub const CODE_ALREADY_SENT: &str =
    "If this username is registered, we already sent a code to its email address, and it is still valid. You can ask for a new one when \"Resend email\" is available.";
pub const CODE_RESENT: &str =
    "If this username is registered, we sent a new code to its email address. It is valid for 10 minutes.";
/// A code was sent for another flow of this username a moment ago: a cooldown, not an error.
pub const RESEND_COOLDOWN: &str =
    "A code was asked for this username a moment ago. You can ask for a new one when the countdown ends.";

/// The code step's status line: a code sent, resent (`resent`), or already on its way.
pub fn code_status(flow_messages: &[FlowMessage], resent: bool) -> &'static str {
    if flow_messages.contains(&FlowMessage::CodeAlreadySent) {
        CODE_ALREADY_SENT
    } else if resent {
        CODE_RESENT
    } else {
        CODE_SENT
    }
}
pub const FLOW_RESTARTED: &str =
    "Your login took too long, so we started it again. What you entered was kept.";
pub const FLOW_RESTARTED_NEW_CODE: &str =
    "Your login took too long, so that code no longer works. Send a new code.";
pub const FLOW_RESTARTED_LOG_IN_AGAIN: &str =
    "Your login took too long, so we started it again. Choose how to log in once more.";

/// What the member is told when their login expired at step `here` and started again: a code
/// or a second factor from before cannot be carried over.
pub fn flow_restarted(here: Step) -> &'static str {
    match here {
        Step::EmailCode => FLOW_RESTARTED_NEW_CODE,
        Step::SecondFactor => FLOW_RESTARTED_LOG_IN_AGAIN,
        _ => FLOW_RESTARTED,
    }
}
pub const LOGGED_OUT: &str = "You are logged out.";

pub fn problem(code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::OrganizationNotFound => {
            "We could not find that Organization. Check the ID or alias your administrator gave you."
        }
        ProblemCode::InvalidOrganization => organization_input(OrganizationInputError::Malformed),
        ProblemCode::InvalidUsername => "Enter your username (at most 64 characters).",
        ProblemCode::InvalidCodeFormat => CODE_INCOMPLETE,
        ProblemCode::InvalidCredentials => {
            "That did not work. Check what you entered and try again."
        }
        ProblemCode::CodeExpired => "This code has expired. Send a new code.",
        ProblemCode::CodeRequired => "This code can no longer be used. Send a new code.",
        // Without `retry_after` only an administrator can unlock; with it, see `locked_for`.
        ProblemCode::AccountLocked => {
            "Your account is locked. Contact an administrator of your Organization to unlock it."
        }
        ProblemCode::RateLimited => "Too many attempts. Please wait a moment and try again.",
        ProblemCode::ResendCooldown => RESEND_COOLDOWN,
        ProblemCode::ReauthenticationRequired => {
            "For your security, log in again to make this change."
        }
        ProblemCode::MethodNotEnabled => "Your Organization does not allow this login method.",
        ProblemCode::Unauthenticated => "You are not logged in.",
        ProblemCode::PayloadTooLarge => "What you entered is too long.",
        ProblemCode::PasswordRejected => "Choose a password that meets every rule below.",
        ProblemCode::ServiceBusy => "The service is busy. Please try again in a moment.",
        _ => "Something went wrong on our side. Please try again in a moment.",
    }
}

/// What each password rule asks for, as the checklist under the field shows it.
pub fn password_rule(rule: member_login_api::session::PasswordRule) -> &'static str {
    use member_login_api::session::PasswordRule;
    match rule {
        PasswordRule::TooShort => "At least 12 characters",
        PasswordRule::TooLong => "At most 128 characters",
        PasswordRule::Common => "Not a common or breached password",
        PasswordRule::ContainsUsername => "Does not contain your username",
        PasswordRule::TooGuessable => {
            "Not easy to guess: no keyboard patterns, dates or common words with swapped letters"
        }
        PasswordRule::Unknown => "Meets your Organization's rules",
    }
}

/// What a refusal means for the member: its code's message, with what the problem adds (how
/// long a lock lasts).
pub fn refusal(p: &Problem) -> Cow<'static, str> {
    match (p.code, p.retry_after) {
        (ProblemCode::AccountLocked, Some(seconds)) => locked_for(seconds).into(),
        (code, _) => problem(code).into(),
    }
}

pub fn client_error(error: &ClientError) -> Cow<'static, str> {
    match error {
        ClientError::Problem(p) => refusal(p),
        ClientError::Network => {
            "We could not reach the server. Check your connection and try again.".into()
        }
        ClientError::Timeout => "The server is taking too long to answer. Please try again.".into(),
        ClientError::Cancelled | ClientError::Unexpected(_) => {
            "Something went wrong on our side. Please try again in a moment.".into()
        }
    }
}

/// A lock after failed logins that ends by itself in `seconds`. Said as a sentence, not a
/// countdown: it lasts 15 minutes or more.
pub fn locked_for(seconds: u64) -> String {
    format!(
        "Your account is locked for now after too many failed logins. Try again in {}.",
        lock_time(seconds)
    )
}

/// "15 minutes", "2 hours": rounded up, so the member never comes back too early; whole hours
/// from an hour on.
fn lock_time(seconds: u64) -> String {
    let (n, unit) = match seconds.div_ceil(60).max(1) {
        minutes if minutes < 60 => (minutes, "minute"),
        _ => (seconds.div_ceil(3600), "hour"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A sensitive change refused because the login is too old: what to do, per screen.
pub const LOG_IN_AGAIN_PASSWORD: &str = "For your security, log in again to change your password.";
pub const LOG_IN_AGAIN_MFA: &str = "For your security, log in again to enable MFA.";

/// After a wrong code: how many tries remain.
pub fn attempts_left(left: u8) -> String {
    match left {
        0 => "That code is not right, and it cannot be tried again. Send a new code.".into(),
        1 => "That code is not right. You can try 1 more time.".into(),
        n => format!("That code is not right. You can try {n} more times."),
    }
}

pub const TOO_MANY_ATTEMPTS: &str =
    "Too many attempts. Please wait a moment; you can try again when the countdown ends.";
pub const SERVICE_BUSY_WAIT: &str =
    "The service is busy right now. You can try again when the countdown ends.";

/// Why an action is counting down: too many requests, or a busy server.
pub fn wait_reason(code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::ServiceBusy => SERVICE_BUSY_WAIT,
        ProblemCode::ResendCooldown => RESEND_COOLDOWN,
        _ => TOO_MANY_ATTEMPTS,
    }
}

pub fn wait(seconds_text: &str) -> String {
    format!("You can try again in {seconds_text}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked(retry_after: Option<u64>) -> Problem {
        let mut p = Problem::new(ProblemCode::AccountLocked, "t");
        p.retry_after = retry_after;
        p
    }

    #[test]
    fn the_example_organization_id_is_one_no_organization_can_have() {
        let text = organization_input(OrganizationInputError::Malformed);
        let example = text
            .split_whitespace()
            .nth(5)
            .unwrap()
            .trim_end_matches(',');
        // Well formed, so it shows the shape to type; version 1, so never one of the version-4
        // IDs the server gives Organizations; and not the demo Organization's.
        assert!(member_login_api::OrganizationKey::parse(example).is_ok());
        assert_eq!(example.as_bytes()[14], b'1', "{example}");
        assert_ne!(example, "0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30");
    }

    #[test]
    fn a_lock_that_ends_by_itself_says_when_and_only_a_permanent_one_names_an_administrator() {
        assert_eq!(
            refusal(&locked(Some(900))),
            "Your account is locked for now after too many failed logins. Try again in 15 minutes."
        );
        assert_eq!(
            refusal(&locked(None)),
            "Your account is locked. Contact an administrator of your Organization to unlock it."
        );
        assert!(!refusal(&locked(Some(900))).contains("administrator"));
        let err = ClientError::Problem(Box::new(locked(Some(1800))));
        assert!(client_error(&err).ends_with("Try again in 30 minutes."));
        let err = ClientError::Problem(Box::new(locked(None)));
        assert!(client_error(&err).contains("Contact an administrator"));
    }

    #[test]
    fn lock_times_round_up_to_minutes_then_hours() {
        for (seconds, text) in [
            (0, "1 minute"),
            (1, "1 minute"),
            (60, "1 minute"),
            (61, "2 minutes"),
            (899, "15 minutes"),
            (900, "15 minutes"),
            (901, "16 minutes"),
            (3540, "59 minutes"),
            (3541, "1 hour"),
            (3600, "1 hour"),
            (3601, "2 hours"),
            (7200, "2 hours"),
            (86400, "24 hours"),
        ] {
            assert_eq!(lock_time(seconds), text, "{seconds} s");
        }
    }

    #[test]
    fn new_codes_have_their_own_words() {
        assert_eq!(
            problem(ProblemCode::ReauthenticationRequired),
            "For your security, log in again to make this change."
        );
        let fallback = problem(ProblemCode::Internal);
        for code in [
            ProblemCode::ServiceBusy,
            ProblemCode::RateLimited,
            ProblemCode::ReauthenticationRequired,
        ] {
            assert_ne!(problem(code), fallback, "{code:?}");
        }
        assert_eq!(wait_reason(ProblemCode::ServiceBusy), SERVICE_BUSY_WAIT);
        assert_eq!(wait_reason(ProblemCode::RateLimited), TOO_MANY_ATTEMPTS);
    }

    #[test]
    fn a_cooldown_and_a_code_already_sent_are_no_rate_limit_and_reveal_no_username() {
        assert_eq!(wait_reason(ProblemCode::ResendCooldown), RESEND_COOLDOWN);
        assert_eq!(problem(ProblemCode::ResendCooldown), RESEND_COOLDOWN);
        assert!(!RESEND_COOLDOWN.contains("Too many"));
        assert_eq!(
            code_status(&[FlowMessage::CodeAlreadySent], false),
            CODE_ALREADY_SENT
        );
        assert_eq!(
            code_status(&[FlowMessage::CodeAlreadySent], true),
            CODE_ALREADY_SENT,
            "a resend that sent nothing does not claim a new code"
        );
        assert_eq!(code_status(&[FlowMessage::CodeSent], false), CODE_SENT);
        assert_eq!(code_status(&[FlowMessage::CodeSent], true), CODE_RESENT);
        assert_eq!(code_status(&[], false), CODE_SENT);
        for text in [CODE_SENT, CODE_ALREADY_SENT, CODE_RESENT] {
            assert!(text.starts_with("If this username is registered"), "{text}");
        }
    }
}
