//! A member opens the landing page, names the demo Organization by alias and reaches the
//! username step, in each of the three browser engines, against the real server.

use member_login_e2e::{as_str, in_every_browser, Browser, Server, Session};

async fn landing_to_username_step(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    let client = &session.client;

    client.goto(&format!("{}/", server.base)).await.unwrap();
    session.wait_for_text("h1", "Log in").await;
    // The app's landing, not the static first paint it replaces when the wasm has loaded.
    session.click("main:not(#shell) a.button.primary").await;

    session.wait_for_text("h1", "Enter your Organization").await;
    let field = session.element("#organization").await;
    let focused = client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(as_str(&focused), "organization", "the field has the focus");
    field.send_keys("demo").await.unwrap();
    // Opt in to remembering the Organization on this device.
    let remember = session.element("#remember").await;
    assert!(
        !remember.is_selected().await.unwrap(),
        "remembering is opt-in"
    );
    remember.click().await.unwrap();
    session.submit().await;

    session.wait_for_text("h1", "Enter your username").await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/login/username");
    assert_eq!(url.query(), Some("organization=demo"));

    // A later visit finds the Organization filled in, and the box still ticked.
    client
        .goto(&format!("{}/login/organization", server.base))
        .await
        .unwrap();
    session.wait_for_text("h1", "Enter your Organization").await;
    let field = session.element("#organization").await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("demo"));
    assert!(session
        .element("#remember")
        .await
        .is_selected()
        .await
        .unwrap());
    session.submit().await;
    session.wait_for_text("h1", "Enter your username").await;

    // A reload keeps the step and finds the Organization again from the URL.
    client.refresh().await.unwrap();
    session.wait_for_text("h1", "Enter your username").await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;

    // The administrator's direct link skips the Organization step, and Back does not land on
    // a page that forwards again.
    client
        .goto(&format!(
            "{}/login/organization?organization=DEMO",
            server.base
        ))
        .await
        .unwrap();
    session
        .wait_for_text("#organization-error", "Enter an Organization ID like 123e4567-e89b-12d3-a456-426614174000, or an alias of 2 to 32 lower-case letters.")
        .await;
    session.follow_demo_link(&server).await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;
    client.back().await.unwrap();
    session.wait_for_text("h1", "Enter your Organization").await;
    let url = client.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some("organization=DEMO"),
        "Back returns to the page before the link"
    );
    session.close().await;
}

in_every_browser!(landing_to_username_step);
