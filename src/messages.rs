//! Every message the app shows for an error, in one place, keyed by what went wrong.

use member_login_api::{OrganizationInputError, ProblemCode};

use crate::api_client::ClientError;

pub fn organization_input(error: OrganizationInputError) -> &'static str {
    match error {
        OrganizationInputError::Empty => "Enter your Organization ID or alias.",
        OrganizationInputError::Malformed => {
            "Enter an Organization ID like 0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30, \
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
pub const FLOW_RESTARTED: &str =
    "Your login took too long, so we started it again. What you entered was kept.";
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
        ProblemCode::AccountLocked => {
            "Your account is locked. Contact an administrator of your Organization to unlock it."
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

pub fn client_error(error: &ClientError) -> &'static str {
    match error {
        ClientError::Problem(p) => problem(p.code),
        ClientError::Network => {
            "We could not reach the server. Check your connection and try again."
        }
        ClientError::Timeout => "The server is taking too long to answer. Please try again.",
        ClientError::Cancelled | ClientError::Unexpected(_) => {
            "Something went wrong on our side. Please try again in a moment."
        }
    }
}

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

pub fn wait(seconds_text: &str) -> String {
    format!("You can try again in {seconds_text}.")
}
