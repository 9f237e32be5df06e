//! The accessibility check the journeys rely on really finds violations: a page with a known
//! fault (an image without a text alternative, a field without a label) is reported.

use member_login_e2e::{Browser, Server, Session};

#[tokio::test]
async fn axe_reports_known_faults() {
    let server = Server::start().await;
    let session = Session::start(Browser::Chromium).await;
    session
        .client
        .goto(&format!("{}/", server.base))
        .await
        .unwrap();
    session.wait_for_text("h1", "Log in").await;
    assert!(session.accessibility_violations().await.is_empty());
    session
        .client
        .execute(
            "const main = document.querySelector('main');
             main.insertAdjacentHTML('beforeend', '<img src=\"/x.png\"><input type=\"text\">');
             return true;",
            vec![],
        )
        .await
        .unwrap();
    let violations = session.accessibility_violations().await;
    assert!(
        violations.iter().any(|v| v.starts_with("image-alt:")),
        "{violations:?}"
    );
    assert!(
        violations.iter().any(|v| v.starts_with("label:")),
        "{violations:?}"
    );
    session.close().await;
}
