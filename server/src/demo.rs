//! The demo Organization and members that the run command and the end-to-end tests log in with.
//! Fixed values, so that links and instructions stay the same from one start to the next.

use member_login_api::LoginMethod;

use crate::error::Result;
use crate::secrets::hash_password;
use crate::store::{Db, NewMember, NewOrganization, PublicSettings, SecuritySettings};

pub const ORGANIZATION_ID: &str = "0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30";
pub const ORGANIZATION_ALIAS: &str = "demo";
pub const ORGANIZATION_NAME: &str = "Demo Organization";
/// The demo's accent colour: a teal with white text on it at 6.6:1 (passes WCAG AA). No logo
/// (the demo loads nothing from other sites) and no hand-off targets (the demo has no console).
pub const ACCENT_COLOR: &str = "#00695c";

/// A demo member: username, email, password.
pub struct DemoMember {
    pub username: &'static str,
    pub email: &'static str,
    pub password: &'static str,
}

pub const MEMBERS: [DemoMember; 2] = [
    DemoMember {
        username: "alex",
        email: "alex@demo.example",
        password: "violet-harbor-lantern",
    },
    DemoMember {
        username: "sam",
        email: "sam@demo.example",
        password: "quiet-meadow-compass",
    },
];

/// Creates the demo Organization and members unless they exist already (a restart keeps them).
pub async fn seed(db: &Db) -> Result<()> {
    db.ensure_organization(&NewOrganization {
        id: ORGANIZATION_ID.into(),
        alias: ORGANIZATION_ALIAS.into(),
        name: ORGANIZATION_NAME.into(),
        login_methods: vec![
            LoginMethod::EmailCode,
            LoginMethod::Password,
            LoginMethod::Passkey,
        ],
        max_failed_logins: 5,
        session_seconds: 12 * 3600,
        // The journey the product was made for: after the first login, update the password
        // and enable MFA within three days.
        security: SecuritySettings {
            enforce_mfa: true,
            enforce_password_renewal: true,
            grace_period_seconds: 3 * 86400,
            lock_until_unlocked: false,
        },
        public: PublicSettings {
            accent_color: Some(ACCENT_COLOR.into()),
            ..PublicSettings::default()
        },
    })
    .await?;
    for member in &MEMBERS {
        db.ensure_member(&NewMember {
            organization_id: ORGANIZATION_ID.into(),
            username: member.username.into(),
            email: member.email.into(),
            password_hash: Some(hash_password(member.password)?),
        })
        .await?;
    }
    Ok(())
}

/// What the run command prints so a person can log in straight away.
pub fn credentials_text(url: &str) -> String {
    let mut text = format!(
        "Demo Organization: {ORGANIZATION_NAME}\n  Organization ID: {ORGANIZATION_ID}\n  \
         alias: {ORGANIZATION_ALIAS}\n  direct link: {url}login/organization?organization={ORGANIZATION_ALIAS}\n\
         Demo members (username / email / password):\n"
    );
    for m in &MEMBERS {
        text.push_str(&format!(
            "  {} / {} / {}\n",
            m.username, m.email, m.password
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_accent_is_normalised_and_passes_aa() {
        use member_login_api::branding::{accent_passes_aa, normalize_accent_color};
        assert_eq!(
            normalize_accent_color(super::ACCENT_COLOR).as_deref(),
            Some(super::ACCENT_COLOR)
        );
        assert!(accent_passes_aa(super::ACCENT_COLOR));
    }
}
