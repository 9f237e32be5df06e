//! With SMTP configured, code emails leave through a real SMTP conversation (lettre) to a
//! receiving SMTP server on loopback, and nothing goes to the outbox.

mod common;

use std::time::Duration;

use common::{code_in, relaxed, start_with};
use member_login_server::mail::SmtpConfig;
use member_login_server::Config;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One received message: the envelope recipients and the DATA.
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// A receiving SMTP server (RFC 5321 minimal: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
async fn smtp_receiver() -> (u16, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 receiver ESMTP\r\n").await.unwrap();
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-receiver\r\n250 8BITMIME\r\n",
                        "RCPT" => {
                            recipients.push(line.clone());
                            b"250 OK\r\n"
                        }
                        "DATA" => {
                            write.write_all(b"354 end with .\r\n").await.unwrap();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            tx.send(Received {
                                recipients: std::mem::take(&mut recipients),
                                data,
                            })
                            .unwrap();
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

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
    assert!(server.mailbox("alex@demo.example").await.is_empty());
}
