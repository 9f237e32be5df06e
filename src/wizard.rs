//! The login's transitions, with no DOM: which step a flow answer leads to, what each API
//! error means for the member, and countdown arithmetic. Tested natively.

use member_login_api::flow::{Flow, FlowState};
use member_login_api::{handoff, Organization, Problem, ProblemCode};

use crate::i18n::{fill, Key, Lang};

/// A step of the member's journey; each is a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Landing,
    Organization,
    Username,
    Method,
    EmailCode,
    Password,
    SecondFactor,
    Done,
}

impl Step {
    pub fn path(self) -> &'static str {
        match self {
            Step::Landing => "/",
            Step::Organization => "/login/organization",
            Step::Username => "/login/username",
            Step::Method => "/login/method",
            Step::EmailCode => "/login/code",
            Step::Password => "/login/password",
            Step::SecondFactor => "/login/second-factor",
            Step::Done => "/login/done",
        }
    }

    /// The step's URL. The Organization (and, past the username, the flow) are in it, so a
    /// reload, Back or Forward can always find where the member was.
    pub fn url(self, organization: &str, flow: Option<&str>) -> String {
        match (self, flow) {
            (Step::Landing | Step::Done, _) => self.path().to_owned(),
            (_, Some(flow)) if self.has_flow() => {
                format!("{}?organization={organization}&flow={flow}", self.path())
            }
            _ => format!("{}?organization={organization}", self.path()),
        }
    }

    /// Whether the step acts on a login flow (and so needs its id).
    pub fn has_flow(self) -> bool {
        matches!(
            self,
            Step::Method | Step::EmailCode | Step::Password | Step::SecondFactor
        )
    }

    /// Where a flow answer leads. `wants_password` keeps the member on the password step when
    /// the flow is still at the method choice (a wrong password does not move the flow).
    pub fn for_flow(flow: &Flow, wants_password: bool) -> Step {
        match flow.state {
            FlowState::Username => Step::Username,
            FlowState::ChooseMethod if wants_password => Step::Password,
            FlowState::ChooseMethod => Step::Method,
            FlowState::EmailCode if wants_password => Step::Password,
            FlowState::EmailCode => Step::EmailCode,
            FlowState::SecondFactor => Step::SecondFactor,
            FlowState::Complete => Step::Done,
        }
    }
}

/// The page title for the app's path: each step names itself first, so a tab, the history and
/// a screen reader say where the member is.
pub fn page_title(path: &str) -> Key {
    match path {
        "/" => |c| c.title_landing(),
        "/login/organization" => |c| c.title_organization(),
        "/login/username" => |c| c.title_username(),
        "/login/method" => |c| c.title_method(),
        "/login/code" => |c| c.title_code(),
        "/login/password" => |c| c.title_password(),
        "/login/second-factor" => |c| c.title_second_factor(),
        "/login/done" => |c| c.title_done(),
        "/account/password" => |c| c.title_update_password(),
        "/account/mfa" => |c| c.title_enable_mfa(),
        "/account/passkeys" => |c| c.title_passkeys(),
        _ => |c| c.title_not_found(),
    }
}

/// Where the member goes after logging in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The URL of "Continue to the console", if anywhere is known.
    pub target: Option<String>,
    /// A `return_to` was given but is not allowed (it is never followed).
    pub refused: bool,
}

/// The hand-off after login: back to `return_to` when it starts with one of the Organization's
/// or the runtime config's allowed prefixes (no open redirect: see
/// [`member_login_api::handoff::return_target_allowed`]), else the Organization's console URL,
/// else the runtime config's. Config entries count only in their normal form.
pub fn handoff(
    return_to: Option<&str>,
    organization: &Organization,
    config_console: Option<&str>,
    config_returns: &[String],
) -> Handoff {
    let allowed: Vec<&str> = organization
        .return_urls
        .iter()
        .chain(config_returns)
        .map(String::as_str)
        .collect();
    match return_to {
        Some(url) if handoff::return_target_allowed(url, &allowed) => Handoff {
            target: Some(url.to_owned()),
            refused: false,
        },
        other => Handoff {
            target: organization.console_url.clone().or_else(|| {
                config_console.and_then(|url| handoff::normalize_console_url(url).ok())
            }),
            refused: other.is_some(),
        },
    }
}

/// What the app does about a refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// Show this problem's message and let the member correct or retry.
    Explain(ProblemCode),
    /// A wrong code: say how many tries are left.
    WrongCode { attempts_left: u8 },
    /// Too many requests, or a busy server: disable the action and count down. (A lock after
    /// failed logins is explained instead: it lasts 15 minutes or more.)
    Wait { seconds: u64 },
    /// The flow expired: continue silently with the replacement (same Organization, username).
    Restart(Box<Flow>),
    /// The flow is gone or at another step: start the login again from the username.
    StartOver,
}

pub fn react(problem: &Problem) -> Reaction {
    match problem.code {
        // A code sent a moment ago (for another flow of the username) is a cooldown, counted
        // down like a rate limit but explained as what it is (see `messages::wait_reason`).
        ProblemCode::RateLimited | ProblemCode::ResendCooldown => Reaction::Wait {
            seconds: problem.retry_after.unwrap_or(30).max(1),
        },
        // Not a failure of what the member did, nor a lasting one: try again shortly.
        ProblemCode::ServiceBusy => Reaction::Wait {
            seconds: problem.retry_after.unwrap_or(5).max(1),
        },
        ProblemCode::FlowExpired => match &problem.replacement {
            Some(flow) => Reaction::Restart(flow.clone()),
            None => Reaction::StartOver,
        },
        ProblemCode::FlowNotFound | ProblemCode::StepNotAllowed => Reaction::StartOver,
        ProblemCode::InvalidCredentials => match problem.attempts_left {
            Some(attempts_left) => Reaction::WrongCode { attempts_left },
            None => Reaction::Explain(ProblemCode::InvalidCredentials),
        },
        code => Reaction::Explain(code),
    }
}

/// Whether a refusal is about what the member typed, which they must change (the field is
/// then marked invalid), rather than about the network, the server or time.
pub fn blames_input(code: ProblemCode) -> bool {
    matches!(
        code,
        ProblemCode::InvalidOrganization
            | ProblemCode::OrganizationNotFound
            | ProblemCode::InvalidUsername
            | ProblemCode::InvalidCodeFormat
            | ProblemCode::InvalidCredentials
            | ProblemCode::CodeExpired
            | ProblemCode::CodeRequired
            | ProblemCode::PasswordRejected
            | ProblemCode::InvalidPasskeyName
    )
}

/// Seconds left until `target` (server clock), given the server's `now` when the answer
/// arrived at `received_at` and the device's clock `device_now` (both device seconds). The
/// device's clock may be off; only its elapsed time is used.
pub fn seconds_left(target: i64, server_now: i64, received_at: f64, device_now: f64) -> i64 {
    let elapsed = (device_now - received_at).max(0.0);
    (target - server_now - elapsed.floor() as i64).max(0)
}

/// "1 min 05 s" style for a countdown of `seconds`.
pub fn countdown_text(l: Lang, seconds: i64) -> String {
    let c = l.catalogue();
    match seconds {
        s if s >= 60 => fill(
            c.countdown_minutes(),
            &[
                ("m", &(s / 60).to_string()),
                ("s", &format!("{:02}", s % 60)),
            ],
        ),
        s => fill(c.countdown_seconds(), &[("s", &s.to_string())]),
    }
}

/// "2 days left", "5 hours left", "10 minutes left" for a deadline `seconds` away.
pub fn time_left_text(l: Lang, seconds: i64) -> String {
    let c = l.catalogue();
    // Rounded to the nearest unit: a deadline just set three days ahead reads "3 days left".
    let round = |s: i64, unit: i64| ((s + unit / 2) / unit) as u64;
    match seconds {
        s if s >= 2 * 86400 => l.count(&c.time_left_days(), round(s, 86400)),
        s if s >= 2 * 3600 => l.count(&c.time_left_hours(), round(s, 3600)),
        s if s >= 60 => l.count(&c.time_left_minutes(), round(s, 60)),
        s if s > 0 => c.time_left_under_a_minute().into(),
        _ => c.time_overdue().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use member_login_api::Organization;

    fn flow(state: FlowState) -> Flow {
        Flow {
            id: "f1".into(),
            state,
            expires_at: 1800,
            now: 0,
            organization: Organization {
                id: "id".into(),
                alias: "demo".into(),
                name: "Demo".into(),
                login_methods: vec![],
                logo_url: None,
                accent_color: None,
                return_urls: vec![],
                console_url: None,
            },
            username: Some("alex".into()),
            code: None,
            messages: vec![],
            second_factors: vec![],
        }
    }

    #[test]
    fn each_flow_state_leads_to_its_step() {
        assert_eq!(
            Step::for_flow(&flow(FlowState::Username), false),
            Step::Username
        );
        assert_eq!(
            Step::for_flow(&flow(FlowState::ChooseMethod), false),
            Step::Method
        );
        assert_eq!(
            Step::for_flow(&flow(FlowState::ChooseMethod), true),
            Step::Password
        );
        assert_eq!(
            Step::for_flow(&flow(FlowState::EmailCode), false),
            Step::EmailCode
        );
        assert_eq!(
            Step::for_flow(&flow(FlowState::SecondFactor), true),
            Step::SecondFactor
        );
        assert_eq!(
            Step::for_flow(&flow(FlowState::Complete), false),
            Step::Done
        );
    }

    #[test]
    fn urls_carry_the_organization_and_the_flow_where_needed() {
        assert_eq!(
            Step::Username.url("demo", Some("f1")),
            "/login/username?organization=demo"
        );
        assert_eq!(
            Step::EmailCode.url("demo", Some("f1")),
            "/login/code?organization=demo&flow=f1"
        );
        assert_eq!(Step::Done.url("demo", Some("f1")), "/login/done");
        assert_eq!(Step::Landing.url("demo", None), "/");
    }

    fn organization(return_urls: &[&str], console_url: Option<&str>) -> Organization {
        Organization {
            return_urls: return_urls.iter().map(|u| u.to_string()).collect(),
            console_url: console_url.map(str::to_owned),
            ..flow(FlowState::Complete).organization
        }
    }

    #[test]
    fn the_hand_off_follows_only_an_allowed_return_to() {
        let org = organization(
            &["https://console.example/"],
            Some("https://console.example/home"),
        );
        let config = vec!["https://apps.example/team/".to_owned()];
        let to = |return_to: Option<&str>| handoff(return_to, &org, None, &config);
        assert_eq!(
            to(Some("https://console.example/projects/7?tab=keys")),
            Handoff {
                target: Some("https://console.example/projects/7?tab=keys".into()),
                refused: false
            }
        );
        assert_eq!(
            to(Some("https://apps.example/team/board"))
                .target
                .as_deref(),
            Some("https://apps.example/team/board")
        );
        for hostile in [
            "//evil.example",
            "https://evil.example@console.example/",
            "https://console.example@evil.example/",
            "https://console.example.evil.example/",
            "javascript:alert(1)",
            "https:\\evil.example",
            "https://apps.example/teams/",
            "/relative",
            "",
        ] {
            assert_eq!(
                to(Some(hostile)),
                Handoff {
                    target: Some("https://console.example/home".into()),
                    refused: true
                },
                "{hostile}"
            );
        }
        assert_eq!(
            to(None),
            Handoff {
                target: Some("https://console.example/home".into()),
                refused: false
            }
        );
    }

    #[test]
    fn without_an_organization_console_the_config_one_is_used_when_well_formed() {
        let org = organization(&[], None);
        assert_eq!(
            handoff(None, &org, Some("https://console.example/start"), &[]).target,
            Some("https://console.example/start".into())
        );
        assert_eq!(
            handoff(None, &org, Some("javascript:alert(1)"), &[]).target,
            None
        );
        // A config prefix not in its normal form is ignored, never loosened.
        let loose = vec!["https://console.example".to_owned()];
        assert!(
            handoff(
                Some("https://console.example.evil.example/"),
                &org,
                None,
                &loose
            )
            .refused
        );
    }

    #[test]
    fn every_step_has_its_own_title() {
        let paths = [
            "/",
            "/login/organization",
            "/login/username",
            "/login/method",
            "/login/code",
            "/login/password",
            "/login/second-factor",
            "/login/done",
            "/account/password",
            "/account/mfa",
            "/account/passkeys",
            "/nowhere",
        ];
        for c in [&crate::i18n::EN, &crate::i18n::FR] {
            let titles: std::collections::HashSet<_> =
                paths.iter().map(|p| page_title(p)(c)).collect();
            assert_eq!(titles.len(), paths.len());
            assert!(titles.iter().all(|t| t.ends_with(" · Member Login")));
        }
        assert_eq!(
            page_title("/login/code")(&crate::i18n::EN),
            "Enter the code · Member Login"
        );
    }

    #[test]
    fn problems_become_reactions() {
        let mut p = Problem::new(ProblemCode::RateLimited, "t");
        p.retry_after = Some(12);
        assert_eq!(react(&p), Reaction::Wait { seconds: 12 });
        let mut p = Problem::new(ProblemCode::InvalidCredentials, "t");
        assert_eq!(
            react(&p),
            Reaction::Explain(ProblemCode::InvalidCredentials)
        );
        p.attempts_left = Some(3);
        assert_eq!(react(&p), Reaction::WrongCode { attempts_left: 3 });
        let mut p = Problem::new(ProblemCode::FlowExpired, "t");
        assert_eq!(react(&p), Reaction::StartOver);
        p.replacement = Some(Box::new(flow(FlowState::ChooseMethod)));
        assert!(matches!(react(&p), Reaction::Restart(f) if f.id == "f1"));
        assert_eq!(
            react(&Problem::new(ProblemCode::StepNotAllowed, "t")),
            Reaction::StartOver
        );
        assert_eq!(
            react(&Problem::new(ProblemCode::AccountLocked, "t")),
            Reaction::Explain(ProblemCode::AccountLocked)
        );
        assert_eq!(
            react(&Problem::new(ProblemCode::ReauthenticationRequired, "t")),
            Reaction::Explain(ProblemCode::ReauthenticationRequired)
        );
    }

    #[test]
    fn only_refusals_of_what_was_typed_mark_the_field_invalid() {
        assert!(blames_input(ProblemCode::InvalidCredentials));
        assert!(blames_input(ProblemCode::PasswordRejected));
        assert!(blames_input(ProblemCode::CodeExpired));
        for code in [
            ProblemCode::Internal,
            ProblemCode::ServiceBusy,
            ProblemCode::RateLimited,
            ProblemCode::ResendCooldown,
            ProblemCode::AccountLocked,
            ProblemCode::ReauthenticationRequired,
            ProblemCode::Unknown,
        ] {
            assert!(!blames_input(code), "{code:?}");
        }
    }

    #[test]
    fn a_resend_cooldown_counts_down() {
        let mut p = Problem::new(ProblemCode::ResendCooldown, "t");
        p.retry_after = Some(25);
        assert_eq!(react(&p), Reaction::Wait { seconds: 25 });
        p.retry_after = None;
        assert_eq!(react(&p), Reaction::Wait { seconds: 30 });
    }

    #[test]
    fn a_timed_lock_is_explained_not_counted_down_and_a_busy_server_is_retried() {
        // A lock of 15 minutes or more is a sentence, not a button disabled for that long.
        let mut p = Problem::new(ProblemCode::AccountLocked, "t");
        p.retry_after = Some(900);
        assert_eq!(react(&p), Reaction::Explain(ProblemCode::AccountLocked));
        // A busy server is no lasting failure: wait as long as it says, then try again.
        let mut p = Problem::new(ProblemCode::ServiceBusy, "t");
        p.retry_after = Some(3);
        assert_eq!(react(&p), Reaction::Wait { seconds: 3 });
        p.retry_after = None;
        assert_eq!(react(&p), Reaction::Wait { seconds: 5 });
    }

    #[test]
    fn countdowns_use_the_server_clock_and_the_device_elapsed_time() {
        // The device clock is an hour off; only the 10 s that passed on it count.
        assert_eq!(seconds_left(1030, 1000, 5000.0, 5010.4), 20);
        assert_eq!(seconds_left(1030, 1000, 5000.0, 6000.0), 0);
        assert_eq!(
            seconds_left(1030, 1000, 5000.0, 4990.0),
            30,
            "clock went back"
        );
        assert_eq!(countdown_text(Lang::En, 30), "30 s");
        assert_eq!(countdown_text(Lang::En, 65), "1 min 05 s");
        assert_eq!(countdown_text(Lang::Fr, 65), "1\u{a0}min\u{a0}05\u{a0}s");
    }

    #[test]
    fn time_left_reads_like_the_checklist() {
        let en = |s| time_left_text(Lang::En, s);
        assert_eq!(en(2 * 86400 + 5), "2 days left");
        assert_eq!(en(3 * 86400 - 5), "3 days left");
        assert_eq!(en(5 * 3600 + 10), "5 hours left");
        assert_eq!(en(3600 + 10), "60 minutes left");
        assert_eq!(en(61), "1 minute left");
        assert_eq!(en(10), "less than a minute left");
        assert_eq!(en(0), "overdue");
        let fr = |s| time_left_text(Lang::Fr, s);
        assert_eq!(fr(3 * 86400 - 5), "3 jours restants");
        assert_eq!(fr(61), "1 minute restante");
    }
}
