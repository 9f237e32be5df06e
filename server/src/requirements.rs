//! The security requirements an Organization enforces after a member's first login, and the
//! grace period to meet them: once it is over, the member is locked at the next login or call.

use member_login_api::session::{Requirement, RequirementKind};

use crate::store::{MemberRecord, OrganizationRecord};

/// What the member still has to do, each with its deadline. `now` stands in for the first
/// login when there was none yet (the grace period starts with it).
pub fn pending(org: &OrganizationRecord, member: &MemberRecord, now: i64) -> Vec<Requirement> {
    let deadline = member.first_login_at.unwrap_or(now) + org.grace_period_seconds;
    let mut pending = Vec::new();
    if org.enforce_password_renewal && member.password_changed_at.is_none() {
        pending.push(Requirement {
            kind: RequirementKind::UpdatePassword,
            deadline,
        });
    }
    if org.enforce_mfa && member.totp_secret.is_none() {
        pending.push(Requirement {
            kind: RequirementKind::EnableMfa,
            deadline,
        });
    }
    pending
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
    use crate::store::tests;

    fn org(enforce_mfa: bool, enforce_password_renewal: bool) -> OrganizationRecord {
        OrganizationRecord {
            enforce_mfa,
            enforce_password_renewal,
            ..tests::organization()
        }
    }

    fn member(first_login_at: Option<i64>) -> MemberRecord {
        MemberRecord {
            first_login_at,
            ..tests::member()
        }
    }

    #[test]
    fn nothing_enforced_nothing_pending() {
        assert!(pending(&org(false, false), &member(None), 100).is_empty());
    }

    #[test]
    fn the_grace_period_counts_from_the_first_login() {
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
        assert!(overdue(&org(true, false), &late, 3 * 86400));
    }
}
