//! With SMTP configured, code emails leave through a real SMTP conversation (lettre) to a
//! receiving SMTP server on loopback; the outbox keeps them, marked sent.

mod common;

use std::time::Duration;

use common::{code_in, relaxed, smtp_receiver, start_with};
use member_login_server::mail::SmtpConfig;
use member_login_server::Config;

#[tokio::test]
async fn code_emails_go_out_through_smtp() {
    let (port, mut received) = smtp_receiver().await;
    let server = start_with(Config {
        dev_mode: true,
        limits: relaxed(),
        smtp: Some(SmtpConfig {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "Member Login <login@demo.example>".into(),
        }),
        ..Config::default()
    })
    .await;
    let flow = server.flow_for("alex").await;
    assert_eq!(server.send_code(&flow).await.status(), 200);
    let message = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("no SMTP message within 10 s")
        .unwrap();
    assert_eq!(message.recipients, ["RCPT TO:<alex@demo.example>"]);
    assert!(message
        .data
        .contains("Subject: Your login code for Demo Organization"));
    assert!(message
        .data
        .lines()
        .any(|l| l.starts_with("From: ") && l.ends_with("<login@demo.example>")));
    let code = code_in(&message.data);
    assert_eq!(server.verify(&flow, &code).await.status(), 200);
    let kept = server.mailbox("alex@demo.example").await;
    assert_eq!(kept.len(), 1);
    assert!(kept[0]["sent_at"].is_i64(), "{kept:?}");
}
