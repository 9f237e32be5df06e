//! Property test of every input the API parses: random bodies, random path segments and random
//! content types sent to every endpoint never get a 5xx, and every refusal is a problem document.

mod common;

use member_login_api::PROBLEM_CONTENT_TYPE;
use proptest::prelude::*;
use reqwest::Method;

/// JSON-ish bodies: real JSON of any shape, the contract's field names with random values, and
/// plain random text.
fn body() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\\PC{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    let field = prop_oneof![
        Just("organization"),
        Just("username"),
        Just("code"),
        Just("password"),
        Just("method"),
        Just("other"),
    ];
    prop_oneof![
        prop::collection::vec((field, leaf.clone()), 0..4).prop_map(|pairs| {
            let fields: Vec<String> = pairs
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
                .collect();
            format!("{{{}}}", fields.join(","))
        }),
        leaf,
        ".{0,60}",
    ]
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{0,40}", "[0-9a-fA-F-]{36}", "[%a-zA-Z0-9._~-]{0,60}"]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn no_input_gets_a_server_error(
        body in body(),
        segment in path_segment(),
        step in prop::sample::select(vec!["", "/username", "/code", "/code/verify", "/password", "/second-factor"]),
        content_type in prop::sample::select(vec!["application/json", "text/plain", "application/x-www-form-urlencoded"]),
        use_real_flow in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let server = common::start().await;
            let flow_id = if use_real_flow { server.flow_for("alex").await.id } else { segment.clone() };
            let targets = [
                (Method::POST, "/api/v1/flows".to_owned()),
                (Method::POST, format!("/api/v1/flows/{flow_id}{step}")),
                (Method::GET, format!("/api/v1/flows/{segment}")),
                (Method::GET, format!("/api/v1/organizations/{segment}")),
            ];
            for (method, path) in targets {
                let resp = server
                    .request(method.clone(), &path)
                    .header("content-type", content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                assert!(!status.is_server_error(), "{method} {path} {body:?} → {status}");
                if status.is_client_error() {
                    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                    assert_eq!(ct, PROBLEM_CONTENT_TYPE, "{method} {path} {body:?} → {status}");
                }
            }
        });
    }
}
