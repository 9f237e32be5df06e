//! With SMTP configured, code emails leave through a real SMTP conversation (lettre) to a
//! receiving SMTP server on loopback; the outbox keeps them, marked sent. A French email
//! arrives as UTF-8 plain text, its subject encoded for a mail header (RFC 2047).

mod common;

use std::time::Duration;

use base64::Engine;
use common::{code_in, relaxed, smtp_receiver, start_with, Received, TestServer};
use member_login_server::mail::SmtpConfig;
use member_login_server::Config;
use serde_json::json;

async fn start_with_smtp() -> (TestServer, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    let (port, received) = smtp_receiver().await;
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
    (server, received)
}

async fn next(received: &mut tokio::sync::mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("no SMTP message within 10 s")
        .unwrap()
}

#[tokio::test]
async fn code_emails_go_out_through_smtp() {
    let (server, mut received) = start_with_smtp().await;
    let flow = server.flow_for("alex").await;
    assert_eq!(server.send_code(&flow).await.status(), 200);
    let message = next(&mut received).await;
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

/// A header's value, its folded lines joined.
fn header(data: &str, name: &str) -> String {
    let mut lines = data
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{name}: ")));
    let mut value = lines
        .next()
        .unwrap_or_else(|| panic!("no {name} in {data}"))[name.len() + 2..]
        .to_owned();
    for line in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        value.push_str(line);
    }
    value
}

/// A header value with RFC 2047 encoded words (`=?utf-8?b?…?=`), decoded: white space
/// between two encoded words is not part of the text.
fn decode_words(value: &str) -> String {
    let mut text = String::new();
    let mut last_encoded = false;
    for word in value.split_whitespace() {
        let encoded = word
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="));
        let joined = last_encoded && encoded.is_some();
        if !text.is_empty() && !joined {
            text.push(' ');
        }
        match encoded {
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap();
                text.push_str(std::str::from_utf8(&bytes).unwrap());
            }
            None => text.push_str(word),
        }
        last_encoded = encoded.is_some();
    }
    text
}

/// The body of a received message, decoded from its transfer encoding.
fn body_of(data: &str) -> String {
    let (_, body) = data.split_once("\n\n").unwrap();
    let bytes = match header(data, "Content-Transfer-Encoding").as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap(),
        "quoted-printable" => {
            let joined = body.replace("=\n", "");
            let mut bytes = Vec::new();
            let mut rest = joined.as_bytes();
            while let Some((&b, tail)) = rest.split_first() {
                if b == b'=' {
                    let hex = std::str::from_utf8(&tail[..2]).unwrap();
                    bytes.push(u8::from_str_radix(hex, 16).unwrap());
                    rest = &tail[2..];
                } else {
                    bytes.push(b);
                    rest = tail;
                }
            }
            bytes
        }
        other => panic!("unexpected transfer encoding {other}"),
    };
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

#[tokio::test]
async fn a_french_code_email_arrives_as_utf8_text() {
    let (server, mut received) = start_with_smtp().await;
    let flow: member_login_api::flow::Flow = server
        .post(
            "/api/v1/flows",
            json!({"organization": "demo", "username": "alex", "language": "fr"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(server.send_code(&flow).await.status(), 200);
    let message = next(&mut received).await;
    assert_eq!(
        header(&message.data, "Content-Type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        decode_words(&header(&message.data, "Subject")),
        "Votre code de connexion pour Demo Organization"
    );
    let body = body_of(&message.data);
    let kept = server.mailbox("alex@demo.example").await;
    // As queued (the end of DATA adds a line break).
    assert_eq!(
        body.trim_end(),
        kept[0]["body"].as_str().unwrap().trim_end()
    );
    assert!(body.contains("Votre code pour vous connecter à"), "{body}");
    let code = code_in(&body);
    assert!(body.contains(&format!("&code={code}&lang=fr\n")), "{body}");

    // A subject beyond ASCII: the lock after failed logins, in French.
    for _ in 0..5 {
        let flow: member_login_api::flow::Flow = server
            .post(
                "/api/v1/flows",
                json!({"organization": "demo", "username": "alex", "language": "fr"}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            server.password(&flow, "not-the-password").await.status(),
            401
        );
    }
    let message = next(&mut received).await;
    let subject = header(&message.data, "Subject");
    assert!(subject.is_ascii(), "{subject}");
    assert_eq!(
        decode_words(&subject),
        "Votre compte Demo Organization est verrouillé"
    );
    assert!(body_of(&message.data).contains("est verrouillé pendant 15 minutes."));
}
