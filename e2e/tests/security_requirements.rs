//! After the first login the member meets the Organization's requirements: a new password
//! (shown once), then MFA with an authenticator (the test computes its codes from the key
//! under "Can't scan?") and recovery codes; from then on login asks for the second factor,
//! and a recovery code works once.

use member_login_e2e::{in_every_browser, Browser, Server, Session};
use member_login_server::totp;

const NEW_PASSWORD: &str = "amber-river-telescope";

async fn log_in_with_password(server: &Server, session: &Session, password: &str) {
    session.follow_demo_link(server).await;
    let field = session.element("#username").await;
    field.clear().await.unwrap();
    field.send_keys("alex").await.unwrap();
    session.submit().await;
    session.wait_for_text("h1", "Choose how to log in").await;
    session.click("#enter-password").await;
    session.wait_for_text("h1", "Enter your password").await;
    session.type_into("#password", password).await;
    session.submit().await;
}

async fn second_factor(session: &Session, recovery_code: &str) {
    session
        .wait_for_text("h1", "Two-factor authentication")
        .await;
    session.click("#switch-factor").await;
    session.type_into("#second-factor", recovery_code).await;
    session.submit().await;
}

async fn requirements(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    log_in_with_password(&server, &session, "violet-harbor-lantern").await;
    session.wait_for_text("h1", "You are logged in").await;
    session
        .wait_for_text_containing(".requirements", "Update password — 3 days left")
        .await;
    session
        .wait_for_text_containing(".requirements", "Enable MFA — 3 days left")
        .await;
    session.screenshot(browser, "8-checklist").await;
    session.assert_accessible("8-checklist").await;

    // Update password: a common one is refused by rule, a good one is shown once.
    session.click("a[href='/account/password']").await;
    session.wait_for_text("h1", "Update password").await;
    let field = session.element("#new-password-field").await;
    field.send_keys("1qaz2wsx3edc").await.unwrap();
    session.submit().await;
    session
        .wait_for_text_containing(
            "#password-rules .unmet",
            "Not a common or breached password",
        )
        .await;
    let field = session.element("#new-password-field").await;
    field.clear().await.unwrap();
    field.send_keys(NEW_PASSWORD).await.unwrap();
    session.assert_accessible("8-update-password").await;
    session.submit().await;
    session.wait_for_text("#new-password", NEW_PASSWORD).await;
    session.screenshot(browser, "8-update-password-done").await;
    session.click("#back-to-checklist").await;
    session.wait_for_text("h1", "You are logged in").await;
    session
        .wait_for_text_containing(".requirements", "Enable MFA")
        .await;
    let text = session.element(".requirements").await.text().await.unwrap();
    assert!(!text.contains("Update password"), "{text}");

    // Enable MFA with the key under "Can't scan?".
    session.click("a[href='/account/mfa']").await;
    session.wait_for_text("h1", "Enable MFA").await;
    session.element(".qr svg").await;
    session.click("details summary").await;
    // The key shows once the details have opened (WebKitGTK opens them a moment later).
    session
        .wait_for_text_where("#mfa-key", "showed the key", |t| !t.trim().is_empty())
        .await;
    let key = session.element("#mfa-key").await.text().await.unwrap();
    let secret = totp::base32_decode(&key).expect("the key is base32");
    assert_eq!(secret.len(), 20);
    session.screenshot(browser, "8-enable-mfa").await;
    session.assert_accessible("8-enable-mfa").await;
    let now = session
        .client
        .execute("return Math.floor(Date.now() / 1000)", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    let code = totp::code_at(&secret, totp::step_at(now), totp::DIGITS);
    session.type_into("#mfa-code", &code).await;
    session.submit().await;
    session
        .wait_for_text_containing("#recovery-codes", "-")
        .await;
    let listed = session
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#recovery-codes code'), c => c.textContent)",
            vec![],
        )
        .await
        .unwrap();
    let codes: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    session.screenshot(browser, "8-recovery-codes").await;
    session.click("#back-to-checklist").await;
    session.wait_for_text("h1", "You are logged in").await;
    assert!(session
        .client
        .find(fantoccini_css(".requirements"))
        .await
        .is_err());
    session.log_out().await;

    // From now on: password, then the authenticator. The step used to set up is spent; the
    // next one is within the accepted skew.
    log_in_with_password(&server, &session, NEW_PASSWORD).await;
    session
        .wait_for_text("h1", "Two-factor authentication")
        .await;
    let next = totp::code_at(&secret, totp::step_at(now) + 1, totp::DIGITS);
    session.type_into("#second-factor", &next).await;
    session.submit().await;
    session.wait_for_text("h1", "You are logged in").await;
    session.log_out().await;

    // A recovery code works once.
    log_in_with_password(&server, &session, NEW_PASSWORD).await;
    second_factor(&session, &codes[0]).await;
    session.wait_for_text("h1", "You are logged in").await;
    session.log_out().await;
    log_in_with_password(&server, &session, NEW_PASSWORD).await;
    second_factor(&session, &codes[0]).await;
    session
        .wait_for_text(
            "#second-factor-error",
            "That did not work. Check what you entered and try again.",
        )
        .await;
    session.close().await;
}

/// A grace period that ran out locks the member; an administrator's unlock (after giving more
/// time) lets them in again.
async fn grace_period_over(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    log_in_with_password(&server, &session, "violet-harbor-lantern").await;
    session.wait_for_text("h1", "You are logged in").await;
    // The administrator shortens the grace period to nothing: the next call locks.
    server.admin(&["org", "settings", "--org", "demo", "--grace-days", "0"]);
    session.client.refresh().await.unwrap();
    session.wait_for_text("h1", "Not logged in").await;
    session
        .wait_for_text(
            "[role=alert]",
            "Your account is locked. Contact an administrator of your Organization to unlock it.",
        )
        .await;
    log_in_with_password(&server, &session, "violet-harbor-lantern").await;
    session
        .wait_for_text(
            "#password-error",
            "Your account is locked. Contact an administrator of your Organization to unlock it.",
        )
        .await;
    session.screenshot(browser, "8-locked").await;
    server.admin(&["org", "settings", "--org", "demo", "--grace-days", "3"]);
    server.admin(&["member", "unlock", "--org", "demo", "--username", "alex"]);
    let field = session.element("#password").await;
    field.clear().await.unwrap();
    field.send_keys("violet-harbor-lantern").await.unwrap();
    session.submit().await;
    session.wait_for_text("h1", "You are logged in").await;
    session
        .wait_for_text_containing(".requirements", "Enable MFA — 3 days left")
        .await;
    session.close().await;
}

fn fantoccini_css(css: &str) -> fantoccini::Locator<'_> {
    fantoccini::Locator::Css(css)
}

in_every_browser!(requirements, grace_period_over);
