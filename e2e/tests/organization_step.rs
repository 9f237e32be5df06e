//! A member opens the landing page, names the demo Organization by alias and reaches the
//! username step, in each of the three browser engines, against the real server.

use member_login_e2e::{as_str, Browser, Server, Session};

async fn landing_to_username_step(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    let client = &session.client;

    client.goto(&format!("{}/", server.base)).await.unwrap();
    session.wait_for_text("h1", "Log in").await;
    session
        .element("a.button.primary")
        .await
        .click()
        .await
        .unwrap();

    session.wait_for_text("h1", "Enter your Organization").await;
    let field = session.element("#organization").await;
    let focused = client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(as_str(&focused), "organization", "the field has the focus");
    field.send_keys("demo").await.unwrap();
    session
        .element("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    session.wait_for_text("h1", "Enter your username").await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/login/username");
    assert_eq!(url.query(), Some("organization=demo"));

    // A reload keeps the step and finds the Organization again from the URL.
    client.refresh().await.unwrap();
    session.wait_for_text("h1", "Enter your username").await;
    session
        .wait_for_text("#current-organization", "Demo Organization")
        .await;
    session.close().await;
}

#[tokio::test]
async fn chromium_reaches_the_username_step() {
    landing_to_username_step(Browser::Chromium).await;
}

#[tokio::test]
async fn firefox_reaches_the_username_step() {
    landing_to_username_step(Browser::Firefox).await;
}

#[tokio::test]
async fn webkit_reaches_the_username_step() {
    landing_to_username_step(Browser::WebKit).await;
}
