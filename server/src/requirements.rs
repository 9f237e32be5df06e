//! The security requirements an Organization enforces after a member's first login, and the
//! grace period to meet each: it starts for a member when the requirement first applies to them
//! (their first login, or their first login or call after the Organization turned it on; never
//! in the past). Once it is over, the member is locked at the next login or call.

use member_login_api::session::{Requirement, RequirementKind};
use member_login_api::LoginMethod;

use crate::model::{MemberRecord, OrganizationRecord};

/// Whether the member has a second factor the Organization accepts: an authenticator app, or
/// a passkey where the Organization enables passkeys. It meets the MFA requirement, and a
/// login with a password or an email code then asks for it.
pub fn has_second_factor(org: &OrganizationRecord, member: &MemberRecord) -> bool {
    member.totp_secret.is_some()
        || (member.passkeys > 0 && org.public.login_methods.contains(&LoginMethod::Passkey))
}

/// What the member still has to do, each with its deadline. `now` stands in for the start of
/// a grace period that has not started yet (it starts with this login or call).
pub fn pending(org: &OrganizationRecord, member: &MemberRecord, now: i64) -> Vec<Requirement> {
    let deadline = |since: Option<i64>| since.unwrap_or(now) + org.grace_period_seconds;
    let mut pending = Vec::new();
    if org.enforce_password_renewal && member.password_changed_at.is_none() {
        pending.push(Requirement {
            kind: RequirementKind::UpdatePassword,
            deadline: deadline(member.password_renewal_required_since),
        });
    }
    if org.enforce_mfa && !has_second_factor(org, member) {
        pending.push(Requirement {
            kind: RequirementKind::EnableMfa,
            deadline: deadline(member.mfa_required_since),
        });
    }
    pending
}

/// Which pending requirements' grace periods have not started yet: (MFA, password renewal).
pub fn unstarted(org: &OrganizationRecord, member: &MemberRecord) -> Option<(bool, bool)> {
    let mfa =
        org.enforce_mfa && !has_second_factor(org, member) && member.mfa_required_since.is_none();
    let renewal = org.enforce_password_renewal
        && member.password_changed_at.is_none()
        && member.password_renewal_required_since.is_none();
    (mfa || renewal).then_some((mfa, renewal))
}

/// Whether the grace period ran out with something still to do.
pub fn overdue(org: &OrganizationRecord, member: &MemberRecord, now: i64) -> bool {
    pending(org, member, now)
        .iter()
        .any(|requirement| requirement.deadline <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests;

    fn org(enforce_mfa: bool, enforce_password_renewal: bool) -> OrganizationRecord {
        OrganizationRecord {
            enforce_mfa,
            enforce_password_renewal,
            ..tests::organization()
        }
    }

    /// A member whose grace periods started at `since`.
    fn member(since: Option<i64>) -> MemberRecord {
        MemberRecord {
            mfa_required_since: since,
            password_renewal_required_since: since,
            ..tests::member()
        }
    }

    #[test]
    fn nothing_enforced_nothing_pending() {
        assert!(pending(&org(false, false), &member(None), 100).is_empty());
    }

    #[test]
    fn the_grace_period_counts_from_when_the_requirement_first_applied() {
        let pending = pending(&org(true, true), &member(Some(1000)), 5000);
        let kinds: Vec<_> = pending.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [RequirementKind::UpdatePassword, RequirementKind::EnableMfa]
        );
        assert!(pending.iter().all(|r| r.deadline == 1000 + 3 * 86400));
        // Before the first login, the period would start now.
        let fresh = super::pending(&org(true, false), &member(None), 5000);
        assert_eq!(fresh[0].deadline, 5000 + 3 * 86400);
    }

    #[test]
    fn met_requirements_disappear_and_overdue_ones_lock() {
        let mut m = member(Some(0));
        m.totp_secret = Some("ABC".into());
        m.password_changed_at = Some(10);
        assert!(pending(&org(true, true), &m, 10).is_empty());
        assert!(!overdue(&org(true, true), &m, 10 * 86400));
        let late = member(Some(0));
        assert!(!overdue(&org(true, false), &late, 3 * 86400 - 1));
        // A passkey meets the MFA requirement where the Organization enables passkeys.
        let with_passkey = MemberRecord {
            passkeys: 1,
            ..member(Some(0))
        };
        assert!(overdue(&org(true, false), &with_passkey, 3 * 86400));
        let mut passkeys_on = org(true, false);
        passkeys_on.public.login_methods.push(LoginMethod::Passkey);
        assert!(pending(&passkeys_on, &with_passkey, 3 * 86400).is_empty());
        assert!(overdue(&org(true, false), &late, 3 * 86400));
    }
}

#[cfg(test)]
mod start_tests {
    use super::*;
    use crate::model::tests;

    #[test]
    fn each_requirement_starts_its_own_grace_period_once() {
        let mut org = tests::organization();
        let mut member = tests::member();
        assert_eq!(unstarted(&org, &member), None, "nothing enforced");
        org.enforce_mfa = true;
        assert_eq!(unstarted(&org, &member), Some((true, false)));
        member.mfa_required_since = Some(100);
        assert_eq!(unstarted(&org, &member), None);
        // Turned on later: only the new requirement starts now, with its own deadline.
        org.enforce_password_renewal = true;
        assert_eq!(unstarted(&org, &member), Some((false, true)));
        let deadlines: Vec<i64> = pending(&org, &member, 5000)
            .iter()
            .map(|r| r.deadline)
            .collect();
        let grace = org.grace_period_seconds;
        assert_eq!(deadlines, [5000 + grace, 100 + grace]);
    }
}
