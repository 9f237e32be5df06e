//! A login flow and its steps, as plain functions of the flow, the input and `now`: no
//! database, no clock, no HTTP. The handlers in `login/mod.rs` load a flow, call one of these,
//! save it, and answer.

pub use member_login_api::flow::FlowState;
use member_login_api::flow::{CodeStatus, Flow as ApiFlow, FlowMessage};
use member_login_api::{ProblemCode, CODE_LENGTH};

use crate::error::{Error, Result};
use crate::mail_text::Language;
use crate::model::{MemberRecord, OrganizationRecord};
use crate::requirements;
use crate::secrets::same;

/// A flow lives this long from its creation.
pub const FLOW_SECONDS: i64 = 30 * 60;
/// A code is valid this long from its sending.
pub const CODE_SECONDS: i64 = 10 * 60;
/// Wrong tries allowed per code.
pub const CODE_TRIES: i64 = 5;
/// Codes sent more than this long after the previous one start the cooldown afresh.
pub const CODE_RUN_SECONDS: i64 = 3600;

/// Seconds to wait before the next code, after `sent` codes: 30 s, doubling each time, at most
/// 15 minutes.
pub fn resend_cooldown(sent: i64) -> i64 {
    (30_i64 << (sent - 1).clamp(0, 5)).min(15 * 60)
}

/// A username as the server keeps and compares it: Unicode NFKC (so a full-width or
/// ligature spelling is the same name as the plain one), trimmed, 1 to 64 characters, with no
/// control or invisible format characters (see `normalize_username`).
pub fn canonical_username(input: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let composed: String = input.nfkc().collect();
    member_login_api::flow::normalize_username(&composed)
}

/// The form in which usernames are compared: two usernames are the same member's when their
/// keys are equal. Case does not matter ("Sam" is "sam"); the username keeps its case for
/// display.
pub fn username_key(username: &str) -> String {
    username.to_lowercase()
}

/// What stops `member` at a correct credential, whichever it was: a lock, or a grace period
/// run out with a requirement unmet (told only now, after the credential).
fn refused_member(org: &OrganizationRecord, member: &MemberRecord, now: i64) -> Option<Outcome> {
    if member.locked_at(now) {
        Some(Outcome::Locked)
    } else if requirements::overdue(org, member, now) {
        Some(Outcome::Overdue)
    } else {
        None
    }
}

/// The name a state is stored under.
pub fn state_name(state: FlowState) -> &'static str {
    match state {
        FlowState::Username => "username",
        FlowState::ChooseMethod => "choose_method",
        FlowState::EmailCode => "email_code",
        FlowState::SecondFactor => "second_factor",
        FlowState::Complete => "complete",
    }
}

/// The state stored under `name`; any other text is an error, never a guess.
pub fn parse_state(name: &str) -> Result<FlowState> {
    Ok(match name {
        "username" => FlowState::Username,
        "choose_method" => FlowState::ChooseMethod,
        "email_code" => FlowState::EmailCode,
        "second_factor" => FlowState::SecondFactor,
        "complete" => FlowState::Complete,
        other => {
            return Err(Error::Corrupt {
                what: "flow state",
                value: other.into(),
            })
        }
    })
}

/// The code emailed for a flow, while it can still be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    /// SHA-256 of the flow ID and the code.
    pub hash: String,
    pub expires_at: i64,
    pub attempts_left: i64,
}

/// One login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id: String,
    pub organization_id: String,
    pub state: FlowState,
    /// As typed, in its compared form (NFKC, lower case: see `username_key`), whether or not
    /// a member has it.
    pub username: Option<String>,
    /// The member with that username, if there is one.
    pub member_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub code: Option<PendingCode>,
    pub codes_sent: i64,
    pub resend_available_at: Option<i64>,
    /// Changes with every save: a save of an older read fails (see `store::Flows::save_flow`).
    pub version: i64,
    /// Once expired: the flow that carries on in its place.
    pub replaced_by: Option<String>,
    /// The language the member is using: the flow's emails, and those of the session it
    /// opens, are written in it.
    pub language: Language,
    /// The passkey challenge asked for last (the WebAuthn ceremony's state, as JSON; see
    /// `login/passkey.rs`): taken out by the answer, right or wrong, so it is used once.
    pub passkey_challenge: Option<String>,
}

/// What checking a submitted code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right, for a member: the code is used up.
    Right,
    /// Wrong (or for no member): one try used, this many left (the code is gone at 0).
    Wrong { attempts_left: i64 },
    /// Too late: the code is gone.
    Expired,
}

/// Where a correct credential leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Locked, by an administrator or failed logins: the member is told, nothing else.
    Locked,
    /// The grace period for the Organization's requirements ran out: the member is locked now.
    Overdue,
    /// A first factor of a member with MFA: the second is asked for.
    SecondFactor,
    /// Logged in.
    LoggedIn,
}

impl Flow {
    /// A new flow for the Organization, at the username step or, with a username, at the
    /// method step.
    pub fn start(
        id: String,
        organization_id: String,
        username: Option<String>,
        member_id: Option<String>,
        language: Language,
        now: i64,
    ) -> Self {
        Self {
            id,
            organization_id,
            state: if username.is_some() {
                FlowState::ChooseMethod
            } else {
                FlowState::Username
            },
            username,
            member_id,
            created_at: now,
            expires_at: now + FLOW_SECONDS,
            code: None,
            codes_sent: 0,
            resend_available_at: None,
            version: 0,
            replaced_by: None,
            language,
            passkey_challenge: None,
        }
    }

    /// Expired flows are replaced; a completed one stays readable.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at <= now && self.state != FlowState::Complete
    }

    /// Refuses a call the flow is not at the step for.
    pub fn require(&self, allowed: &[FlowState]) -> Result<()> {
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            Err(Error::step_not_allowed())
        }
    }

    /// The username step (also a change of username from the later steps): any code sent for
    /// the old username is forgotten.
    pub fn submit_username(&mut self, username: String, member_id: Option<String>) -> Result<()> {
        self.require(&[
            FlowState::Username,
            FlowState::ChooseMethod,
            FlowState::EmailCode,
        ])?;
        if self.username.as_ref() == Some(&username) && self.state == FlowState::EmailCode {
            // "Change" to the same username: the code on its way stays good.
            return Ok(());
        }
        self.username = Some(username);
        self.member_id = member_id;
        self.state = FlowState::ChooseMethod;
        self.code = None;
        Ok(())
    }

    /// Whether a code sent for this flow can still be used and no new one may be sent yet:
    /// asking again then answers with that code's status, not a refusal.
    pub fn code_on_its_way(&self, now: i64) -> bool {
        self.state == FlowState::EmailCode
            && self.code.as_ref().is_some_and(|c| c.expires_at > now)
            && self.resend_available_at.is_some_and(|at| at > now)
    }

    /// A code was sent, the `sent`th of the current run; the next may be sent at `next_at`.
    pub fn code_sent(&mut self, hash: String, sent: i64, next_at: i64, now: i64) -> Result<()> {
        self.require(&[FlowState::ChooseMethod, FlowState::EmailCode])?;
        self.code = Some(PendingCode {
            hash,
            expires_at: now + CODE_SECONDS,
            attempts_left: CODE_TRIES,
        });
        self.codes_sent = sent;
        self.resend_available_at = Some(next_at);
        self.state = FlowState::EmailCode;
        Ok(())
    }

    /// Checks a submitted code, given as its hash. `for_member`: whether the flow's username
    /// is a member's (for an unknown one, every code is wrong, after the same work).
    pub fn check_code(&mut self, submitted: &str, for_member: bool, now: i64) -> Result<CodeCheck> {
        self.require(&[FlowState::EmailCode])?;
        let Some(code) = &mut self.code else {
            return Err(Error::new(
                ProblemCode::CodeRequired,
                "Send a new code first",
            ));
        };
        if code.expires_at <= now {
            self.code = None;
            return Ok(CodeCheck::Expired);
        }
        if same(submitted, &code.hash) && for_member {
            self.code = None;
            return Ok(CodeCheck::Right);
        }
        code.attempts_left -= 1;
        let attempts_left = code.attempts_left.max(0);
        if attempts_left == 0 {
            self.code = None;
        }
        Ok(CodeCheck::Wrong { attempts_left })
    }

    /// A correct credential of `member`: where it leads, with the flow moved on accordingly.
    pub fn credential_accepted(
        &mut self,
        org: &OrganizationRecord,
        member: &MemberRecord,
        now: i64,
    ) -> Outcome {
        if let Some(refused) = refused_member(org, member, now) {
            return refused;
        }
        if requirements::has_second_factor(org, member) && self.state != FlowState::SecondFactor {
            self.state = FlowState::SecondFactor;
            self.passkey_challenge = None;
            return Outcome::SecondFactor;
        }
        self.state = FlowState::Complete;
        self.passkey_challenge = None;
        Outcome::LoggedIn
    }

    /// A correct passkey of `member`: a whole login (it needs no second factor), for the
    /// member whose passkey it is, whatever username the flow had.
    pub fn passkey_accepted(
        &mut self,
        org: &OrganizationRecord,
        member: &MemberRecord,
        now: i64,
    ) -> Outcome {
        if let Some(refused) = refused_member(org, member, now) {
            return refused;
        }
        self.username = Some(username_key(&member.username));
        self.member_id = Some(member.id.clone());
        self.code = None;
        self.passkey_challenge = None;
        self.state = FlowState::Complete;
        Outcome::LoggedIn
    }

    /// The flow as the API answers it.
    pub fn to_api(
        &self,
        org: &OrganizationRecord,
        messages: Vec<FlowMessage>,
        now: i64,
    ) -> ApiFlow {
        let code = match &self.code {
            Some(code) => Some(CodeStatus {
                length: CODE_LENGTH as u8,
                expires_at: code.expires_at,
                attempts_left: code.attempts_left.clamp(0, 255) as u8,
                resend_available_at: self.resend_available_at.unwrap_or_default(),
            }),
            // Tries used up or expired: only when a new code may be sent matters now.
            None => self.resend_available_at.map(|at| CodeStatus {
                length: CODE_LENGTH as u8,
                expires_at: 0,
                attempts_left: 0,
                resend_available_at: at,
            }),
        };
        ApiFlow {
            id: self.id.clone(),
            state: self.state,
            expires_at: self.expires_at,
            now,
            organization: org.public.clone(),
            username: self.username.clone(),
            code,
            messages,
            second_factors: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::{member, organization};
    use crate::secrets::digest;

    const NOW: i64 = 1_800_000_000;

    fn flow_at_code() -> Flow {
        let mut flow = Flow::start(
            "f".into(),
            "o".into(),
            Some("kim".into()),
            Some("m".into()),
            Language::En,
            NOW,
        );
        flow.code_sent(digest(&["f", "123456"]), 1, NOW + 30, NOW)
            .unwrap();
        flow
    }

    #[test]
    fn usernames_are_compared_in_their_compatibility_form() {
        assert_eq!(canonical_username("  ａｌｅｘ ").as_deref(), Some("alex"));
        assert_eq!(canonical_username("ﬁona").as_deref(), Some("fiona"));
        assert_eq!(canonical_username("al\u{200B}ex"), None);
        assert_eq!(canonical_username("ad\u{202E}nim"), None);
        assert_eq!(username_key("Sam"), username_key("sam"));
        assert_eq!(username_key("ÉLODIE"), "élodie");
        assert_eq!(canonical_username(""), None);
    }

    #[test]
    fn resend_cooldown_starts_at_thirty_seconds_and_grows_to_a_cap() {
        let waits: Vec<i64> = (1..=8).map(resend_cooldown).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn states_round_trip_and_an_unknown_state_is_an_error() {
        for s in [
            FlowState::Username,
            FlowState::ChooseMethod,
            FlowState::EmailCode,
            FlowState::SecondFactor,
            FlowState::Complete,
        ] {
            assert_eq!(parse_state(state_name(s)).unwrap(), s);
        }
        assert!(matches!(parse_state("done"), Err(Error::Corrupt { .. })));
        assert!(matches!(parse_state(""), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn a_flow_starts_at_the_step_its_input_allows_and_expires_unless_complete() {
        let bare = Flow::start("f".into(), "o".into(), None, None, Language::En, NOW);
        assert_eq!(bare.state, FlowState::Username);
        assert!(!bare.is_expired(NOW + FLOW_SECONDS - 1));
        assert!(bare.is_expired(NOW + FLOW_SECONDS));
        let mut done = flow_at_code();
        done.state = FlowState::Complete;
        assert!(!done.is_expired(NOW + 10 * FLOW_SECONDS));
    }

    #[test]
    fn wrong_codes_use_tries_until_the_code_is_gone() {
        let mut flow = flow_at_code();
        let wrong = digest(&["f", "000000"]);
        for left in (0..CODE_TRIES).rev() {
            assert_eq!(
                flow.check_code(&wrong, true, NOW).unwrap(),
                CodeCheck::Wrong {
                    attempts_left: left
                }
            );
        }
        assert!(flow.code.is_none());
        let err = flow.check_code(&wrong, true, NOW).unwrap_err();
        assert_eq!(err.code(), Some(ProblemCode::CodeRequired));
    }

    #[test]
    fn the_right_code_is_used_once_and_only_for_a_member_and_only_in_time() {
        let right = digest(&["f", "123456"]);
        let mut flow = flow_at_code();
        assert_eq!(
            flow.check_code(&right, true, NOW).unwrap(),
            CodeCheck::Right
        );
        assert!(flow.code.is_none());

        let mut unknown = flow_at_code();
        assert_eq!(
            unknown.check_code(&right, false, NOW).unwrap(),
            CodeCheck::Wrong { attempts_left: 4 }
        );

        let mut late = flow_at_code();
        assert_eq!(
            late.check_code(&right, true, NOW + CODE_SECONDS).unwrap(),
            CodeCheck::Expired
        );
        assert!(late.code.is_none());
    }

    #[test]
    fn steps_are_refused_out_of_order() {
        let mut flow = Flow::start("f".into(), "o".into(), None, None, Language::En, NOW);
        let err = flow.check_code("x", true, NOW).unwrap_err();
        assert_eq!(err.code(), Some(ProblemCode::StepNotAllowed));
        assert!(flow.code_sent("h".into(), 1, NOW, NOW).is_err());
        flow.submit_username("kim".into(), None).unwrap();
        assert_eq!(flow.state, FlowState::ChooseMethod);
    }

    #[test]
    fn a_changed_username_forgets_the_code_and_the_same_one_keeps_it() {
        let mut same = flow_at_code();
        same.submit_username("kim".into(), Some("m".into()))
            .unwrap();
        assert_eq!(same, flow_at_code());
        assert!(same.code_on_its_way(NOW + 29));
        assert!(!same.code_on_its_way(NOW + 30), "resend allowed from then");
        let mut flow = flow_at_code();
        flow.submit_username("sam".into(), None).unwrap();
        assert_eq!(flow.code, None);
        assert_eq!(flow.state, FlowState::ChooseMethod);
        assert!(!flow.code_on_its_way(NOW));
    }

    #[test]
    fn a_correct_credential_leads_by_the_member_and_the_organization() {
        let org = organization();
        let mut flow = flow_at_code();
        assert_eq!(
            flow.credential_accepted(&org, &member(), NOW),
            Outcome::LoggedIn
        );
        assert_eq!(flow.state, FlowState::Complete);

        let mut with_mfa = member();
        with_mfa.totp_secret = Some("ABC".into());
        let mut flow = flow_at_code();
        assert_eq!(
            flow.credential_accepted(&org, &with_mfa, NOW),
            Outcome::SecondFactor
        );
        assert_eq!(
            flow.credential_accepted(&org, &with_mfa, NOW),
            Outcome::LoggedIn
        );

        let mut locked = member();
        locked.locked = true;
        let mut flow = flow_at_code();
        assert_eq!(
            flow.credential_accepted(&org, &locked, NOW),
            Outcome::Locked
        );
        assert_eq!(flow.state, FlowState::EmailCode, "a refusal keeps the step");

        let mut strict = organization();
        strict.enforce_mfa = true;
        let mut late = member();
        late.mfa_required_since = Some(NOW - strict.grace_period_seconds);
        assert_eq!(
            flow_at_code().credential_accepted(&strict, &late, NOW),
            Outcome::Overdue
        );
    }
}
