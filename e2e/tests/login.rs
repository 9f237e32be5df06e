//! A member logs in by email code and by password, following the seed's steps, in each of the
//! three browser engines against the real server over HTTPS; with a wrong code, the resend
//! cooldown across a reload, Back/Forward between steps, a reload when done, and logout.

use member_login_e2e::{as_str, in_every_browser, Browser, Server, Session};

const ALEX_EMAIL: &str = "alex@demo.example";

async fn focused_id(session: &Session) -> String {
    let value = session
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    as_str(&value).to_owned()
}

async fn value_of(session: &Session, css: &str) -> String {
    session
        .element(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// From the administrator's direct link to the method step, as `username`.
async fn to_method_step(server: &Server, session: &Session, browser: Browser, username: &str) {
    session.follow_demo_link(server).await;
    session.screenshot(browser, "3-username").await;
    session.assert_accessible("3-username").await;
    assert_eq!(focused_id(session).await, "username");
    session.type_into("#username", username).await;
    session.submit().await;
    session.wait_for_text("h1", "Choose how to log in").await;
    session.wait_for_text("#current-username", username).await;
}

async fn logged_in_as(session: &Session, username: &str) {
    session.wait_for_text("h1", "You are logged in").await;
    session.wait_for_text("#session-username", username).await;
    session
        .wait_for_text("#session-organization", "Demo Organization")
        .await;
}

async fn code_login(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    let client = &session.client;
    client.goto(&format!("{}/", server.base)).await.unwrap();
    session.wait_for_text("h1", "Log in").await;
    session.screenshot(browser, "1-landing").await;
    session.assert_accessible("1-landing").await;
    client
        .goto(&format!("{}/login/organization", server.base))
        .await
        .unwrap();
    session.wait_for_text("h1", "Enter your Organization").await;
    session.screenshot(browser, "2-organization").await;
    session.assert_accessible("2-organization").await;

    to_method_step(&server, &session, browser, "alex").await;
    session.screenshot(browser, "4-method").await;
    session.assert_accessible("4-method").await;

    // Back keeps what was typed; Forward returns.
    client.back().await.unwrap();
    session.wait_for_text("h1", "Enter your username").await;
    assert_eq!(value_of(&session, "#username").await, "alex");
    client.forward().await.unwrap();
    session.wait_for_text("h1", "Choose how to log in").await;

    session.click("#send-code").await;
    session
        .wait_for_text("h1", "Enter the code from your email")
        .await;
    assert_eq!(focused_id(&session).await, "code");
    let code = server.latest_code(ALEX_EMAIL, 1).await;

    // The seed's help, in its order, with "Resend email" waiting out its cooldown.
    let help = session.element("ol.help").await.text().await.unwrap();
    let order = [
        "spam folder",
        "Resend email",
        "Contact an Organization administrator",
        "ask an administrator to contact the support",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|item| {
            help.find(item)
                .unwrap_or_else(|| panic!("{item:?} in {help:?}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{help}");
    session
        .wait_for_text_containing("#resend-countdown", "available in")
        .await;
    let resend = session.element("#resend").await;
    assert!(resend.attr("disabled").await.unwrap().is_some());
    session.screenshot(browser, "5-email-code").await;
    session.assert_accessible("5-email-code").await;

    // The cooldown survives a reload.
    client.refresh().await.unwrap();
    session
        .wait_for_text("h1", "Enter the code from your email")
        .await;
    session
        .wait_for_text_containing("#resend-countdown", "available in")
        .await;
    let resend = session.element("#resend").await;
    assert!(resend.attr("disabled").await.unwrap().is_some());

    // A wrong code says how many tries are left.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    session.type_into("#code", wrong).await;
    session
        .wait_for_text(
            "#code-error",
            "That code is not right. You can try 4 more times.",
        )
        .await;
    session.screenshot(browser, "5-email-code-wrong").await;
    session.assert_accessible("5-email-code-wrong").await;

    // The right one, pasted with a dash, submits by itself.
    let field = session.element("#code").await;
    field.clear().await.unwrap();
    field
        .send_keys(&format!("{}-{}", &code[..3], &code[3..]))
        .await
        .unwrap();
    logged_in_as(&session, "alex").await;
    session.screenshot(browser, "9-done").await;
    session.assert_accessible("9-done").await;

    // The session lasts across a reload.
    client.refresh().await.unwrap();
    logged_in_as(&session, "alex").await;
    session.log_out().await;

    // Next time, the link in the email opens the code step with the code filled in. A new
    // flow does not skip the resend cooldown: while it runs, the method step counts down and
    // then lets the member send again.
    to_method_step(&server, &session, browser, "alex").await;
    send_code_when_allowed(&session).await;
    let body = server.email(ALEX_EMAIL, 2).await;
    let link = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}/login/code?", server.base)))
        .unwrap_or_else(|| panic!("no link in {body}"));
    client.goto(link).await.unwrap();
    logged_in_as(&session, "alex").await;
    session.close().await;
}

/// The page's heading and rate-limit countdown, read in one go (the page re-renders between
/// separate element reads).
async fn heading_and_countdown(session: &Session) -> (String, String) {
    let read = session
        .client
        .execute(
            "const text = s => (document.querySelector(s) || {}).textContent || '';
             return [text('h1'), text('.countdown')];",
            vec![],
        )
        .await
        .unwrap();
    let part = |i: usize| read[i].as_str().unwrap_or_default().trim().to_owned();
    (part(0), part(1))
}

/// Clicks "Send code"; if the cooldown of an earlier code is still running, checks the
/// countdown, waits for it to end (at most 30 s) and clicks again.
async fn send_code_when_allowed(session: &Session) {
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(100));
    for _ in 0..3 {
        session.click("#send-code").await;
        for _ in 0..100 {
            let (heading, countdown) = heading_and_countdown(session).await;
            if heading == "Enter the code from your email" {
                return;
            }
            if countdown.starts_with("You can try again in") {
                session
                    .wait_for_text_containing("[role=alert]", "You can ask for a new one")
                    .await;
                for _ in 0..350 {
                    if heading_and_countdown(session).await.1.is_empty() {
                        break;
                    }
                    pause().await;
                }
                break;
            }
            pause().await;
        }
    }
    session
        .wait_for_text("h1", "Enter the code from your email")
        .await;
}

async fn password_login(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    to_method_step(&server, &session, browser, "sam").await;
    session.click("#enter-password").await;
    session.wait_for_text("h1", "Enter your password").await;
    assert_eq!(focused_id(&session).await, "password");
    // Reload, Back and Forward keep the step, the Organization and the username.
    session.client.refresh().await.unwrap();
    session.wait_for_text("h1", "Enter your password").await;
    session.wait_for_text("#current-username", "sam").await;
    session.client.back().await.unwrap();
    session.wait_for_text("h1", "Choose how to log in").await;
    session.wait_for_text("#current-username", "sam").await;
    session.client.forward().await.unwrap();
    session.wait_for_text("h1", "Enter your password").await;
    let field = session.element("#password").await;
    field.send_keys("not-the-password").await.unwrap();
    session.submit().await;
    session
        .wait_for_text(
            "#password-error",
            "That did not work. Check what you entered and try again.",
        )
        .await;
    // Show and hide, with the state in aria-pressed.
    let toggle = session.element("#toggle-password").await;
    assert_eq!(
        toggle.attr("aria-pressed").await.unwrap().as_deref(),
        Some("false")
    );
    toggle.click().await.unwrap();
    assert_eq!(
        session
            .element("#password")
            .await
            .attr("type")
            .await
            .unwrap()
            .as_deref(),
        Some("text")
    );
    assert_eq!(
        toggle.attr("aria-pressed").await.unwrap().as_deref(),
        Some("true")
    );
    let field = session.element("#password").await;
    field.clear().await.unwrap();
    field.send_keys("quiet-meadow-compass").await.unwrap();
    session.screenshot(browser, "6-password").await;
    session.assert_accessible("6-password").await;
    session.submit().await;
    logged_in_as(&session, "sam").await;
    session.log_out().await;
    session.close().await;
}

/// Presses Tab until the element with `id` has the focus (at most 12 times).
async fn tab_to(session: &Session, id: &str) {
    for _ in 0..12 {
        if focused_id(session).await == id {
            return;
        }
        let active = session.client.active_element().await.unwrap();
        active.send_keys("\u{E004}").await.unwrap(); // Tab
    }
    panic!("Tab never reached #{id}");
}

async fn press_enter(session: &Session) {
    let active = session.client.active_element().await.unwrap();
    active.send_keys("\u{E007}").await.unwrap();
}

/// The whole password login with the keyboard only: typing, Tab and Enter.
async fn keyboard_login(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    session
        .client
        .goto(&format!("{}/login/organization", server.base))
        .await
        .unwrap();
    session.wait_for_text("h1", "Enter your Organization").await;
    assert_eq!(focused_id(&session).await, "organization");
    let type_here = |text: &'static str| {
        let session = &session;
        async move {
            let active = session.client.active_element().await.unwrap();
            active.send_keys(text).await.unwrap();
        }
    };
    type_here("demo").await;
    press_enter(&session).await;
    session.wait_for_text("h1", "Enter your username").await;
    assert_eq!(focused_id(&session).await, "username");
    type_here("sam").await;
    press_enter(&session).await;
    session.wait_for_text("h1", "Choose how to log in").await;
    tab_to(&session, "enter-password").await;
    press_enter(&session).await;
    session.wait_for_text("h1", "Enter your password").await;
    assert_eq!(focused_id(&session).await, "password");
    type_here("quiet-meadow-compass").await;
    press_enter(&session).await;
    logged_in_as(&session, "sam").await;
    tab_to(&session, "logout").await;
    press_enter(&session).await;
    session
        .wait_for_text(".notice", "You are logged out.")
        .await;
    session.close().await;
}

in_every_browser!(code_login, password_login, keyboard_login);
