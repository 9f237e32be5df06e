//! Every message the app shows for an error or a state, in one place, keyed by what went wrong
//! and worded by the catalogue of the language in use (`i18n`).
//!
//! A message is kept as a [`Said`]: what to say, asked for in the language of the moment, so
//! an error line already shown follows a language switch.

use std::borrow::Cow;
use std::sync::Arc;

use member_login_api::flow::FlowMessage;
use member_login_api::{OrganizationInputError, Problem, ProblemCode};

use crate::api_client::ClientError;
use crate::i18n::{fill, Catalogue, Key, Lang};
use crate::passkey::PasskeyError;
use crate::wizard::{countdown_text, Step};

/// A message to show, worded when shown, in the language in use then.
pub type Said = Arc<dyn Fn(Lang) -> String + Send + Sync>;

/// The message of one catalogue key.
pub fn key(key: Key) -> Said {
    Arc::new(move |l| key(l.catalogue()).to_owned())
}

/// The message for a failed call.
pub fn of_error(error: ClientError) -> Said {
    Arc::new(move |l| client_error(l, &error).into_owned())
}

/// The message for an API refusal.
pub fn of_problem(problem: Problem) -> Said {
    Arc::new(move |l| refusal(l, &problem).into_owned())
}

/// Why the browser gave no passkey for a login, always with what remains: another try,
/// another way to log in.
pub fn passkey_login(error: PasskeyError) -> Key {
    match error {
        PasskeyError::Unsupported => |c| c.passkey_unsupported(),
        PasskeyError::NotAllowed => |c| c.passkey_not_allowed(),
        _ => |c| c.passkey_failed(),
    }
}

/// Why the browser made no passkey to add (the account page's words, kept apart from the login
/// page's so that neither page carries the other's).
pub fn passkey_adding(error: PasskeyError) -> Key {
    match error {
        PasskeyError::Unsupported => |c| c.passkey_unsupported_adding(),
        PasskeyError::NotAllowed => |c| c.passkey_not_allowed_adding(),
        PasskeyError::AlreadyAdded => |c| c.passkey_already_added(),
        _ => |c| c.passkey_failed_adding(),
    }
}

pub fn organization_input(error: OrganizationInputError) -> Key {
    match error {
        OrganizationInputError::Empty => |c| c.organization_empty(),
        OrganizationInputError::Malformed => |c| c.organization_malformed(),
    }
}

/// The code step's status line: a code sent, resent (`resent`), or already on its way. Each
/// says no more than "if this username is registered" about whether the username exists.
pub fn code_status(flow_messages: &[FlowMessage], resent: bool) -> Key {
    if flow_messages.contains(&FlowMessage::CodeAlreadySent) {
        |c| c.code_already_sent()
    } else if resent {
        |c| c.code_resent()
    } else {
        |c| c.code_sent()
    }
}

/// What the member is told when their login expired at step `here` and started again: a code
/// or a second factor from before cannot be carried over.
pub fn flow_restarted(here: Step) -> Key {
    match here {
        Step::EmailCode => |c| c.flow_restarted_new_code(),
        Step::SecondFactor => |c| c.flow_restarted_log_in_again(),
        _ => |c| c.flow_restarted(),
    }
}

pub fn problem(c: &Catalogue, code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::OrganizationNotFound => c.problem_organization_not_found(),
        ProblemCode::InvalidOrganization => c.organization_malformed(),
        ProblemCode::InvalidUsername => c.problem_invalid_username(),
        ProblemCode::InvalidCodeFormat => c.code_incomplete(),
        ProblemCode::InvalidCredentials => c.problem_invalid_credentials(),
        ProblemCode::CodeExpired => c.problem_code_expired(),
        ProblemCode::CodeRequired => c.problem_code_required(),
        // Without `retry_after` only an administrator can unlock; with it, see `locked_for`.
        ProblemCode::AccountLocked => c.problem_account_locked(),
        ProblemCode::RateLimited => c.problem_rate_limited(),
        ProblemCode::ResendCooldown => c.problem_resend_cooldown(),
        ProblemCode::ReauthenticationRequired => c.problem_reauthentication_required(),
        ProblemCode::MethodNotEnabled => c.problem_method_not_enabled(),
        ProblemCode::Unauthenticated => c.problem_unauthenticated(),
        ProblemCode::PayloadTooLarge => c.problem_payload_too_large(),
        ProblemCode::PasswordRejected => c.problem_password_rejected(),
        ProblemCode::ServiceBusy => c.problem_service_busy(),
        ProblemCode::PasskeyNotRecognized => c.problem_passkey_not_recognized(),
        ProblemCode::PasskeyOfAnotherOrganization => c.problem_passkey_of_another_organization(),
        ProblemCode::PasskeyRefused => c.problem_passkey_refused(),
        ProblemCode::InvalidPasskeyName => c.problem_invalid_passkey_name(),
        ProblemCode::TooManyPasskeys => c.problem_too_many_passkeys(),
        _ => c.problem_internal(),
    }
}

/// What each password rule asks for, as the checklist under the field shows it.
pub fn password_rule(c: &Catalogue, rule: member_login_api::session::PasswordRule) -> &'static str {
    use member_login_api::session::PasswordRule;
    match rule {
        PasswordRule::TooShort => c.rule_too_short(),
        PasswordRule::TooLong => c.rule_too_long(),
        PasswordRule::Common => c.rule_common(),
        PasswordRule::ContainsUsername => c.rule_contains_username(),
        PasswordRule::TooGuessable => c.rule_too_guessable(),
        PasswordRule::Unknown => c.rule_unknown(),
    }
}

/// What a refusal means for the member: its code's message, with what the problem adds (how
/// long a lock lasts).
pub fn refusal(l: Lang, p: &Problem) -> Cow<'static, str> {
    match (p.code, p.retry_after) {
        (ProblemCode::AccountLocked, Some(seconds)) => locked_for(l, seconds).into(),
        (code, _) => problem(l.catalogue(), code).into(),
    }
}

pub fn client_error(l: Lang, error: &ClientError) -> Cow<'static, str> {
    let c = l.catalogue();
    match error {
        ClientError::Problem(p) => refusal(l, p),
        ClientError::Network => c.network_error().into(),
        ClientError::Timeout => c.timeout_error().into(),
        ClientError::Cancelled | ClientError::Unexpected(_) => c.problem_internal().into(),
    }
}

/// A lock after failed logins that ends by itself in `seconds`. Said as a sentence, not a
/// countdown: it lasts 15 minutes or more.
pub fn locked_for(l: Lang, seconds: u64) -> String {
    fill(
        l.catalogue().locked_for(),
        &[("time", &lock_time(l, seconds))],
    )
}

/// "15 minutes", "2 hours": rounded up, so the member never comes back too early; whole hours
/// from an hour on.
fn lock_time(l: Lang, seconds: u64) -> String {
    let c = l.catalogue();
    match seconds.div_ceil(60).max(1) {
        minutes if minutes < 60 => l.count(&c.lock_minutes(), minutes),
        _ => l.count(&c.lock_hours(), seconds.div_ceil(3600)),
    }
}

/// After a wrong code: how many tries remain.
pub fn attempts_left(l: Lang, left: u8) -> String {
    let c = l.catalogue();
    match left {
        0 => c.code_no_tries_left().into(),
        n => l.count(&c.code_wrong(), n.into()),
    }
}

/// Why an action is counting down: too many requests, or a busy server.
pub fn wait_reason(c: &Catalogue, code: ProblemCode) -> &'static str {
    match code {
        ProblemCode::ServiceBusy => c.service_busy_wait(),
        ProblemCode::ResendCooldown => c.problem_resend_cooldown(),
        _ => c.too_many_attempts_wait(),
    }
}

/// "You can try again in 30 s."
pub fn wait(l: Lang, seconds: i64) -> String {
    fill(
        l.catalogue().wait(),
        &[("time", &countdown_text(l, seconds))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, FR};

    fn locked(retry_after: Option<u64>) -> Problem {
        let mut p = Problem::new(ProblemCode::AccountLocked, "t");
        p.retry_after = retry_after;
        p
    }

    #[test]
    fn the_example_organization_id_is_one_no_organization_can_have() {
        for c in [&EN, &FR] {
            let text = organization_input(OrganizationInputError::Malformed)(c);
            let example = text
                .split_whitespace()
                .find(|w| w.len() > 30)
                .unwrap()
                .trim_end_matches(',');
            // Well formed, so it shows the shape to type; version 1, so never one of the
            // version-4 IDs the server gives Organizations; and not the demo Organization's.
            assert!(member_login_api::OrganizationKey::parse(example).is_ok());
            assert_eq!(example.as_bytes()[14], b'1', "{example}");
            assert_ne!(example, "0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30");
        }
    }

    #[test]
    fn a_lock_that_ends_by_itself_says_when_and_only_a_permanent_one_names_an_administrator() {
        assert_eq!(
            refusal(Lang::En, &locked(Some(900))),
            "Your account is locked for now after too many failed logins. Try again in 15 minutes."
        );
        assert_eq!(
            refusal(Lang::En, &locked(None)),
            "Your account is locked. Contact an administrator of your Organization to unlock it."
        );
        assert!(!refusal(Lang::En, &locked(Some(900))).contains("administrator"));
        let err = ClientError::Problem(Box::new(locked(Some(1800))));
        assert!(client_error(Lang::En, &err).ends_with("Try again in 30 minutes."));
        assert!(client_error(Lang::Fr, &err).ends_with("Réessayez dans 30 minutes."));
        let err = ClientError::Problem(Box::new(locked(None)));
        assert!(client_error(Lang::En, &err).contains("Contact an administrator"));
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
            assert_eq!(lock_time(Lang::En, seconds), text, "{seconds} s");
        }
        assert_eq!(lock_time(Lang::Fr, 3600), "1 heure");
        assert_eq!(lock_time(Lang::Fr, 7200), "2 heures");
    }

    #[test]
    fn new_codes_have_their_own_words() {
        assert_eq!(
            problem(&EN, ProblemCode::ReauthenticationRequired),
            "For your security, log in again to make this change."
        );
        for c in [&EN, &FR] {
            let fallback = problem(c, ProblemCode::Internal);
            for code in [
                ProblemCode::ServiceBusy,
                ProblemCode::RateLimited,
                ProblemCode::ReauthenticationRequired,
                ProblemCode::PasskeyNotRecognized,
                ProblemCode::PasskeyOfAnotherOrganization,
                ProblemCode::PasskeyRefused,
                ProblemCode::InvalidPasskeyName,
                ProblemCode::TooManyPasskeys,
            ] {
                assert_ne!(problem(c, code), fallback, "{code:?}");
            }
            // The limit the words name is the one the server keeps.
            let most = member_login_api::passkey::MAX_PASSKEYS.to_string();
            assert!(problem(c, ProblemCode::TooManyPasskeys).contains(&most));
            assert_eq!(
                wait_reason(c, ProblemCode::ServiceBusy),
                c.service_busy_wait()
            );
            assert_eq!(
                wait_reason(c, ProblemCode::RateLimited),
                c.too_many_attempts_wait()
            );
        }
    }

    #[test]
    fn every_passkey_refusal_has_its_own_words_and_a_login_one_leaves_another_way() {
        use PasskeyError::*;
        for c in [&EN, &FR] {
            let login: Vec<_> = [Unsupported, NotAllowed, Failed]
                .into_iter()
                .map(|e| passkey_login(e)(c))
                .collect();
            let adding: Vec<_> = [Unsupported, NotAllowed, Failed, AlreadyAdded]
                .into_iter()
                .map(|e| passkey_adding(e)(c))
                .collect();
            let all: std::collections::HashSet<_> = login.iter().chain(&adding).collect();
            assert_eq!(all.len(), login.len() + adding.len());
            let another_way = if c == &EN { "another way" } else { "autrement" };
            for text in &login {
                assert!(text.contains(another_way), "{text}");
            }
        }
        // Cancelled and "no passkey on this device" are one error to the app: both are said.
        let text = passkey_login(NotAllowed)(&EN);
        assert!(
            text.contains("cancelled") && text.contains("no passkey"),
            "{text}"
        );
    }

    #[test]
    fn a_cooldown_and_a_code_already_sent_are_no_rate_limit_and_reveal_no_username() {
        let c = &EN;
        assert_eq!(
            wait_reason(c, ProblemCode::ResendCooldown),
            c.problem_resend_cooldown()
        );
        assert_eq!(
            problem(c, ProblemCode::ResendCooldown),
            c.problem_resend_cooldown()
        );
        assert!(!c.problem_resend_cooldown().contains("Too many"));
        let status = |messages: &[FlowMessage], resent| code_status(messages, resent)(c);
        assert_eq!(
            status(&[FlowMessage::CodeAlreadySent], false),
            c.code_already_sent()
        );
        assert_eq!(
            status(&[FlowMessage::CodeAlreadySent], true),
            c.code_already_sent(),
            "a resend that sent nothing does not claim a new code"
        );
        assert_eq!(status(&[FlowMessage::CodeSent], false), c.code_sent());
        assert_eq!(status(&[FlowMessage::CodeSent], true), c.code_resent());
        assert_eq!(status(&[], false), c.code_sent());
        for text in [c.code_sent(), c.code_already_sent(), c.code_resent()] {
            assert!(text.starts_with("If this username is registered"), "{text}");
        }
        for text in [FR.code_sent(), FR.code_already_sent(), FR.code_resent()] {
            assert!(
                text.starts_with("Si ce nom d'utilisateur est enregistré"),
                "{text}"
            );
        }
    }

    #[test]
    fn tries_left_are_counted_in_each_language() {
        assert_eq!(
            attempts_left(Lang::En, 1),
            "That code is not right. You can try 1 more time."
        );
        assert_eq!(
            attempts_left(Lang::En, 4),
            "That code is not right. You can try 4 more times."
        );
        assert_eq!(
            attempts_left(Lang::Fr, 1),
            "Ce code n'est pas le bon. Il vous reste 1 essai."
        );
        assert_eq!(attempts_left(Lang::Fr, 0), FR.code_no_tries_left());
        assert_eq!(wait(Lang::Fr, 30), "Vous pourrez réessayer dans 30\u{a0}s.");
    }
}
