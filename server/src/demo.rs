//! The demo Organization and members that the run command and the end-to-end tests log in with.
//! Fixed values, so that links and instructions stay the same from one start to the next.

use member_login_api::LoginMethod;

use crate::error::Result;
use crate::secrets::hash_password;
use crate::store::{Db, NewMember, NewOrganization, SecuritySettings};

pub const ORGANIZATION_ID: &str = "0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30";
pub const ORGANIZATION_ALIAS: &str = "demo";
pub const ORGANIZATION_NAME: &str = "Demo Organization";

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
        login_methods: vec![LoginMethod::EmailCode, LoginMethod::Password],
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
