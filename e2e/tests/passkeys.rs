//! Passkeys end to end, with the browser's WebDriver virtual authenticator (the WebAuthn
//! WebDriver extension) standing in for the device: a member logs in by email code, adds a
//! passkey from the checklist's "Enable MFA" (a passkey meets it), logs out, and logs in again
//! with "Use a passkey", typing no username. axe-core checks the new screens.
//!
//! The app is opened at `https://localhost:PORT`: WebAuthn takes no IP address as relying
//! party, so the server binds passkeys to `localhost`.
//!
//! Chromium (chromedriver) and Firefox (geckodriver, with Firefox's software token turned on:
//! see `Session::start`) run it; only Chromium's authenticator also answers the autofill's
//! request by itself. WebKitGTK has no WebAuthn (no `PublicKeyCredential`) and WebKitWebDriver
//! no virtual authenticator command, so no WebKit test here.

use member_login_e2e::{as_str, Browser, Server, Session};

const ALEX_EMAIL: &str = "alex@demo.example";

/// The server's address under the name passkeys work on.
fn localhost(server: &Server) -> String {
    server.base.replace("://127.0.0.1:", "://localhost:")
}

async fn code_login(server: &Server, session: &Session, nth_email: usize) {
    session
        .client
        .goto(&format!(
            "{}/login/organization?organization=demo",
            localhost(server)
        ))
        .await
        .expect("the direct link opens");
    session.wait_for_text("h1", "Enter your username").await;
    session.type_into("#username", "alex").await;
    session.submit().await;
    session.wait_for_text("h1", "Choose how to log in").await;
    session.click("#send-code").await;
    session
        .wait_for_text("h1", "Enter the code from your email")
        .await;
    let code = server.latest_code(ALEX_EMAIL, nth_email).await;
    session.type_into("#code", &code).await;
    session.wait_for_text("h1", "You are logged in").await;
}

/// The text of the element matching `css` ("" when there is none).
async fn text_of(session: &Session, css: &str) -> String {
    let value = session
        .client
        .execute(
            "return document.querySelector(arguments[0])?.textContent || ''",
            vec![css.into()],
        )
        .await
        .unwrap_or_default();
    as_str(&value).to_owned()
}

/// Waits until the element matching `done` has text, failing at once with the error line
/// `error`'s text if that says something first.
async fn done_or_said(session: &Session, done: &str, error: &str) {
    for _ in 0..200 {
        let said = text_of(session, error).await;
        assert!(said.is_empty(), "{error}: {said}");
        if !text_of(session, done).await.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{done} never said anything");
}

async fn add_then_log_in_with_a_passkey(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    let authenticator = session
        .add_virtual_authenticator()
        .await
        .unwrap_or_else(|e| panic!("{browser:?} has no virtual authenticator: {e}"));

    code_login(&server, &session, 1).await;
    // The checklist's MFA requirement: a passkey meets it.
    session
        .wait_for_text_containing(".requirements", "Enable MFA")
        .await;
    session
        .wait_for_text("#mfa-passkey", "Add a passkey instead")
        .await;
    session.click("#mfa-passkey").await;

    session.wait_for_text("h1", "Passkeys").await;
    session
        .wait_for_text("#no-passkeys", "You have no passkeys yet.")
        .await;
    assert_eq!(
        session.client.title().await.unwrap(),
        "Passkeys · Member Login"
    );
    session.assert_accessible("passkeys (none yet)").await;
    session.type_into("#passkey-name", "Work laptop").await;
    session.click("#add-passkey").await;
    done_or_said(&session, "#passkeys-status", "#passkey-name-error").await;
    session
        .wait_for_text("#passkeys-status", "Passkey \"Work laptop\" added.")
        .await;
    session
        .wait_for_text_containing("li.passkey-item", "Work laptop")
        .await;
    session.screenshot(browser, "11-passkeys").await;
    session.assert_accessible("passkeys (one added)").await;
    let held = session.virtual_credentials(&authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true, "{held:?}");
    assert_eq!(as_str(&held[0]["rpId"]), "localhost");

    // Rename in place, and open the removal's confirmation (then keep it).
    session
        .click("li.passkey-item .actions button[id^=rename-]")
        .await;
    let field = session.element("#rename-field").await;
    field.clear().await.unwrap();
    field.send_keys("Laptop").await.unwrap();
    session.click("form.rename button[type=submit]").await;
    session
        .wait_for_text("#passkeys-status", "Passkey renamed \"Laptop\".")
        .await;
    session.click("li.passkey-item button[id^=remove-]").await;
    session.element("#confirm-remove").await;
    session.assert_accessible("passkeys (removal asked)").await;
    session.screenshot(browser, "11-passkeys-remove").await;
    session.click("#cancel-remove").await;

    // Back on the checklist, MFA is met.
    session.click("#back-to-checklist").await;
    session.wait_for_text("h1", "You are logged in").await;
    session
        .wait_for_text_containing(".requirements", "Update password")
        .await;
    let checklist = session.element(".requirements").await.text().await.unwrap();
    assert!(!checklist.contains("Enable MFA"), "{checklist}");
    session.log_out().await;

    // Log in again with "Use a passkey", typing no username. The autofill is turned off first
    // (this page, then the app's own navigation to the username step), else the virtual
    // authenticator answers the autofill's request before the button is pressed.
    session
        .client
        .execute(
            "PublicKeyCredential.isConditionalMediationAvailable = async () => false; return true;",
            vec![],
        )
        .await
        .unwrap();
    session.click("a[href='/login/organization']").await;
    session.wait_for_text("h1", "Enter your Organization").await;
    let field = session.element("#organization").await;
    field.clear().await.unwrap();
    field.send_keys("demo").await.unwrap();
    session.submit().await;
    session.wait_for_text("h1", "Enter your username").await;
    session.wait_for_text("#use-passkey", "Use a passkey").await;
    let autocomplete = session
        .element("#username")
        .await
        .attr("autocomplete")
        .await
        .unwrap();
    assert_eq!(autocomplete.as_deref(), Some("username webauthn"));
    session.screenshot(browser, "11-username-passkey").await;
    session
        .assert_accessible("username step with a passkey")
        .await;
    session.click("#use-passkey").await;
    done_or_said(&session, "#session-username", "#username-error").await;
    session.wait_for_text("h1", "You are logged in").await;
    session.wait_for_text("#session-username", "alex").await;
    session.log_out().await;

    // The username path: after the password, the passkey is the second factor (the member has
    // no authenticator app, so it is the only way offered). Still the same page, so still no
    // autofill.
    session.click("a[href='/login/organization']").await;
    session.wait_for_text("h1", "Enter your Organization").await;
    let field = session.element("#organization").await;
    field.clear().await.unwrap();
    field.send_keys("demo").await.unwrap();
    session.submit().await;
    session.wait_for_text("h1", "Enter your username").await;
    let field = session.element("#username").await;
    field.clear().await.unwrap();
    field.send_keys("alex").await.unwrap();
    session.submit().await;
    session.wait_for_text("h1", "Choose how to log in").await;
    session.click("#enter-password").await;
    session.wait_for_text("h1", "Enter your password").await;
    session
        .type_into("#password", "violet-harbor-lantern")
        .await;
    session.submit().await;
    session
        .wait_for_text("h1", "Two-factor authentication")
        .await;
    session.wait_for_text("#use-passkey", "Use a passkey").await;
    let focused = session
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(as_str(&focused), "use-passkey");
    session
        .screenshot(browser, "11-second-factor-passkey")
        .await;
    session
        .assert_accessible("second factor with a passkey")
        .await;
    session.click("#use-passkey").await;
    done_or_said(&session, "#session-username", "#second-factor-error").await;
    session.wait_for_text("#session-username", "alex").await;
    session.log_out().await;

    // And from the username field's autofill (conditional mediation): the browser offers the
    // passkey as the field is shown, and Chromium's virtual authenticator, standing in for the
    // member, picks it. Nothing is typed or pressed. (Firefox's leaves the autofill's request
    // waiting for a member to pick, as a person would.)
    if !matches!(browser, Browser::Chromium) {
        session.close().await;
        return;
    }
    session
        .client
        .goto(&format!(
            "{}/login/organization?organization=demo",
            localhost(&server)
        ))
        .await
        .unwrap();
    session.wait_for_text("h1", "You are logged in").await;
    session.wait_for_text("#session-username", "alex").await;
    session.close().await;
}

#[tokio::test]
async fn chromium() {
    add_then_log_in_with_a_passkey(Browser::Chromium).await;
}

#[tokio::test]
async fn firefox() {
    add_then_log_in_with_a_passkey(Browser::Firefox).await;
}
