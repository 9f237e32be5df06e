//! Component tests of the app in a real browser (wasm-bindgen-test in headless Chromium and
//! Firefox). They drive the mounted app through the DOM, as a member would.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlButtonElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts the whole app at `path` in a fresh container. The router reads the real URL.
fn mount_at(path: &str) -> (HtmlElement, leptos::mount::UnmountHandle<impl Mountable>) {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    let container: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&container).unwrap();
    // Two pages, two builds: the account screens are their own app.
    // Each test starts in English; a test of another language switches.
    member_login::i18n::set_lang(member_login::i18n::Lang::En);
    let account = path.starts_with("/account/");
    let handle = leptos::mount::mount_to(container.clone(), move || {
        if account {
            member_login::AccountApp().into_any()
        } else {
            member_login::App().into_any()
        }
    });
    (container, handle)
}

/// Stops the page loads the app starts for the other page (a link with `rel="external"`,
/// clicked), recording each address: the browser would otherwise leave the test page.
fn hold_page_loads() {
    js_sys::Function::new_no_args(
        "window.__opened = [];
         if (!window.__holding) {
           window.__holding = true;
           window.addEventListener('click', e => {
             const link = e.target.closest && e.target.closest('a[rel~=external]');
             if (link) { e.preventDefault(); window.__opened.push(link.getAttribute('href')); }
           }, true);
         }",
    )
    .call0(&wasm_bindgen::JsValue::NULL)
    .unwrap();
}

/// The addresses of the page loads held since [`hold_page_loads`].
fn pages_opened() -> Vec<String> {
    let window = web_sys::window().unwrap();
    let opened = js_sys::Reflect::get(&window, &"__opened".into()).unwrap();
    js_sys::Array::from(&opened)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

/// Lets effects and the browser's own tasks run.
async fn settle() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Waits (up to ten seconds) until `ready` holds; the browser may be slow under load.
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..500 {
        if ready() {
            return;
        }
        settle().await;
    }
    panic!("timed out waiting for {what}");
}

/// Steps after the username load their flow on mount. Component tests have no API, so that
/// load ends in an error in the step's field; waiting for it keeps it from landing on top of
/// what the test does next.
async fn flow_load_failed(root: &HtmlElement, error: &str) {
    until("the flow load to finish", || {
        root.query_selector(error)
            .unwrap()
            .and_then(|e| e.text_content())
            .is_some_and(|t| !t.is_empty())
    })
    .await;
}

/// Waits until the element's text satisfies `ok`, then returns it.
async fn text_when(root: &HtmlElement, selector: &str, ok: impl Fn(&str) -> bool) -> String {
    until(selector, || {
        root.query_selector(selector)
            .unwrap()
            .and_then(|e| e.text_content())
            .is_some_and(|t| ok(&t))
    })
    .await;
    find::<HtmlElement>(root, selector).text_content().unwrap()
}

fn find<T: JsCast>(root: &HtmlElement, selector: &str) -> T {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .unchecked_into()
}

fn type_into(input: &HtmlInputElement, text: &str) {
    input.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn landing_offers_the_member_login_and_explains_the_owner_path() {
    let (root, _app) = mount_at("/");
    settle().await;
    let link: HtmlElement = find(&root, "a.button.primary");
    assert_eq!(link.text_content().unwrap(), "Log in as an IAM Member");
    assert_eq!(link.get_attribute("href").unwrap(), "/login/organization");
    assert!(root.text_content().unwrap().contains("Organization Owner?"));
    root.remove();
}

#[wasm_bindgen_test]
async fn organization_step_focuses_its_field() {
    let (root, _app) = mount_at("/login/organization");
    settle().await;
    let input: HtmlInputElement = find(&root, "#organization");
    let active = document().active_element().unwrap();
    assert_eq!(active.id(), "organization");
    assert_eq!(input.get_attribute("autocomplete").unwrap(), "organization");
    root.remove();
}

#[wasm_bindgen_test]
async fn organization_step_refuses_empty_and_malformed_input_inline_without_sending() {
    let (root, _app) = mount_at("/login/organization");
    settle().await;
    let input: HtmlInputElement = find(&root, "#organization");
    let button: HtmlButtonElement = find(&root, "button[type=submit]");
    let error: HtmlElement = find(&root, "#organization-error");
    assert_eq!(error.get_attribute("role").unwrap(), "alert");
    assert_eq!(error.text_content().unwrap(), "");
    assert!(input.get_attribute("aria-invalid").is_none());

    button.click();
    settle().await;
    assert_eq!(
        error.text_content().unwrap(),
        "Enter your Organization ID or alias."
    );
    assert_eq!(input.get_attribute("aria-invalid").unwrap(), "true");
    assert_eq!(
        input.get_attribute("aria-describedby").unwrap(),
        "organization-error"
    );

    for malformed in [
        "Demo",
        "x",
        "not-a-uuid-at-all",
        "6f1c2a4e-8b3d-4c5e-9f60-7a8b9c0d1e2",
    ] {
        type_into(&input, malformed);
        button.click();
        settle().await;
        assert!(
            error
                .text_content()
                .unwrap()
                .contains("2 to 32 lower-case letters"),
            "input {malformed}"
        );
        // Nothing was sent: the button never showed the request in flight, and what the
        // member typed is still there to correct.
        assert_eq!(button.text_content().unwrap(), "Continue");
        assert_eq!(input.value(), malformed);
        assert_eq!(document().active_element().unwrap().id(), "organization");
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn username_step_without_an_organization_goes_back_to_the_organization_step() {
    let (root, _app) = mount_at("/login/username");
    settle().await;
    assert_eq!(
        web_sys::window().unwrap().location().pathname().unwrap(),
        "/login/organization"
    );
    assert!(root.query_selector("#organization").unwrap().is_some());
    root.remove();
}

#[wasm_bindgen_test]
async fn code_step_field_suits_one_time_codes_and_lists_the_help_in_order() {
    let (root, _app) = mount_at("/login/code?organization=demo&flow=f1");
    settle().await;
    let input: HtmlInputElement = find(&root, "#code");
    assert_eq!(input.get_attribute("inputmode").unwrap(), "numeric");
    assert_eq!(
        input.get_attribute("autocomplete").unwrap(),
        "one-time-code"
    );
    assert_eq!(document().active_element().unwrap().id(), "code");
    let items = root.query_selector_all("ol.help li").unwrap();
    let texts: Vec<String> = (0..items.length())
        .map(|i| items.item(i).unwrap().text_content().unwrap())
        .collect();
    assert_eq!(texts.len(), 4);
    assert!(texts[0].starts_with("Make sure you check your spam folder"));
    assert!(texts[1].contains("Resend email"));
    assert!(texts[2].starts_with("Contact an Organization administrator"));
    assert!(texts[3].contains("ask an administrator to contact the support"));
    root.remove();
}

#[wasm_bindgen_test]
async fn an_incomplete_code_is_refused_inline() {
    let (root, _app) = mount_at("/login/code?organization=demo&flow=f1");
    flow_load_failed(&root, "#code-error").await;
    let input: HtmlInputElement = find(&root, "#code");
    type_into(&input, "12 3");
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    button.click();
    let expected = "Enter the 6-digit code from the email.";
    text_when(&root, "#code-error", |t| t == expected).await;
    assert_eq!(input.value(), "12 3", "what was typed stays");
    root.remove();
}

#[wasm_bindgen_test]
async fn password_toggle_shows_and_hides_with_its_state_announced() {
    let (root, _app) = mount_at("/login/password?organization=demo&flow=f1");
    settle().await;
    let input: HtmlInputElement = find(&root, "#password");
    assert_eq!(input.type_(), "password");
    assert_eq!(
        input.get_attribute("autocomplete").unwrap(),
        "current-password"
    );
    let toggle: HtmlButtonElement = find(&root, "#toggle-password");
    assert_eq!(toggle.get_attribute("aria-pressed").unwrap(), "false");
    toggle.click();
    settle().await;
    assert_eq!(input.type_(), "text");
    assert_eq!(toggle.get_attribute("aria-pressed").unwrap(), "true");
    toggle.click();
    settle().await;
    assert_eq!(input.type_(), "password");
    root.remove();
}

#[wasm_bindgen_test]
async fn second_factor_switches_between_authenticator_and_recovery_code() {
    let (root, _app) = mount_at("/login/second-factor?organization=demo&flow=f1");
    flow_load_failed(&root, "#second-factor-error").await;
    let input: HtmlInputElement = find(&root, "#second-factor");
    assert_eq!(input.get_attribute("inputmode").unwrap(), "numeric");
    let switch: HtmlButtonElement = find(&root, "#switch-factor");
    switch.click();
    settle().await;
    assert_eq!(input.get_attribute("inputmode").unwrap(), "text");
    let label: HtmlElement = find(&root, "label[for=second-factor]");
    assert_eq!(label.text_content().unwrap(), "Recovery code");
    type_into(&input, "abc");
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    button.click();
    text_when(&root, "#second-factor-error", |t| {
        t.contains("recovery codes")
    })
    .await;
    root.remove();
}

fn parsed(json: &str) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
fn api_answers_read_from_the_browsers_json_parser_keep_every_field() {
    use member_login::js_de::from_js;
    use member_login_api::flow::{Flow, FlowMessage, FlowState};
    use member_login_api::{Problem, ProblemCode};

    let flow: Flow = from_js(parsed(
        r#"{"id":"f1","state":"email_code","expires_at":1700000600,"now":1700000000,
            "organization":{"id":"0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30","alias":"demo",
                            "name":"Demo","login_methods":["email_code","password"]},
            "username":"alex","code":{"length":6,"expires_at":1700000600,"attempts_left":5,
                                      "resend_available_at":1700000030},
            "messages":["code_sent","a_message_from_a_newer_server"]}"#,
    ))
    .expect("a whole flow");
    assert_eq!(flow.state, FlowState::EmailCode);
    assert_eq!(flow.organization.alias, "demo");
    assert_eq!(flow.username.as_deref(), Some("alex"));
    assert_eq!(
        flow.code.as_ref().map(|c| c.resend_available_at),
        Some(1700000030)
    );
    assert_eq!(
        flow.messages,
        [FlowMessage::CodeSent, FlowMessage::Unknown],
        "ids this version does not know are kept as Unknown"
    );

    // Optional fields may be absent or null; the type defaults to about:blank.
    let problem: Problem = from_js(parsed(
        r#"{"title":"Slow down","status":429,"code":"rate_limited","retry_after":30,"detail":null}"#,
    ))
    .expect("a problem document");
    assert_eq!(problem.code, ProblemCode::RateLimited);
    assert_eq!(problem.retry_after, Some(30));
    assert_eq!(problem.kind, "about:blank");
    assert_eq!(problem.detail, None);
    let newer: Problem = from_js(parsed(
        r#"{"title":"?","status":400,"code":"from_the_future"}"#,
    ))
    .unwrap();
    assert_eq!(newer.code, ProblemCode::Unknown);

    // What does not fit is no value at all: wrong types, out-of-range or fractional numbers,
    // missing required fields, something that is not JSON's shape of the type.
    for wrong in [
        r#"{"title":"x","status":"429","code":"rate_limited"}"#,
        r#"{"title":"x","status":70000,"code":"rate_limited"}"#,
        r#"{"title":"x","status":429.5,"code":"rate_limited"}"#,
        r#"{"title":"x","code":"rate_limited"}"#,
        r#"["x",429,"rate_limited"]"#,
        r#"null"#,
    ] {
        assert!(from_js::<Problem>(parsed(wrong)).is_none(), "{wrong}");
    }
}

/// The serde reader the plain readers replaced, to hold them to it.
#[path = "web/serde_reader.rs"]
mod serde_reader;

/// `json` and variants of it: each field (at any depth, array items too) left out, and set to
/// each of a range of values of other types, out of range, fractional, unknown names.
fn variants_of(json: &str) -> Vec<String> {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsValue;

    fn paths(value: &JsValue, at: &mut Vec<JsValue>, out: &mut Vec<Vec<JsValue>>) {
        let keys: Vec<JsValue> = if Array::is_array(value) {
            (0..value.unchecked_ref::<Array>().length())
                .map(JsValue::from)
                .collect()
        } else if value.is_object() {
            Object::keys(value.unchecked_ref::<Object>())
                .iter()
                .collect()
        } else {
            return;
        };
        for key in keys {
            at.push(key.clone());
            out.push(at.clone());
            paths(&Reflect::get(value, &key).unwrap(), at, out);
            at.pop();
        }
    }
    let mut all = Vec::new();
    paths(&parsed(json), &mut Vec::new(), &mut all);
    let stringify = |v: &JsValue| String::from(js_sys::JSON::stringify(v).unwrap());
    let mut out = vec![json.to_owned()];
    for path in all {
        let (last, parents) = path.split_last().unwrap();
        let with = |change: &dyn Fn(&JsValue)| {
            let root = parsed(json);
            let parent = parents
                .iter()
                .fold(root.clone(), |v, key| Reflect::get(&v, key).unwrap());
            change(&parent);
            stringify(&root)
        };
        out.push(with(&|parent| {
            if Array::is_array(parent) {
                let items = parent.unchecked_ref::<Array>();
                let i = last.as_f64().unwrap() as i32;
                items.copy_within(i, i + 1, items.length() as i32);
                items.pop();
            } else {
                Reflect::delete_property(parent.unchecked_ref::<Object>(), last).unwrap();
            }
        }));
        for other in [
            "null",
            r#""x""#,
            r#""unknown_name""#,
            r#""7""#,
            "true",
            "0",
            "-0",
            "-1",
            "1.5",
            "255",
            "256",
            "65536",
            "9007199254740991",
            "9007199254740992",
            "-9007199254740992",
            "1e20",
            "[]",
            r#"["x"]"#,
            "{}",
        ] {
            out.push(with(&|parent| {
                Reflect::set(parent, last, &parsed(other)).unwrap();
            }));
        }
    }
    out
}

/// The plain reader of `T` and the serde one agree on `json` and all its variants.
fn reads_as_serde_did<T>(json: &str) -> usize
where
    T: member_login::js_de::FromJs + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let variants = variants_of(json);
    let mut read = 0;
    for text in &variants {
        let plain = member_login::js_de::from_js::<T>(parsed(text));
        let serde = serde_reader::serde_from_js::<T>(parsed(text));
        assert_eq!(plain, serde, "{text}");
        read += usize::from(plain.is_some());
    }
    assert!(
        read > 0 && read < variants.len(),
        "{json}: {read} of {}",
        variants.len()
    );
    variants.len()
}

const FULL_ORGANIZATION: &str = r##"{"id":"0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30","alias":"demo",
    "name":"Demo","login_methods":["email_code","password","passkey"],
    "logo_url":"https://cdn.example/logo.svg","accent_color":"#0b5fff",
    "return_urls":["https://console.example/"],"console_url":"https://console.example/home"}"##;

fn full_flow_json() -> String {
    format!(
        r#"{{"id":"f1","state":"second_factor","expires_at":1700000600,"now":1700000000,
            "organization":{FULL_ORGANIZATION},"username":"alex",
            "code":{{"length":6,"expires_at":1700000600,"attempts_left":5,
                     "resend_available_at":1700000030}},
            "messages":["code_sent","flow_restarted","code_already_sent"],
            "second_factors":["passkey","totp","recovery_code"],"from_a_newer_server":1}}"#
    )
}

#[wasm_bindgen_test]
fn every_answer_is_read_as_the_serde_reader_read_it() {
    use member_login_api::flow::Flow;
    use member_login_api::passkey::{Passkey, Passkeys};
    use member_login_api::session::{MfaEnrollment, RecoveryCodes, Session};
    use member_login_api::{Organization, Problem};

    let flow = full_flow_json();
    let mut variants = reads_as_serde_did::<Organization>(FULL_ORGANIZATION);
    variants += reads_as_serde_did::<Flow>(&flow);
    variants += reads_as_serde_did::<Problem>(&format!(
        r#"{{"type":"about:blank","title":"Expired","status":410,"code":"flow_expired",
            "detail":"d","retry_after":30,"attempts_left":2,
            "rules":["too_short","too_long","common","contains_username","too_guessable"],
            "replacement":{flow}}}"#
    ));
    variants += reads_as_serde_did::<Session>(&format!(
        r#"{{"member":{{"username":"alex","email":"alex@example.com"}},
            "organization":{FULL_ORGANIZATION},"expires_at":1700003600,"now":1700000000,
            "requirements":[{{"kind":"update_password","deadline":1700259200}},
                            {{"kind":"enable_mfa","deadline":1700259200}}]}}"#
    ));
    variants += reads_as_serde_did::<Passkeys>(
        r#"{"passkeys":[{"id":"p1","name":"Laptop","created_at":1700000000,
            "last_used_at":1700000100,"synced":true},
            {"id":"p2","name":"Key","created_at":1700000000}]}"#,
    );
    variants += reads_as_serde_did::<Passkey>(
        r#"{"id":"p1","name":"Laptop","created_at":1700000000,"last_used_at":null,"synced":false}"#,
    );
    variants += reads_as_serde_did::<MfaEnrollment>(
        r#"{"secret":"JBSWY3DPEHPK3PXP","otpauth_uri":"otpauth://totp/Demo:alex?secret=JBSWY3DPEHPK3PXP"}"#,
    );
    variants += reads_as_serde_did::<RecoveryCodes>(
        r#"{"recovery_codes":["abcd-efgh-ijkl","mnop-qrst-uvwx"]}"#,
    );
    assert!(variants > 2000, "{variants} variants");

    // What is not an object does not fit, as before.
    for wrong in ["null", "true", "1", r#""flow""#, "[]", "{}"] {
        assert_eq!(
            member_login::js_de::from_js::<Flow>(parsed(wrong)),
            None,
            "{wrong}"
        );
        assert_eq!(serde_reader::serde_from_js::<Flow>(parsed(wrong)), None);
    }
    // The one difference: serde also took a struct written as an array of its fields in order,
    // which no API answer is; the plain readers take only objects.
    let as_array = r#"["about:blank","Expired",410,"flow_expired"]"#;
    assert!(serde_reader::serde_from_js::<Problem>(parsed(as_array)).is_some());
    assert_eq!(
        member_login::js_de::from_js::<Problem>(parsed(as_array)),
        None
    );
}

#[wasm_bindgen_test]
fn answers_keep_what_the_contract_says_of_absent_fields_and_unknown_names() {
    use member_login::js_de::from_js;
    use member_login_api::flow::{Flow, FlowState, SecondFactorMethod};
    use member_login_api::passkey::Passkey;
    use member_login_api::session::{PasswordRule, RequirementKind, Session};
    use member_login_api::{LoginMethod, Organization, Problem, ProblemCode};

    // Absent optional fields and defaulted lists.
    let organization: Organization = from_js(parsed(
        r#"{"id":"o","alias":"demo","name":"Demo","login_methods":["email_code","sms"]}"#,
    ))
    .unwrap();
    assert_eq!(
        organization.login_methods,
        [LoginMethod::EmailCode, LoginMethod::Unknown]
    );
    assert_eq!(organization.logo_url, None);
    assert!(organization.return_urls.is_empty());
    assert_eq!(organization.console_url, None);
    // A required list is required; a defaulted one may be absent but is no list when null.
    assert_eq!(
        from_js::<Organization>(parsed(r#"{"id":"o","alias":"demo","name":"Demo"}"#)),
        None
    );
    assert_eq!(
        from_js::<Organization>(parsed(
            r#"{"id":"o","alias":"demo","name":"Demo","login_methods":[],"return_urls":null}"#
        )),
        None
    );

    // A problem whose flow expired names its replacement, read whole.
    let problem: Problem = from_js(parsed(&format!(
        r#"{{"title":"Expired","status":410,"code":"flow_expired","replacement":{}}}"#,
        full_flow_json()
    )))
    .unwrap();
    let replacement = problem.replacement.expect("the replacement flow");
    assert_eq!(replacement.state, FlowState::SecondFactor);
    assert_eq!(replacement.organization.alias, "demo");
    assert_eq!(
        replacement.second_factors,
        [
            SecondFactorMethod::Passkey,
            SecondFactorMethod::Totp,
            SecondFactorMethod::RecoveryCode
        ]
    );
    // A replacement that is no flow makes the whole problem unreadable.
    assert_eq!(
        from_js::<Problem>(parsed(
            r#"{"title":"Expired","status":410,"code":"flow_expired","replacement":{"id":"f2"}}"#
        )),
        None
    );
    let rules: Problem = from_js(parsed(
        r#"{"title":"Weak","status":400,"code":"password_rejected","rules":["common","longer_please"]}"#,
    ))
    .unwrap();
    assert_eq!(rules.code, ProblemCode::PasswordRejected);
    assert_eq!(rules.rules, [PasswordRule::Common, PasswordRule::Unknown]);
    assert_eq!(rules.replacement, None);

    // Every problem code this version knows, by its name; a flow state it does not know is
    // no flow (FlowState has no Unknown).
    for code in ProblemCode::ALL {
        let name = serde_json::to_value(code).unwrap();
        let json = format!(r#"{{"title":"t","status":400,"code":{name}}}"#);
        assert_eq!(
            from_js::<Problem>(parsed(&json)).unwrap().code,
            code,
            "{json}"
        );
    }
    let flow = full_flow_json().replace(r#""second_factor""#, r#""a_newer_state""#);
    assert_eq!(from_js::<Flow>(parsed(&flow)), None);

    // Sessions without requirements, with one of a kind this version does not know.
    let session = |requirements: &str| {
        from_js::<Session>(parsed(&format!(
            r#"{{"member":{{"username":"alex","email":"a@example.com"}},
                "organization":{FULL_ORGANIZATION},"expires_at":2,"now":1{requirements}}}"#
        )))
    };
    assert!(session("").unwrap().requirements.is_empty());
    assert_eq!(
        session(r#","requirements":[{"kind":"use_a_yubikey","deadline":5}]"#)
            .unwrap()
            .requirements[0]
            .kind,
        RequirementKind::Unknown
    );
    assert_eq!(session(r#","requirements":null"#), None);

    // A passkey never used, not synced unless it says so.
    let passkey: Passkey =
        from_js(parsed(r#"{"id":"p","name":"Key","created_at":1700000000}"#)).unwrap();
    assert_eq!(passkey.last_used_at, None);
    assert!(!passkey.synced);
}

#[wasm_bindgen_test]
fn config_json_is_read_as_before_every_field_optional() {
    use member_login::api_client::RuntimeConfig;
    use member_login::js_de::from_js;

    #[derive(serde::Deserialize)]
    struct AsBefore {
        #[serde(default)]
        api_base: String,
        #[serde(default)]
        console_url: Option<String>,
        #[serde(default)]
        return_urls: Vec<String>,
    }
    let full = r#"{"api_base":"https://api.example/","console_url":"https://console.example/",
                   "return_urls":["https://apps.example/"],"unknown":true}"#;
    for text in variants_of(full) {
        let plain = from_js::<RuntimeConfig>(parsed(&text));
        let serde = serde_reader::serde_from_js::<AsBefore>(parsed(&text)).map(|c| RuntimeConfig {
            api_base: c.api_base,
            console_url: c.console_url,
            return_urls: c.return_urls,
        });
        assert_eq!(plain, serde, "{text}");
    }
    assert_eq!(
        from_js::<RuntimeConfig>(parsed("{}")),
        Some(RuntimeConfig::default())
    );
    assert_eq!(from_js::<RuntimeConfig>(parsed("null")), None);
}

#[wasm_bindgen_test]
fn request_bodies_are_the_text_serde_wrote() {
    use member_login::api_client::{request_json, RequestBody};
    use member_login_api::flow::{
        CreateFlow, SubmitPassword, SubmitSecondFactor, SubmitUsername, VerifyCode,
    };
    use member_login_api::passkey::RenamePasskey;
    use member_login_api::session::{ChangePassword, VerifyMfa};
    use serde::Serialize;

    fn same(body: &(impl RequestBody + Serialize)) {
        let value = body
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .unwrap();
        let serde = String::from(js_sys::JSON::stringify(&value).unwrap());
        let plain = String::from(request_json(body).unwrap());
        assert_eq!(plain, serde);
        assert_eq!(plain, serde_json::to_string(body).unwrap());
    }
    for text in [
        "",
        "alex",
        "Zoë O'Brien \"the\" \\ / \u{1F511} \u{2028}",
        "tab\tnew\nline\u{1}",
    ] {
        let t = || text.to_owned();
        for (username, language) in [(None, None), (Some(t()), None), (Some(t()), Some(t()))] {
            same(&CreateFlow {
                organization: t(),
                username: username.clone(),
                language: language.clone(),
            });
            same(&CreateFlow {
                organization: t(),
                username: None,
                language,
            });
        }
        same(&SubmitUsername { username: t() });
        same(&VerifyCode { code: t() });
        same(&SubmitPassword { password: t() });
        same(&SubmitSecondFactor::Totp { code: t() });
        same(&SubmitSecondFactor::RecoveryCode { code: t() });
        same(&RenamePasskey { name: t() });
        same(&ChangePassword { new_password: t() });
        same(&VerifyMfa { code: t() });
    }
}

/// Answers the app's requests with canned responses while it lives: the first route with the
/// request's method and path, else 404 with no body (as with no API, and so no `config.json`:
/// the API is on the app's own origin). Component tests have no API server; the app calls the
/// browser's `window.fetch`, which this replaces. Every request is recorded (see [`calls`]).
struct FakeApi;

fn fake_api(routes: &[(&str, &str, u16, &str)]) -> FakeApi {
    let routes: js_sys::Array = routes
        .iter()
        .map(|&(method, path, status, body)| {
            js_sys::Array::of4(&method.into(), &path.into(), &status.into(), &body.into())
        })
        .collect();
    let install = js_sys::Function::new_with_args(
        "routes",
        r#"
        window.__realFetch = window.__realFetch || window.fetch;
        window.__calls = [];
        // gloo-net calls fetch(request); fetch(url, init) works too.
        window.fetch = async (input, init) => {
            const request = new Request(input, init);
            const { method } = request;
            const path = new URL(request.url).pathname;
            const sent = await request.text();
            window.__calls.push(`${method} ${path} ${sent}`.trim());
            const hit = routes.find(([m, p]) => m === method && p === path);
            const [, , status, body] = hit || [null, null, 404, null];
            const type = status < 300 ? 'application/json' : 'application/problem+json';
            const content = status === 204 ? null : body;
            return Promise.resolve(new Response(content, { status, headers: { 'content-type': type } }));
        };
        "#,
    );
    install
        .call1(&wasm_bindgen::JsValue::NULL, &routes)
        .unwrap();
    FakeApi
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        js_sys::Function::new_no_args("if (window.__realFetch) window.fetch = window.__realFetch;")
            .call0(&wasm_bindgen::JsValue::NULL)
            .unwrap();
    }
}

/// The requests the app made since the fake API was installed: "METHOD /path body".
fn calls() -> Vec<String> {
    let window = web_sys::window().unwrap();
    let calls = js_sys::Reflect::get(&window, &"__calls".into()).unwrap();
    js_sys::Array::from(&calls)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

const ORGANIZATION: &str = r#"{"id":"0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30","alias":"demo",
    "name":"Demo","login_methods":["email_code","password"]}"#;

fn session_json() -> String {
    format!(
        r#"{{"member":{{"username":"alex","email":"alex@example.com"}},
            "organization":{ORGANIZATION},"expires_at":1700086400,"now":1700000000,
            "requirements":[{{"kind":"update_password","deadline":1700259200}}]}}"#
    )
}

fn flow_json(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","state":"choose_method","expires_at":1700001800,"now":1700000000,
            "organization":{ORGANIZATION},"username":"alex"}}"#
    )
}

fn problem_json(status: u16, code: &str, extra: &str) -> String {
    format!(r#"{{"title":"t","status":{status},"code":"{code}"{extra}}}"#)
}

fn pathname() -> String {
    web_sys::window().unwrap().location().pathname().unwrap()
}

/// The item of the new-password checklist whose text contains `rule`.
fn rule_item(root: &HtmlElement, rule: &str) -> HtmlElement {
    let items = root.query_selector_all("#password-rules li").unwrap();
    (0..items.length())
        .map(|i| items.item(i).unwrap().unchecked_into::<HtmlElement>())
        .find(|li| li.text_content().unwrap().contains(rule))
        .unwrap_or_else(|| panic!("no rule {rule}"))
}

#[wasm_bindgen_test]
async fn a_password_change_needing_a_recent_login_keeps_what_was_typed_and_logs_in_again() {
    let session = session_json();
    let refused = problem_json(403, "reauthentication_required", "");
    let flow = flow_json("f2");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("POST", "/api/v1/session/password", 403, &refused),
        ("POST", "/api/v1/flows", 200, &flow),
    ]);
    let (root, _app) = mount_at("/account/password");
    let input: HtmlInputElement = find(&root, "#new-password-field");
    // The session has arrived once the checklist knows the username.
    type_into(&input, "alex is my new password");
    until("the session", || {
        rule_item(&root, "your username").class_name() == "rule unmet"
    })
    .await;
    type_into(&input, "correct horse battery staple");
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    button.click();

    let expected = "For your security, log in again to change your password.";
    text_when(&root, "#new-password-error", |t| t == expected).await;
    let error: HtmlElement = find(&root, "#new-password-error");
    assert_eq!(error.get_attribute("role").unwrap(), "alert");
    // Nothing typed needs changing: the field is not marked invalid.
    assert!(input.get_attribute("aria-invalid").is_none());
    assert_eq!(
        input.value(),
        "correct horse battery staple",
        "what was typed stays"
    );
    // One way forward, where the form's button was: the focus stays where it was, as with
    // every error.
    assert_eq!(button.text_content().unwrap(), "Log in again");
    assert_eq!(
        document().active_element().unwrap().id(),
        "new-password-field"
    );

    // It starts a login for the same Organization and username, at the method step: on the
    // login page.
    hold_page_loads();
    button.click();
    until("the login page", || !pages_opened().is_empty()).await;
    assert_eq!(
        pages_opened(),
        vec!["/login/method?organization=demo&flow=f2".to_owned()]
    );
    let calls = calls();
    assert!(
        calls.contains(
            &r#"POST /api/v1/flows {"organization":"demo","username":"alex","language":"en"}"#
                .into()
        ),
        "{calls:?}"
    );
    let changes = calls
        .iter()
        .filter(|c| c.starts_with("POST /api/v1/session/password"))
        .count();
    assert_eq!(
        changes, 1,
        "the button did not send the change again: {calls:?}"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn enabling_mfa_needing_a_recent_login_offers_to_log_in_again() {
    let session = session_json();
    let refused = problem_json(403, "reauthentication_required", "");
    let flow = flow_json("f3");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("POST", "/api/v1/session/mfa", 403, &refused),
        ("POST", "/api/v1/flows", 200, &flow),
    ]);
    let (root, _app) = mount_at("/account/mfa");
    let expected = "For your security, log in again to enable MFA.";
    text_when(&root, "#mfa-error", |t| t == expected).await;
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    assert_eq!(button.text_content().unwrap(), "Log in again");
    // Whom to log in: the session, asked for once the refusal came.
    until("the session", || {
        calls().iter().any(|c| c == "GET /api/v1/session")
    })
    .await;
    settle().await;
    hold_page_loads();
    button.click();
    until("the login page", || !pages_opened().is_empty()).await;
    assert!(pages_opened()[0].starts_with("/login/method?organization=demo&flow="));
    assert!(calls().contains(
        &r#"POST /api/v1/flows {"organization":"demo","username":"alex","language":"en"}"#.into()
    ));
    root.remove();
}

#[wasm_bindgen_test]
async fn enabling_mfa_tries_again_after_a_busy_server() {
    let busy = problem_json(503, "service_busy", r#","retry_after":5"#);
    let api = fake_api(&[("POST", "/api/v1/session/mfa", 503, &busy)]);
    let (root, _app) = mount_at("/account/mfa");
    let expected = "The service is busy. Please try again in a moment.";
    text_when(&root, "#mfa-error", |t| t == expected).await;
    // With no secret to verify a code against, the button asks for one again.
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    assert_eq!(button.text_content().unwrap(), "Continue");
    assert!(button.get_attribute("aria-disabled").is_none());
    drop(api);
    let enrollment = r#"{"secret":"JBSWY3DPEHPK3PXP",
        "otpauth_uri":"otpauth://totp/Demo:alex?secret=JBSWY3DPEHPK3PXP&issuer=Demo"}"#;
    let _api = fake_api(&[("POST", "/api/v1/session/mfa", 200, enrollment)]);
    button.click();
    text_when(&root, "#mfa-key", |t| t == "JBSW Y3DP EHPK 3PXP").await;
    assert_eq!(button.text_content().unwrap(), "Continue");
    assert_eq!(
        find::<HtmlElement>(&root, "#mfa-error")
            .text_content()
            .unwrap(),
        ""
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn the_password_checklist_shows_the_server_only_rules_it_refused() {
    let session = session_json();
    let refused = problem_json(400, "password_rejected", r#","rules":["too_guessable"]"#);
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("POST", "/api/v1/session/password", 400, &refused),
    ]);
    let (root, _app) = mount_at("/account/password");
    let guessable = "Not easy to guess";
    // Listed from the start like the common-password rule, which only the server checks too.
    assert_eq!(rule_item(&root, guessable).class_name(), "rule met");
    assert_eq!(
        rule_item(&root, "common or breached").class_name(),
        "rule met"
    );
    let input: HtmlInputElement = find(&root, "#new-password-field");
    type_into(&input, "qwertyuiop123456");
    find::<HtmlButtonElement>(&root, "form button[type=submit]").click();
    let expected = "Choose a password that meets every rule below.";
    text_when(&root, "#new-password-error", |t| t == expected).await;
    let item = rule_item(&root, guessable);
    assert_eq!(item.class_name(), "rule unmet");
    assert!(item.text_content().unwrap().contains("(not met)"));
    assert_eq!(
        rule_item(&root, "common or breached").class_name(),
        "rule met"
    );
    // Typing again clears what the server said until it checks again.
    type_into(&input, "qwertyuiop1234567");
    until("the rule to reset", || {
        rule_item(&root, guessable).class_name() == "rule met"
    })
    .await;
    root.remove();
}

/// The password step of flow f1 (loaded from the fake API), with a password typed and
/// submitted once; the API answers the submit with `status` and `body`.
async fn password_submitted(
    status: u16,
    body: &str,
) -> (
    FakeApi,
    HtmlElement,
    leptos::mount::UnmountHandle<impl Mountable>,
    HtmlInputElement,
    HtmlButtonElement,
) {
    let flow = flow_json("f1");
    let api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/password", status, body),
    ]);
    let (root, app) = mount_at("/login/password?organization=demo&flow=f1");
    text_when(&root, "#current-organization", |t| t == "Demo").await;
    let input: HtmlInputElement = find(&root, "#password");
    type_into(&input, "the right password");
    let button: HtmlButtonElement = find(&root, "form button[type=submit]");
    button.click();
    (api, root, app, input, button)
}

#[wasm_bindgen_test]
async fn a_lock_says_when_it_ends_or_that_an_administrator_must_unlock() {
    let locked = problem_json(403, "account_locked", r#","retry_after":900"#);
    let (api, root, _app, _input, button) = password_submitted(403, &locked).await;
    let expected =
        "Your account is locked for now after too many failed logins. Try again in 15 minutes.";
    text_when(&root, "#password-error", |t| t == expected).await;
    // A sentence, not a quarter of an hour of countdown with the button disabled.
    assert_eq!(
        find::<HtmlElement>(&root, ".countdown")
            .text_content()
            .unwrap(),
        ""
    );
    assert!(button.get_attribute("aria-disabled").is_none());
    assert_eq!(button.text_content().unwrap(), "Continue");

    drop(api);
    let locked = problem_json(403, "account_locked", "");
    let _api = fake_api(&[("POST", "/api/v1/flows/f1/password", 403, &locked)]);
    button.click();
    let expected =
        "Your account is locked. Contact an administrator of your Organization to unlock it.";
    text_when(&root, "#password-error", |t| t == expected).await;
    root.remove();
}

#[wasm_bindgen_test]
async fn a_busy_server_counts_down_then_lets_the_member_try_again() {
    let busy = problem_json(503, "service_busy", r#","retry_after":2"#);
    let (api, root, _app, input, button) = password_submitted(503, &busy).await;
    let expected = "The service is busy right now. You can try again when the countdown ends.";
    text_when(&root, "#password-error", |t| t == expected).await;
    text_when(&root, ".countdown", |t| {
        t.starts_with("You can try again in")
    })
    .await;
    button.click();
    settle().await;
    let sent = |calls: Vec<String>| {
        calls
            .iter()
            .filter(|c| c.starts_with("POST /api/v1/flows/f1/password"))
            .count()
    };
    assert_eq!(sent(calls()), 1, "nothing is sent while counting down");

    text_when(&root, ".countdown", str::is_empty).await;
    drop(api);
    let wrong = problem_json(401, "invalid_credentials", "");
    let _api = fake_api(&[("POST", "/api/v1/flows/f1/password", 401, &wrong)]);
    button.click();
    let expected = "That did not work. Check what you entered and try again.";
    text_when(&root, "#password-error", |t| t == expected).await;
    assert_eq!(sent(calls()), 1, "tried again once the countdown ended");
    assert_eq!(input.value(), "the right password");
    root.remove();
}

/// A flow at the code step; a new code may be asked for `resend_in` seconds after its `now`.
fn code_flow_json(id: &str, resend_in: i64, messages: &str) -> String {
    let resend_at = 1700000000 + resend_in;
    format!(
        r#"{{"id":"{id}","state":"email_code","expires_at":1700001800,"now":1700000000,
            "organization":{ORGANIZATION},"username":"alex",
            "code":{{"length":6,"expires_at":1700000600,"attempts_left":5,
                "resend_available_at":{resend_at}}},
            "messages":[{messages}]}}"#
    )
}

#[wasm_bindgen_test]
async fn send_code_while_a_code_is_on_its_way_goes_to_the_code_step_and_says_so() {
    let flow = flow_json("f1");
    let already = code_flow_json("f1", 25, r#""code_already_sent""#);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/code", 200, &already),
    ]);
    let (root, _app) = mount_at("/login/method?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    find::<HtmlButtonElement>(&root, "#send-code").click();
    until("the code step", || pathname() == "/login/code").await;
    let expected = "If this username is registered, we already sent a code to its email address, \
        and it is still valid. You can ask for a new one when \"Resend email\" is available.";
    let status = text_when(&root, "p.status", |t| t == expected).await;
    assert_eq!(status, expected);
    assert_eq!(
        find::<HtmlElement>(&root, "p.status")
            .get_attribute("role")
            .unwrap(),
        "status"
    );
    text_when(&root, "#resend-countdown", |t| t.contains("available in 2")).await;
    assert!(find::<HtmlButtonElement>(&root, "#resend").disabled());
    assert_eq!(
        find::<HtmlElement>(&root, "#code-error")
            .text_content()
            .unwrap(),
        ""
    );
    assert!(!root.text_content().unwrap().contains("Too many attempts"));
    root.remove();
}

#[wasm_bindgen_test]
async fn a_resend_cooldown_from_another_flow_counts_down_as_a_cooldown_not_a_rate_limit() {
    let flow = flow_json("f1");
    let cooldown = problem_json(429, "resend_cooldown", r#","retry_after":25"#);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/code", 429, &cooldown),
    ]);
    let (root, _app) = mount_at("/login/method?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    find::<HtmlButtonElement>(&root, "#send-code").click();
    let expected = "A code was asked for this username a moment ago. \
        You can ask for a new one when the countdown ends.";
    text_when(&root, "#method-error", |t| t == expected).await;
    text_when(&root, ".countdown", |t| {
        t.starts_with("You can try again in 2")
    })
    .await;
    assert!(!root.text_content().unwrap().contains("Too many attempts"));
    assert_eq!(pathname(), "/login/method");
    root.remove();
}

#[wasm_bindgen_test]
async fn a_resend_is_announced_and_the_focus_returns_to_the_code_field() {
    let flow = code_flow_json("f1", 0, r#""code_sent""#);
    let resent = code_flow_json("f1", 60, r#""code_sent""#);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/code", 200, &resent),
    ]);
    let (root, _app) = mount_at("/login/code?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    let sent = "If this username is registered, we sent a code to its email address. \
        It is valid for 10 minutes.";
    text_when(&root, "p.status", |t| t == sent).await;
    let resend: HtmlButtonElement = find(&root, "#resend");
    until("resend to be available", || !resend.disabled()).await;
    resend.focus().unwrap();
    resend.click();
    let expected = "If this username is registered, we sent a new code to its email address. \
        It is valid for 10 minutes.";
    text_when(&root, "p.status", |t| t == expected).await;
    assert_eq!(
        find::<HtmlElement>(&root, "p.status")
            .get_attribute("role")
            .unwrap(),
        "status"
    );
    until("the new cooldown", || resend.disabled()).await;
    settle().await;
    assert_eq!(document().active_element().unwrap().id(), "code");
    root.remove();
}

/// Holds every request of the fake API until [`release_api`].
fn hold_api() {
    js_sys::Function::new_no_args(
        "const inner = window.fetch;
         window.__held = new Promise(resolve => { window.__release = resolve; });
         window.fetch = async (...args) => { await window.__held; return inner(...args); };",
    )
    .call0(&wasm_bindgen::JsValue::NULL)
    .unwrap();
}

fn release_api() {
    js_sys::Function::new_no_args("window.__release();")
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_done_step_says_nothing_about_the_session_until_it_is_known() {
    let session = session_json();
    let _api = fake_api(&[("GET", "/api/v1/session", 200, &session)]);
    hold_api();
    let (root, _app) = mount_at("/login/done");
    settle().await;
    settle().await;
    let heading: HtmlElement = find(&root, "h1");
    assert_eq!(heading.text_content().unwrap(), "Checking your session…");
    assert_eq!(heading.get_attribute("aria-busy").unwrap(), "true");
    let text = root.text_content().unwrap();
    assert!(!text.contains("logged in"), "{text}");
    let logout: HtmlElement = find(&root, "#logout");
    assert!(logout.get_attribute("hidden").is_some(), "no Log out yet");

    release_api();
    text_when(&root, "h1", |t| t == "You are logged in").await;
    let heading: HtmlElement = find(&root, "h1");
    assert!(heading.get_attribute("aria-busy").is_none());
    settle().await;
    assert_eq!(
        document().active_element().unwrap().text_content().unwrap(),
        "You are logged in",
        "the heading, once known, has the focus"
    );
    assert!(find::<HtmlElement>(&root, "#logout")
        .get_attribute("hidden")
        .is_none());
    root.remove();
}

#[wasm_bindgen_test]
async fn the_done_step_without_a_session_never_says_logged_in() {
    let missing = problem_json(401, "unauthenticated", "");
    let _api = fake_api(&[("GET", "/api/v1/session", 401, &missing)]);
    hold_api();
    let (root, _app) = mount_at("/login/done");
    settle().await;
    assert_eq!(
        find::<HtmlElement>(&root, "h1").text_content().unwrap(),
        "Checking your session…"
    );
    release_api();
    text_when(&root, "h1", |t| t == "Not logged in").await;
    assert!(!root.text_content().unwrap().contains("You are logged in"));
    root.remove();
}

#[wasm_bindgen_test]
async fn change_to_the_same_username_while_a_code_is_on_its_way_keeps_the_flow_and_its_code() {
    let flow = code_flow_json("f1", 25, "");
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/username", 200, &flow),
    ]);
    let (root, _app) = mount_at("/login/code?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    // "Change" the username. (Going there as the link would: a click on a link can be taken
    // by the router of an earlier test's app.)
    let change: HtmlElement = find(&root, "a.change[href^='/login/username']");
    let href = change.get_attribute("href").unwrap();
    let window = web_sys::window().unwrap();
    let history = window.history().unwrap();
    history
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&href))
        .unwrap();
    window
        .dispatch_event(&web_sys::Event::new("popstate").unwrap())
        .unwrap();
    text_when(&root, "h1", |t| t == "Enter your username").await;
    let input: HtmlInputElement = find(&root, "#username");
    type_into(&input, "Alex");
    find::<HtmlButtonElement>(&root, "form button[type=submit]").click();
    until("the code step", || pathname() == "/login/code").await;
    let calls = calls();
    assert!(
        calls.contains(&r#"POST /api/v1/flows/f1/username {"username":"Alex"}"#.into()),
        "{calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("POST /api/v1/flows ")),
        "no new flow: {calls:?}"
    );
    text_when(&root, "#resend-countdown", |t| t.contains("available in")).await;
    root.remove();
}

/// The 410 of an expired flow, carrying its replacement `replacement_id` at the method choice.
fn expired_json(replacement_id: &str) -> String {
    let replacement = flow_json(replacement_id);
    problem_json(
        410,
        "flow_expired",
        &format!(r#","replacement":{replacement}"#),
    )
}

fn search() -> String {
    web_sys::window().unwrap().location().search().unwrap()
}

#[wasm_bindgen_test]
async fn send_code_after_the_flow_expired_sends_it_in_one_press() {
    let flow = flow_json("f1");
    let expired = expired_json("f2");
    let sent = code_flow_json("f2", 30, r#""code_sent""#);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/code", 410, &expired),
        ("POST", "/api/v1/flows/f2/code", 200, &sent),
    ]);
    let (root, _app) = mount_at("/login/method?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    find::<HtmlButtonElement>(&root, "#send-code").click();
    until("the code step", || pathname() == "/login/code").await;
    assert!(search().contains("flow=f2"), "{}", search());
    text_when(&root, "p.status", |t| t.contains("we sent a code")).await;
    let calls = calls();
    assert!(
        calls.contains(&"POST /api/v1/flows/f2/code".into()),
        "{calls:?}"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn a_password_after_the_flow_expired_is_checked_in_one_press() {
    let flow = flow_json("f1");
    let expired = expired_json("f2");
    let wrong = problem_json(401, "invalid_credentials", "");
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/password", 410, &expired),
        ("POST", "/api/v1/flows/f2/password", 401, &wrong),
    ]);
    let (root, _app) = mount_at("/login/password?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    let input: HtmlInputElement = find(&root, "#password");
    type_into(&input, "a typed password");
    find::<HtmlButtonElement>(&root, "form button[type=submit]").click();
    // One press: the password went to the replacement flow, whose answer is shown.
    let expected = "That did not work. Check what you entered and try again.";
    text_when(&root, "#password-error", |t| t == expected).await;
    assert_eq!(
        calls().last().unwrap(),
        r#"POST /api/v1/flows/f2/password {"password":"a typed password"}"#
    );
    assert_eq!(pathname(), "/login/password");
    assert!(search().contains("flow=f2"), "{}", search());
    assert_eq!(input.value(), "a typed password");
    root.remove();
}

#[wasm_bindgen_test]
async fn a_code_after_the_flow_expired_asks_for_a_new_code() {
    let flow = code_flow_json("f1", 0, r#""code_sent""#);
    let expired = expired_json("f2");
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/f1", 200, &flow),
        ("POST", "/api/v1/flows/f1/code/verify", 410, &expired),
    ]);
    let (root, _app) = mount_at("/login/code?organization=demo&flow=f1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    type_into(&find::<HtmlInputElement>(&root, "#code"), "123456");
    until("the method step", || pathname() == "/login/method").await;
    let notice = text_when(&root, ".notice", |t| !t.is_empty()).await;
    assert_eq!(
        notice,
        "Your login took too long, so that code no longer works. Send a new code."
    );
    assert!(search().contains("flow=f2"), "{}", search());
    root.remove();
}

#[wasm_bindgen_test]
async fn an_email_link_opened_on_another_device_shows_the_code_and_logs_nothing_in() {
    let _api = fake_api(&[]);
    let (root, _app) = mount_at("/login/code?organization=demo&flow=elsewhere1&code=123456");
    let heading = text_when(&root, "h1", |t| !t.is_empty()).await;
    assert_eq!(heading, "Type this code where you started");
    assert_eq!(
        find::<HtmlElement>(&root, "#code-to-type")
            .text_content()
            .unwrap(),
        "123456"
    );
    until("the code to leave the address", || {
        !search().contains("code=")
    })
    .await;
    assert_eq!(search(), "?organization=demo&flow=elsewhere1");
    settle().await;
    assert!(
        calls().iter().all(|c| !c.starts_with("POST")),
        "{:?}",
        calls()
    );
    assert_eq!(document().active_element().unwrap().tag_name(), "H1");
    root.remove();
}

#[wasm_bindgen_test]
async fn an_email_link_opened_in_the_browser_that_asked_fills_the_code_and_leaves_no_trace() {
    let flow = flow_json("here1");
    let sent = code_flow_json("here1", 30, r#""code_sent""#);
    let wrong = problem_json(401, "invalid_credentials", r#","attempts_left":4"#);
    let api = fake_api(&[
        ("GET", "/api/v1/flows/here1", 200, &flow),
        ("POST", "/api/v1/flows/here1/code", 200, &sent),
    ]);
    // This browser asks for the code.
    let (root, app) = mount_at("/login/method?organization=demo&flow=here1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    find::<HtmlButtonElement>(&root, "#send-code").click();
    until("the code step", || pathname() == "/login/code").await;
    drop(app);
    root.remove();
    drop(api);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/here1", 200, &sent),
        ("POST", "/api/v1/flows/here1/code/verify", 401, &wrong),
    ]);
    // The email's link, opened here: the code is checked, and gone from the address.
    let (root, _app) = mount_at("/login/code?organization=demo&flow=here1&code=654321");
    until("the code to be checked", || {
        calls().contains(&r#"POST /api/v1/flows/here1/code/verify {"code":"654321"}"#.into())
    })
    .await;
    assert!(!search().contains("code="), "{}", search());
    text_when(&root, "#code-error", |t| t.contains("4 more")).await;
    root.remove();
}

#[wasm_bindgen_test]
async fn each_step_has_its_own_title() {
    let flow = flow_json("t1");
    let _api = fake_api(&[("GET", "/api/v1/flows/t1", 200, &flow)]);
    let (root, app) = mount_at("/login/method?organization=demo&flow=t1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    assert_eq!(document().title(), "Choose how to log in · Member Login");
    drop(app);
    root.remove();
    let (root, _app) = mount_at("/login/organization");
    settle().await;
    assert_eq!(document().title(), "Enter your Organization · Member Login");
    root.remove();
}

#[wasm_bindgen_test]
async fn after_log_out_the_focus_is_on_the_heading_of_the_page_shown() {
    let session = session_json();
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("DELETE", "/api/v1/session", 204, ""),
    ]);
    let (root, _app) = mount_at("/login/done");
    text_when(&root, "h1", |t| t == "You are logged in").await;
    find::<HtmlButtonElement>(&root, "#logout").click();
    until("the landing", || pathname() == "/").await;
    text_when(&root, ".notice", |t| t == "You are logged out.").await;
    settle().await;
    let active = document().active_element().unwrap();
    assert_eq!(active.tag_name(), "H1");
    assert_eq!(active.text_content().unwrap(), "Log in");
    root.remove();
}

#[wasm_bindgen_test]
async fn a_server_error_does_not_mark_what_was_typed_invalid_but_a_wrong_password_does() {
    let failed = problem_json(500, "internal", "");
    let (_api, root, _app, input, _button) = password_submitted(500, &failed).await;
    let expected = messages_internal();
    text_when(&root, "#password-error", |t| t == expected).await;
    assert!(input.get_attribute("aria-invalid").is_none());
    root.remove();
    let wrong = problem_json(401, "invalid_credentials", "");
    let (_api, root, _app, input, _button) = password_submitted(401, &wrong).await;
    text_when(&root, "#password-error", |t| {
        t.starts_with("That did not work")
    })
    .await;
    assert_eq!(input.get_attribute("aria-invalid").unwrap(), "true");
    root.remove();
}

fn messages_internal() -> String {
    member_login::messages::problem(
        &member_login::i18n::EN,
        member_login_api::ProblemCode::Internal,
    )
    .to_owned()
}

#[wasm_bindgen_test]
async fn a_direct_link_to_the_landing_goes_on_to_the_organization() {
    let organization = ORGANIZATION;
    let _api = fake_api(&[("GET", "/api/v1/organizations/demo", 200, organization)]);
    let (root, _app) = mount_at("/?organization=demo");
    until("the username step", || pathname() == "/login/username").await;
    text_when(&root, "#current-organization", |t| t == "Demo").await;
    root.remove();
}

/// Lays the app out as on a 320 px wide screen (a narrow phone, or 400 % zoom of a 1280 px
/// window), with the app's own stylesheet.
fn narrow(root: &HtmlElement) -> web_sys::Element {
    let style = document().create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../style/main.css")));
    root.append_child(&style).unwrap();
    root.style().set_property("width", "320px").unwrap();
    style
}

fn width(root: &HtmlElement, selector: &str) -> f64 {
    f64::from(find::<HtmlElement>(root, selector).offset_width())
}

#[wasm_bindgen_test]
async fn at_320_px_the_password_field_keeps_its_width() {
    let flow = flow_json("n1");
    let _api = fake_api(&[("GET", "/api/v1/flows/n1", 200, &flow)]);
    let (root, _app) = mount_at("/login/password?organization=demo&flow=n1");
    narrow(&root);
    text_when(&root, "#current-username", |t| t == "alex").await;
    let field = width(&root, "#password");
    let row = width(&root, ".password-row");
    assert!(field >= row - 1.0, "the field is {field} px of {row} px");
    assert!(width(&root, "#toggle-password") >= 24.0);
    root.remove();
}

#[wasm_bindgen_test]
async fn at_320_px_the_mfa_key_wraps_between_its_groups_and_one_step_is_no_list() {
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let enrollment = format!(
        r#"{{"secret":"{secret}","otpauth_uri":"otpauth://totp/Demo:alex?secret={secret}&issuer=Demo"}}"#
    );
    let _api = fake_api(&[("POST", "/api/v1/session/mfa", 200, &enrollment)]);
    let (root, _app) = mount_at("/account/mfa");
    narrow(&root);
    text_when(&root, "#mfa-key", |t| t.starts_with("JBSW Y3DP")).await;
    find::<HtmlElement>(&root, "details")
        .set_attribute("open", "")
        .unwrap();
    settle().await;
    // Each 4-character group lies on one line: its characters share one box.
    let lines_per_group = js_sys::Function::new_with_args(
        "key",
        "const text = key.firstChild; const out = [];
         for (let i = 0; i < text.length; i += 5) {
           const range = document.createRange();
           range.setStart(text, i); range.setEnd(text, Math.min(i + 4, text.length));
           const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
           out.push(tops.size);
         }
         return out;",
    )
    .call1(
        &wasm_bindgen::JsValue::NULL,
        &find::<HtmlElement>(&root, "#mfa-key"),
    )
    .unwrap();
    let lines: Vec<f64> = js_sys::Array::from(&lines_per_group)
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(lines, vec![1.0; 8], "lines per group");
    let key_height = find::<HtmlElement>(&root, "#mfa-key").offset_height();
    assert!(
        key_height > 30,
        "the key needed more than one line at 320 px"
    );
    let lists = root.query_selector_all("ol, ul").unwrap();
    for i in 0..lists.length() {
        let list: web_sys::Element = lists.item(i).unwrap().unchecked_into();
        assert!(
            list.child_element_count() > 1,
            "a list of one: {}",
            list.outer_html()
        );
    }
    root.remove();
}

/// A session whose Organization has `extra` fields (`,"console_url":…`) and `requirements`.
fn session_with(extra: &str, requirements: &str) -> String {
    let organization = ORGANIZATION.trim_end().trim_end_matches('}');
    format!(
        r#"{{"member":{{"username":"alex","email":"alex@example.com"}},
            "organization":{organization}{extra}}},"expires_at":1700086400,"now":1700000000,
            "requirements":[{requirements}]}}"#
    )
}

const HANDOFF: &str = r#","return_urls":["https://console.example/"],
    "console_url":"https://console.example/home""#;
const PENDING: &str = r#"{"kind":"update_password","deadline":1700259200}"#;

/// The done step, opened with `query`, once the hand-off is shown.
async fn done_with(
    query: &str,
    requirements: &str,
) -> (
    FakeApi,
    HtmlElement,
    leptos::mount::UnmountHandle<impl Mountable>,
) {
    member_login::device::keep_return_to(None);
    let session = session_with(HANDOFF, requirements);
    let api = fake_api(&[("GET", "/api/v1/session", 200, &session)]);
    let (root, app) = mount_at(&format!("/login/done{query}"));
    until("the hand-off", || {
        root.query_selector("#continue").unwrap().is_some()
    })
    .await;
    (api, root, app)
}

#[wasm_bindgen_test]
async fn after_login_an_allowed_return_to_is_where_the_console_link_goes() {
    let return_to = "https://console.example/projects/7?tab=keys";
    let encoded = String::from(js_sys::encode_uri_component(return_to));
    let (_api, root, _app) = done_with(&format!("?return_to={encoded}"), PENDING).await;
    let link: HtmlElement = find(&root, "#continue");
    assert_eq!(link.get_attribute("href").unwrap(), return_to);
    assert_eq!(link.text_content().unwrap(), "Continue to the console");
    // Requirements are pending: the checklist comes first, the console is the second choice.
    assert!(root
        .query_selector("#requirements-heading")
        .unwrap()
        .is_some());
    assert_eq!(link.class_name(), "button secondary");
    assert!(root.query_selector("#return-refused").unwrap().is_none());
    root.remove();
}

#[wasm_bindgen_test]
async fn after_login_a_hostile_return_to_is_refused_for_the_console() {
    for hostile in [
        "//evil.example",
        "https://evil.example@console.example/",
        "https://console.example@evil.example/",
        "https://console.example.evil.example/",
        "javascript:alert(1)",
    ] {
        let encoded = String::from(js_sys::encode_uri_component(hostile));
        let (api, root, app) = done_with(&format!("?return_to={encoded}"), "").await;
        let link: HtmlElement = find(&root, "#continue");
        assert_eq!(
            link.get_attribute("href").unwrap(),
            "https://console.example/home",
            "{hostile}"
        );
        assert!(root.query_selector("#return-refused").unwrap().is_some());
        drop(app);
        drop(api);
        root.remove();
    }
}

#[wasm_bindgen_test]
async fn with_every_requirement_met_the_done_step_says_all_done() {
    let (_api, root, _app) = done_with("", "").await;
    let all_done = text_when(&root, "#all-done", |t| !t.is_empty()).await;
    assert_eq!(
        all_done,
        "All done: your account meets your Organization's security requirements."
    );
    assert!(root
        .query_selector("#requirements-heading")
        .unwrap()
        .is_none());
    let link: HtmlElement = find(&root, "#continue");
    assert_eq!(link.class_name(), "button primary");
    assert_eq!(
        link.get_attribute("href").unwrap(),
        "https://console.example/home"
    );
    assert_eq!(
        find::<HtmlElement>(&root, "#logout").class_name(),
        "button secondary"
    );
    root.remove();
}

/// The username step for an Organization with `extra` fields, once it shows.
async fn username_step_for(
    extra: &str,
) -> (
    FakeApi,
    HtmlElement,
    leptos::mount::UnmountHandle<impl Mountable>,
) {
    let organization = format!("{}{extra}}}", ORGANIZATION.trim_end().trim_end_matches('}'));
    let api = fake_api(&[("GET", "/api/v1/organizations/demo", 200, &organization)]);
    let (root, app) = mount_at("/login/organization?organization=demo");
    until("the username step", || pathname() == "/login/username").await;
    text_when(&root, "#current-organization", |t| t == "Demo").await;
    (api, root, app)
}

fn card_style(root: &HtmlElement) -> String {
    find::<HtmlElement>(root, "main.card")
        .get_attribute("style")
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn an_organization_shows_its_logo_and_a_readable_accent_colour() {
    let (_api, root, _app) = username_step_for(
        r##","logo_url":"https://example.com/logo.png","accent_color":"#0b3d91""##,
    )
    .await;
    let logo: HtmlElement = find(&root, "img.org-logo");
    assert_eq!(
        logo.get_attribute("src").unwrap(),
        "https://example.com/logo.png"
    );
    assert_eq!(logo.get_attribute("alt").unwrap(), "");
    assert!(
        card_style(&root).contains("--org-accent: #0b3d91"),
        "{}",
        card_style(&root)
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn an_accent_colour_without_enough_contrast_falls_back_to_the_default() {
    let (_api, root, _app) = username_step_for(r##","accent_color":"#ffcc00""##).await;
    assert!(
        !card_style(&root).contains("--org-accent"),
        "{}",
        card_style(&root)
    );
    assert!(root.query_selector("img.org-logo").unwrap().is_none());
    root.remove();
}

use member_login::i18n::{Lang, EN, FR};

fn html_lang() -> String {
    document()
        .document_element()
        .unwrap()
        .get_attribute("lang")
        .unwrap_or_default()
}

/// The language switch's button for `lang`.
fn language_button(lang: Lang) -> HtmlButtonElement {
    document()
        .query_selector(&format!("nav.languages button[lang={}]", lang.code()))
        .unwrap()
        .unwrap()
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn switching_the_language_keeps_the_step_what_was_typed_and_the_focus() {
    let flow = flow_json("l1");
    let _api = fake_api(&[("GET", "/api/v1/flows/l1", 200, &flow)]);
    let (root, _app) = mount_at("/login/password?organization=demo&flow=l1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    let input: HtmlInputElement = find(&root, "#password");
    type_into(&input, "half a passw");
    assert_eq!(
        find::<HtmlElement>(&root, "h1").text_content().unwrap(),
        EN.password_heading()
    );

    let french = language_button(Lang::Fr);
    french.focus().unwrap();
    french.click();
    settle().await;
    // Every word follows, in place: the same step, what was typed, the focus on the switch.
    assert_eq!(
        find::<HtmlElement>(&root, "h1").text_content().unwrap(),
        FR.password_heading()
    );
    assert_eq!(
        find::<HtmlElement>(&root, "label[for=password]")
            .text_content()
            .unwrap(),
        FR.password_label()
    );
    assert_eq!(
        find::<HtmlElement>(&root, "button[type=submit]")
            .text_content()
            .unwrap(),
        FR.continue_button()
    );
    assert_eq!(html_lang(), "fr");
    assert_eq!(document().title(), FR.title_password());
    assert_eq!(input.value(), "half a passw");
    assert_eq!(pathname(), "/login/password");
    assert_eq!(
        document()
            .active_element()
            .unwrap()
            .get_attribute("lang")
            .unwrap(),
        "fr"
    );
    assert_eq!(french.get_attribute("aria-pressed").unwrap(), "true");
    assert_eq!(
        language_button(Lang::En)
            .get_attribute("aria-pressed")
            .unwrap(),
        "false"
    );
    // An error shown before the switch follows it too.
    find::<HtmlInputElement>(&root, "#password").set_value("");
    type_into(&input, "");
    find::<HtmlButtonElement>(&root, "button[type=submit]").click();
    text_when(&root, "#password-error", |t| t == FR.password_empty()).await;
    language_button(Lang::En).click();
    text_when(&root, "#password-error", |t| t == EN.password_empty()).await;
    assert_eq!(html_lang(), "en");
    root.remove();
}

#[wasm_bindgen_test]
async fn counts_and_countdowns_follow_the_language() {
    let flow = code_flow_json("l2", 30, r#""code_sent""#);
    let wrong = problem_json(401, "invalid_credentials", r#","attempts_left":1"#);
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/l2", 200, &flow),
        ("POST", "/api/v1/flows/l2/code/verify", 401, &wrong),
    ]);
    let (root, _app) = mount_at("/login/code?organization=demo&flow=l2");
    member_login::i18n::set_lang(Lang::Fr);
    text_when(&root, "#current-username", |t| t == "alex").await;
    text_when(&root, "#resend-countdown", |t| {
        t.contains("disponible dans")
    })
    .await;
    type_into(&find::<HtmlInputElement>(&root, "#code"), "111111");
    let expected = Lang::Fr.count(&FR.code_wrong(), 1);
    text_when(&root, "#code-error", |t| t == expected).await;
    assert_eq!(expected, "Ce code n'est pas le bon. Il vous reste 1 essai.");
    root.remove();
}

// --- passkeys ---------------------------------------------------------------------------------

/// An Organization that enables passkeys.
const PASSKEY_ORGANIZATION: &str = r#"{"id":"0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30","alias":"demo",
    "name":"Demo","login_methods":["email_code","password","passkey","a_method_from_the_future"]}"#;

/// A flow of the passkey Organization at `state`, with `extra` fields.
fn passkey_flow(id: &str, state: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","state":"{state}","expires_at":1700001800,"now":1700000000,
            "organization":{PASSKEY_ORGANIZATION}{extra}}}"#
    )
}

/// Login options as the API gives them: challenge "chal", and the credential "cred-1" allowed
/// when `allow` (the second factor).
fn login_options(allow: bool) -> String {
    let allowed = if allow {
        r#","allowCredentials":[{"type":"public-key","id":"Y3JlZC0x"}]"#
    } else {
        ""
    };
    format!(
        r#"{{"publicKey":{{"challenge":"Y2hhbA","rpId":"localhost","userVerification":"required"{allowed}}}}}"#
    )
}

/// Replaces `navigator.credentials` (and what the browser says of autofill) while it lives:
/// every call is recorded with its options' bytes decoded (see [`ceremonies`]). A prompt
/// answers with a made-up credential when `prompt` is "ok", else throws a DOMException of that
/// name; the autofill request waits until aborted, unless `autofill` is "pick" (the member
/// picks a passkey at once) or "fail" (the browser refuses it at once).
struct FakeAuthenticator;

fn fake_authenticator(prompt: &str, autofill_available: bool, autofill: &str) -> FakeAuthenticator {
    js_sys::Function::new_with_args(
        "prompt, available, autofill",
        r#"
        window.__ceremonies = [];
        const bytes = s => new TextEncoder().encode(s).buffer;
        const text = b => new TextDecoder().decode(b);
        const credential = kind => ({
          id: 'Y3JlZC0x', rawId: bytes('cred-1'), type: 'public-key',
          authenticatorAttachment: 'platform',
          getClientExtensionResults: () => ({}),
          response: kind === 'create'
            ? { clientDataJSON: bytes('client-c'), attestationObject: bytes('attested'),
                getTransports: () => ['internal'] }
            : { clientDataJSON: bytes('client-g'), authenticatorData: bytes('auth-data'),
                signature: bytes('signed'), userHandle: bytes('user-1') },
        });
        const answer = (kind, options) => {
          const pk = options.publicKey;
          window.__ceremonies.push({
            kind, mediation: options.mediation || 'prompt', challenge: text(pk.challenge),
            user: pk.user ? text(pk.user.id) : null,
            listed: (pk.allowCredentials || pk.excludeCredentials || []).map(c => text(c.id)),
            aborted: false,
          });
          const record = window.__ceremonies[window.__ceremonies.length - 1];
          if (options.mediation === 'conditional' && autofill === 'fail') {
            return Promise.reject(new DOMException('refused', 'SecurityError'));
          }
          if (options.mediation === 'conditional' && autofill !== 'pick') {
            return new Promise((_, reject) => options.signal.addEventListener('abort', () => {
              record.aborted = true;
              reject(new DOMException('aborted', 'AbortError'));
            }));
          }
          if (options.mediation === 'conditional' || prompt === 'ok') {
            return Promise.resolve(credential(kind));
          }
          return Promise.reject(new DOMException('refused', prompt));
        };
        Object.defineProperty(navigator, 'credentials', {
          configurable: true,
          value: { get: o => answer('get', o), create: o => answer('create', o) },
        });
        window.__realAutofill = window.__realAutofill
          || PublicKeyCredential.isConditionalMediationAvailable;
        PublicKeyCredential.isConditionalMediationAvailable = async () => available;
        "#,
    )
    .call3(
        &wasm_bindgen::JsValue::NULL,
        &prompt.into(),
        &autofill_available.into(),
        &autofill.into(),
    )
    .unwrap();
    FakeAuthenticator
}

impl Drop for FakeAuthenticator {
    fn drop(&mut self) {
        js_sys::Function::new_no_args(
            "delete navigator.credentials;
             if (window.__realAutofill) {
               PublicKeyCredential.isConditionalMediationAvailable = window.__realAutofill;
             }",
        )
        .call0(&wasm_bindgen::JsValue::NULL)
        .unwrap();
    }
}

/// The WebAuthn calls made since [`fake_authenticator`]: "kind mediation challenge listed-ids
/// user aborted".
fn ceremonies() -> Vec<String> {
    let window = web_sys::window().unwrap();
    let list = js_sys::Reflect::get(&window, &"__ceremonies".into()).unwrap();
    let field = |c: &wasm_bindgen::JsValue, name: &str| {
        let v = js_sys::Reflect::get(c, &name.into()).unwrap();
        if js_sys::Array::is_array(&v) {
            js_sys::Array::from(&v)
                .iter()
                .filter_map(|x| x.as_string())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            v.as_string()
                .or_else(|| {
                    v.as_bool()
                        .map(|b| if b { "aborted" } else { "live" }.into())
                })
                .unwrap_or_else(|| "-".into())
        }
    };
    js_sys::Array::from(&list)
        .iter()
        .map(|c| {
            [
                "kind",
                "mediation",
                "challenge",
                "listed",
                "user",
                "aborted",
            ]
            .map(|f| field(&c, f))
            .join(" ")
        })
        .collect()
}

/// The JSON body of the one call that starts with `start`.
fn body_of(start: &str) -> wasm_bindgen::JsValue {
    let calls = calls();
    let call = calls
        .iter()
        .find(|c| c.starts_with(start))
        .unwrap_or_else(|| panic!("no call {start}: {calls:?}"));
    js_sys::JSON::parse(call[start.len()..].trim()).unwrap()
}

/// `value`'s field at `path` ("response.clientDataJSON"), as text.
fn json_at(value: &wasm_bindgen::JsValue, path: &str) -> Option<String> {
    let mut v = value.clone();
    for name in path.split('.') {
        v = js_sys::Reflect::get(&v, &name.into()).ok()?;
    }
    v.as_string()
        .or_else(|| js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string()))
}

fn b64(text: &str) -> String {
    member_login::passkey::base64url_encode(text.as_bytes())
}

/// The username step of the passkey Organization, its API answering `routes` too.
async fn passkey_username_step(
    routes: &[(&str, &str, u16, &str)],
) -> (
    FakeApi,
    HtmlElement,
    leptos::mount::UnmountHandle<impl Mountable>,
) {
    let mut all = vec![(
        "GET",
        "/api/v1/organizations/demo",
        200,
        PASSKEY_ORGANIZATION,
    )];
    all.extend_from_slice(routes);
    let api = fake_api(&all);
    let (root, app) = mount_at("/login/username?organization=demo");
    text_when(&root, "#current-organization", |t| t == "Demo").await;
    (api, root, app)
}

#[wasm_bindgen_test]
async fn an_organization_with_passkeys_offers_them_in_autofill_and_by_button_with_no_username() {
    let username_flow = passkey_flow("p1", "username", "");
    let options = login_options(false);
    let complete = passkey_flow("p1", "complete", "");
    let _authenticator = fake_authenticator("ok", true, "wait");
    let (_api, root, _app) = passkey_username_step(&[
        ("POST", "/api/v1/flows", 200, &username_flow),
        ("POST", "/api/v1/flows/p1/passkey/options", 200, &options),
        ("POST", "/api/v1/flows/p1/passkey", 200, &complete),
    ])
    .await;
    let input: HtmlInputElement = find(&root, "#username");
    assert_eq!(
        input.get_attribute("autocomplete").unwrap(),
        "username webauthn"
    );
    // The autofill request waits for the member, on a flow with no username.
    until("the autofill request", || !ceremonies().is_empty()).await;
    assert_eq!(ceremonies(), ["get conditional chal  - live"]);
    assert!(
        calls().contains(&r#"POST /api/v1/flows {"organization":"demo","language":"en"}"#.into())
    );
    let button: HtmlButtonElement = find(&root, "#use-passkey");
    assert_eq!(button.text_content().unwrap(), "Use a passkey");
    assert_eq!(button.class_name(), "button secondary");
    assert_eq!(document().active_element().unwrap().id(), "username");

    // The button's prompt replaces the autofill request, and logs in.
    button.click();
    until("the done step", || pathname() == "/login/done").await;
    let made = ceremonies();
    assert_eq!(made[0], "get conditional chal  - aborted");
    assert_eq!(made[1], "get prompt chal  - live");
    let sent = body_of("POST /api/v1/flows/p1/passkey ");
    for (path, want) in [
        ("credential.id", "Y3JlZC0x".to_owned()),
        ("credential.rawId", b64("cred-1")),
        ("credential.type", "public-key".into()),
        ("credential.authenticatorAttachment", "platform".into()),
        ("credential.clientExtensionResults", "{}".into()),
        ("credential.response.clientDataJSON", b64("client-g")),
        ("credential.response.authenticatorData", b64("auth-data")),
        ("credential.response.signature", b64("signed")),
        ("credential.response.userHandle", b64("user-1")),
    ] {
        assert_eq!(json_at(&sent, path), Some(want), "{path}");
    }
    root.remove();
}

#[wasm_bindgen_test]
async fn leaving_the_username_step_ends_its_autofill_request() {
    let flow = passkey_flow("p6", "choose_method", r#","username":"alex""#);
    let options = login_options(false);
    let _authenticator = fake_authenticator("ok", true, "wait");
    let (_api, root, _app) = passkey_username_step(&[
        ("POST", "/api/v1/flows", 200, &flow),
        ("POST", "/api/v1/flows/p6/passkey/options", 200, &options),
    ])
    .await;
    until("the autofill request", || !ceremonies().is_empty()).await;
    type_into(&find(&root, "#username"), "alex");
    find::<HtmlButtonElement>(&root, "button[type=submit]").click();
    until("the method step", || pathname() == "/login/method").await;
    until("the autofill request to end", || {
        ceremonies() == ["get conditional chal  - aborted"]
    })
    .await;
    root.remove();
}

#[wasm_bindgen_test]
async fn a_passkey_picked_in_the_autofill_logs_in() {
    let username_flow = passkey_flow("p2", "username", "");
    let options = login_options(false);
    let complete = passkey_flow("p2", "complete", "");
    let _authenticator = fake_authenticator("NotAllowedError", true, "pick");
    // The member picks at once: the step may be gone before its Organization is seen.
    let _api = fake_api(&[
        (
            "GET",
            "/api/v1/organizations/demo",
            200,
            PASSKEY_ORGANIZATION,
        ),
        ("POST", "/api/v1/flows", 200, &username_flow),
        ("POST", "/api/v1/flows/p2/passkey/options", 200, &options),
        ("POST", "/api/v1/flows/p2/passkey", 200, &complete),
    ]);
    let (root, _app) = mount_at("/login/username?organization=demo");
    until("the done step", || pathname() == "/login/done").await;
    assert_eq!(ceremonies(), ["get conditional chal  - live"]);
    root.remove();
}

#[wasm_bindgen_test]
async fn an_autofill_request_the_browser_refuses_before_any_pick_goes_unsaid() {
    let username_flow = passkey_flow("p5", "username", "");
    let options = login_options(false);
    let _authenticator = fake_authenticator("ok", true, "fail");
    let (_api, root, _app) = passkey_username_step(&[
        ("POST", "/api/v1/flows", 200, &username_flow),
        ("POST", "/api/v1/flows/p5/passkey/options", 200, &options),
    ])
    .await;
    until("the autofill request", || !ceremonies().is_empty()).await;
    for _ in 0..10 {
        settle().await;
    }
    // Nothing was asked of the member: no error, and no retrying in a loop.
    assert_eq!(
        find::<HtmlElement>(&root, "#username-error")
            .text_content()
            .unwrap(),
        ""
    );
    assert_eq!(ceremonies().len(), 1, "{:?}", ceremonies());
    root.remove();
}

#[wasm_bindgen_test]
async fn without_autofill_or_with_an_organization_without_passkeys_none_is_asked_for() {
    let _authenticator = fake_authenticator("ok", false, "wait");
    let (_api, root, _app) = passkey_username_step(&[]).await;
    settle().await;
    // The button, but no autofill request: the browser offers none.
    assert!(root.query_selector("#use-passkey").unwrap().is_some());
    assert!(ceremonies().is_empty());
    assert!(
        !calls().iter().any(|c| c.starts_with("POST")),
        "{:?}",
        calls()
    );
    root.remove();

    // An Organization without passkeys: no button, a plain username field.
    let (_api, root, _app) = username_step_for("").await;
    settle().await;
    assert!(root.query_selector("#use-passkey").unwrap().is_none());
    let input: HtmlInputElement = find(&root, "#username");
    assert_eq!(input.get_attribute("autocomplete").unwrap(), "username");
    root.remove();
}

#[wasm_bindgen_test]
async fn the_method_step_offers_a_passkey_and_no_method_it_does_not_know() {
    let flow = passkey_flow("m1", "choose_method", r#","username":"alex""#);
    let options = login_options(false);
    let complete = passkey_flow("m1", "complete", r#","username":"alex""#);
    let _authenticator = fake_authenticator("ok", false, "wait");
    let _api = fake_api(&[
        ("GET", "/api/v1/flows/m1", 200, &flow),
        ("POST", "/api/v1/flows/m1/passkey/options", 200, &options),
        ("POST", "/api/v1/flows/m1/passkey", 200, &complete),
    ]);
    let (root, _app) = mount_at("/login/method?organization=demo&flow=m1");
    text_when(&root, "#current-username", |t| t == "alex").await;
    settle().await;
    let offered = root.query_selector_all(".methods .button").unwrap();
    let ids: Vec<String> = (0..offered.length())
        .map(|i| {
            offered
                .item(i)
                .unwrap()
                .unchecked_into::<HtmlElement>()
                .id()
        })
        .collect();
    // The Organization's methods in its order; the one this app does not know is left out.
    assert_eq!(ids, ["send-code", "enter-password", "use-passkey"]);
    assert_eq!(
        find::<HtmlButtonElement>(&root, "#use-passkey").class_name(),
        "button secondary"
    );

    // Any of the Organization's passkeys, on this flow: no new flow is started.
    find::<HtmlButtonElement>(&root, "#use-passkey").click();
    until("the done step", || pathname() == "/login/done").await;
    assert_eq!(ceremonies(), ["get prompt chal  - live"]);
    assert!(!calls().iter().any(|c| c.starts_with("POST /api/v1/flows ")));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_method_step_offers_no_passkey_where_the_browser_has_none() {
    let flow = passkey_flow("m2", "choose_method", r#","username":"alex""#);
    let _api = fake_api(&[("GET", "/api/v1/flows/m2", 200, &flow)]);
    js_sys::eval(
        "window.__pkc = window.PublicKeyCredential; window.PublicKeyCredential = undefined;",
    )
    .unwrap();
    let (root, _app) = mount_at("/login/method?organization=demo&flow=m2");
    text_when(&root, "#current-username", |t| t == "alex").await;
    settle().await;
    js_sys::eval("window.PublicKeyCredential = window.__pkc;").unwrap();
    assert!(root.query_selector("#use-passkey").unwrap().is_none());
    assert!(root.query_selector("#send-code").unwrap().is_some());
    root.remove();
}

#[wasm_bindgen_test]
async fn a_cancelled_prompt_or_no_passkey_here_is_said_and_the_username_stays_possible() {
    let username_flow = passkey_flow("p3", "username", "");
    let options = login_options(false);
    let _authenticator = fake_authenticator("NotAllowedError", false, "wait");
    let (_api, root, _app) = passkey_username_step(&[
        ("POST", "/api/v1/flows", 200, &username_flow),
        ("POST", "/api/v1/flows/p3/passkey/options", 200, &options),
    ])
    .await;
    find::<HtmlButtonElement>(&root, "#use-passkey").click();
    let said = text_when(&root, "#username-error", |t| !t.is_empty()).await;
    assert_eq!(said, EN.passkey_not_allowed());
    assert!(said.contains("cancelled") && said.contains("no passkey"));
    assert!(said.contains("log in another way"));
    // Nothing typed is to blame; the username path is as it was.
    let input: HtmlInputElement = find(&root, "#username");
    assert!(input.get_attribute("aria-invalid").is_none());
    assert_eq!(pathname(), "/login/username");
    // And in French.
    member_login::i18n::set_lang(Lang::Fr);
    text_when(&root, "#username-error", |t| t == FR.passkey_not_allowed()).await;
    root.remove();
}

#[wasm_bindgen_test]
async fn a_browser_without_webauthn_says_so_and_keeps_the_other_ways() {
    js_sys::eval(
        "window.__pkc = window.PublicKeyCredential; window.PublicKeyCredential = undefined;",
    )
    .unwrap();
    let (_api, root, _app) = passkey_username_step(&[]).await;
    let said = text_when(&root, "#passkey-unsupported", |t| !t.is_empty()).await;
    assert_eq!(said, EN.passkey_unsupported());
    assert!(root.query_selector("#use-passkey").unwrap().is_none());
    assert!(root.query_selector("#username").unwrap().is_some());
    assert!(root
        .query_selector("button[type=submit]")
        .unwrap()
        .is_some());
    js_sys::eval("window.PublicKeyCredential = window.__pkc;").unwrap();
    root.remove();
}

#[wasm_bindgen_test]
async fn each_passkey_refusal_of_the_server_is_said_in_words() {
    let username_flow = passkey_flow("p4", "username", "");
    let options = login_options(false);
    for (code, en, fr) in [
        (
            "passkey_not_recognized",
            EN.problem_passkey_not_recognized(),
            FR.problem_passkey_not_recognized(),
        ),
        (
            "passkey_of_another_organization",
            EN.problem_passkey_of_another_organization(),
            FR.problem_passkey_of_another_organization(),
        ),
        (
            "passkey_refused",
            EN.problem_passkey_refused(),
            FR.problem_passkey_refused(),
        ),
    ] {
        let refused = problem_json(401, code, "");
        let _authenticator = fake_authenticator("ok", false, "wait");
        let (_api, root, _app) = passkey_username_step(&[
            ("POST", "/api/v1/flows", 200, &username_flow),
            ("POST", "/api/v1/flows/p4/passkey/options", 200, &options),
            ("POST", "/api/v1/flows/p4/passkey", 401, &refused),
        ])
        .await;
        find::<HtmlButtonElement>(&root, "#use-passkey").click();
        text_when(&root, "#username-error", |t| t == en).await;
        member_login::i18n::set_lang(Lang::Fr);
        text_when(&root, "#username-error", |t| t == fr).await;
        assert_eq!(pathname(), "/login/username", "{code}");
        root.remove();
    }
}

/// Whether the element matching `selector` is out of sight (it or an ancestor `hidden`).
fn hidden(root: &HtmlElement, selector: &str) -> bool {
    find::<HtmlElement>(root, selector)
        .closest("[hidden]")
        .unwrap()
        .is_some()
}

/// The second-factor step of a flow offering `factors`.
async fn second_factor_offering(
    id: &str,
    factors: &str,
    routes: &[(&str, &str, u16, &str)],
) -> (
    FakeApi,
    HtmlElement,
    leptos::mount::UnmountHandle<impl Mountable>,
) {
    let flow = passkey_flow(
        id,
        "second_factor",
        &format!(r#","username":"alex","second_factors":[{factors}]"#),
    );
    let path = format!("/api/v1/flows/{id}");
    let mut all = vec![("GET", path.as_str(), 200, flow.as_str())];
    all.extend_from_slice(routes);
    let api = fake_api(&all);
    let (root, app) = mount_at(&format!("/login/second-factor?organization=demo&flow={id}"));
    text_when(&root, "#current-username", |t| t == "alex").await;
    settle().await;
    (api, root, app)
}

#[wasm_bindgen_test]
async fn the_second_factor_offers_a_passkey_first_and_logs_in_with_it() {
    let options = login_options(true);
    let complete = passkey_flow("s1", "complete", r#","username":"alex""#);
    let _authenticator = fake_authenticator("ok", true, "wait");
    let (_api, root, _app) = second_factor_offering(
        "s1",
        r#""passkey","totp","recovery_code""#,
        &[
            ("POST", "/api/v1/flows/s1/passkey/options", 200, &options),
            ("POST", "/api/v1/flows/s1/passkey", 200, &complete),
        ],
    )
    .await;
    // First, and with the focus; the authenticator app and recovery codes after it.
    let button: HtmlButtonElement = find(&root, "#use-passkey");
    assert_eq!(document().active_element().unwrap().id(), "use-passkey");
    let position = button.compare_document_position(&find::<HtmlElement>(&root, "#second-factor"));
    assert!(position & web_sys::Node::DOCUMENT_POSITION_FOLLOWING != 0);
    assert!(!hidden(&root, "#switch-factor"));
    // No autofill here: the passkey is asked for only when pressed, for this member's.
    assert!(ceremonies().is_empty());
    button.click();
    until("the done step", || pathname() == "/login/done").await;
    assert_eq!(ceremonies(), ["get prompt chal cred-1 - live"]);
    assert!(json_at(
        &body_of("POST /api/v1/flows/s1/passkey "),
        "credential.response.signature"
    )
    .is_some_and(|s| s == b64("signed")));
    root.remove();
}

#[wasm_bindgen_test]
async fn the_second_factor_shows_only_what_the_member_has() {
    let _authenticator = fake_authenticator("ok", false, "wait");
    // A passkey only: no code field.
    let (_api, root, _app) = second_factor_offering("s2", r#""passkey""#, &[]).await;
    assert!(root.query_selector("#use-passkey").unwrap().is_some());
    assert!(hidden(&root, "#second-factor"));
    assert!(hidden(&root, "button[type=submit]"));
    assert!(!hidden(&root, "#second-factor-error"));
    root.remove();
    // Recovery codes only: the field asks for one, with nothing to switch to.
    let (_api, root, _app) = second_factor_offering("s3", r#""recovery_code""#, &[]).await;
    assert!(root.query_selector("#use-passkey").unwrap().is_none());
    text_when(&root, "label[for=second-factor]", |t| t == "Recovery code").await;
    assert!(!hidden(&root, "#second-factor"));
    assert!(hidden(&root, "#switch-factor"));
    root.remove();
    // The authenticator app only, from a server that knows passkeys: no passkey button.
    let (_api, root, _app) = second_factor_offering("s4", r#""totp""#, &[]).await;
    assert!(root.query_selector("#use-passkey").unwrap().is_none());
    assert!(hidden(&root, "#switch-factor"));
    assert_eq!(document().active_element().unwrap().id(), "second-factor");
    root.remove();
}

/// A session of the passkey Organization with `requirements`.
fn passkey_session(requirements: &str) -> String {
    format!(
        r#"{{"member":{{"username":"alex","email":"alex@example.com"}},
            "organization":{PASSKEY_ORGANIZATION},"expires_at":1700086400,"now":1700000000,
            "requirements":[{requirements}]}}"#
    )
}

#[wasm_bindgen_test]
async fn the_done_step_leads_to_the_passkeys_and_a_passkey_meets_the_mfa_requirement() {
    let session = passkey_session(r#"{"kind":"enable_mfa","deadline":1700259200}"#);
    let _api = fake_api(&[("GET", "/api/v1/session", 200, &session)]);
    let (root, _app) = mount_at("/login/done");
    until("the checklist", || {
        root.query_selector("#mfa-passkey").unwrap().is_some()
    })
    .await;
    let instead: HtmlElement = find(&root, "#mfa-passkey");
    assert_eq!(instead.get_attribute("href").unwrap(), "/account/passkeys");
    assert_eq!(instead.get_attribute("rel").unwrap(), "external");
    assert_eq!(instead.text_content().unwrap(), "Add a passkey instead");
    let link: HtmlElement = find(&root, "#passkeys-link");
    assert_eq!(link.get_attribute("href").unwrap(), "/account/passkeys");
    root.remove();
}

const PASSKEY_LIST: &str = r#"{"passkeys":[
    {"id":"k1","name":"Phone","created_at":1699000000,"last_used_at":1699900000,"synced":true},
    {"id":"k2","name":"Office key","created_at":1699500000}]}"#;

fn creation_options() -> String {
    r#"{"publicKey":{"challenge":"Y2hhbA","rp":{"id":"localhost","name":"Member Login"},
        "user":{"id":"dTE","name":"alex","displayName":"alex"},
        "pubKeyCredParams":[{"type":"public-key","alg":-7}],
        "excludeCredentials":[{"type":"public-key","id":"Y3JlZC0x"}],
        "authenticatorSelection":{"residentKey":"required","userVerification":"required"}}}"#
        .into()
}

#[wasm_bindgen_test]
async fn the_passkeys_screen_lists_adds_renames_and_removes() {
    let session = passkey_session("");
    let options = creation_options();
    let added = r#"{"id":"k3","name":"Work laptop","created_at":1700000000}"#;
    let renamed = r#"{"id":"k1","name":"Old phone","created_at":1699000000,"synced":true}"#;
    let _authenticator = fake_authenticator("ok", false, "wait");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("GET", "/api/v1/session/passkeys", 200, PASSKEY_LIST),
        ("POST", "/api/v1/session/passkeys/options", 200, &options),
        ("POST", "/api/v1/session/passkeys", 201, added),
        ("PATCH", "/api/v1/session/passkeys/k1", 200, renamed),
        ("DELETE", "/api/v1/session/passkeys/k2", 204, ""),
    ]);
    let (root, _app) = mount_at("/account/passkeys");
    settle().await;
    assert_eq!(document().active_element().unwrap().tag_name(), "H1");
    until("the list", || {
        root.query_selector_all("li.passkey-item").unwrap().length() == 2
    })
    .await;
    let items = root.query_selector_all("li.passkey-item").unwrap();
    let first = items.item(0).unwrap().text_content().unwrap();
    assert!(first.starts_with("Phone"), "{first}");
    assert!(
        first.contains("Added ") && first.contains("last used "),
        "{first}"
    );
    assert!(first.contains(EN.passkey_synced()), "{first}");
    let second = items.item(1).unwrap().text_content().unwrap();
    assert!(second.contains("never used"), "{second}");
    assert!(!second.contains(EN.passkey_synced()), "{second}");
    assert_eq!(document().title(), EN.title_passkeys());

    // Add: a name, the browser's new passkey, and the list has it.
    let name: HtmlInputElement = find(&root, "#passkey-name");
    type_into(&name, "  Work laptop ");
    find::<HtmlButtonElement>(&root, "#add-passkey").click();
    text_when(&root, "#passkeys-status", |t| {
        t == r#"Passkey "Work laptop" added."#
    })
    .await;
    assert_eq!(
        root.query_selector_all("li.passkey-item").unwrap().length(),
        3
    );
    assert_eq!(name.value(), "");
    assert_eq!(ceremonies(), ["create prompt chal cred-1 u1 live"]);
    let sent = body_of("POST /api/v1/session/passkeys ");
    assert_eq!(json_at(&sent, "name").as_deref(), Some("Work laptop"));
    assert_eq!(
        json_at(&sent, "credential.response.attestationObject"),
        Some(b64("attested"))
    );
    assert_eq!(
        json_at(&sent, "credential.response.transports").as_deref(),
        Some(r#"["internal"]"#)
    );

    // Rename in place: the field has the name, is checked as typed, and the focus comes back.
    find::<HtmlButtonElement>(&root, "#rename-k1").click();
    until("the rename field", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "rename-field")
    })
    .await;
    let field: HtmlInputElement = find(&root, "#rename-field");
    assert_eq!(field.value(), "Phone");
    type_into(&field, &"x".repeat(65));
    text_when(&root, "#rename-error", |t| {
        t == EN.problem_invalid_passkey_name()
    })
    .await;
    assert_eq!(field.get_attribute("aria-invalid").as_deref(), Some("true"));
    type_into(&field, "Old phone");
    text_when(&root, "#rename-error", str::is_empty).await;
    assert!(field.get_attribute("aria-invalid").is_none());
    find::<HtmlButtonElement>(&root, "form.rename button[type=submit]").click();
    text_when(&root, "#passkeys-status", |t| {
        t == r#"Passkey renamed "Old phone"."#
    })
    .await;
    assert!(calls().contains(&r#"PATCH /api/v1/session/passkeys/k1 {"name":"Old phone"}"#.into()));
    until("the focus on Rename", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "rename-k1")
    })
    .await;

    // Remove, once confirmed.
    find::<HtmlButtonElement>(&root, "#remove-k2").click();
    until("the confirmation", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "confirm-remove")
    })
    .await;
    let question = find::<HtmlElement>(&root, "#confirm-text")
        .text_content()
        .unwrap();
    assert_eq!(
        question,
        r#"Remove "Office key"? You can no longer log in with it."#
    );
    find::<HtmlButtonElement>(&root, "#confirm-remove").click();
    text_when(&root, "#passkeys-status", |t| {
        t == r#"Passkey "Office key" removed."#
    })
    .await;
    assert_eq!(
        root.query_selector_all("li.passkey-item").unwrap().length(),
        2
    );
    assert!(calls().contains(&"DELETE /api/v1/session/passkeys/k2".into()));
    until("the focus on the list", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "passkeys-heading")
    })
    .await;
    root.remove();
}

#[wasm_bindgen_test]
async fn a_member_with_the_most_passkeys_is_told_to_remove_one_first() {
    let session = passkey_session("");
    let too_many = problem_json(409, "too_many_passkeys", "");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("GET", "/api/v1/session/passkeys", 200, PASSKEY_LIST),
        ("POST", "/api/v1/session/passkeys/options", 409, &too_many),
    ]);
    let _authenticator = fake_authenticator("ok", false, "wait");
    let (root, _app) = mount_at("/account/passkeys");
    let name: HtmlInputElement = find(&root, "#passkey-name");
    type_into(&name, "Work laptop");
    find::<HtmlButtonElement>(&root, "#add-passkey").click();
    let said = text_when(&root, "#passkey-name-error", |t| !t.is_empty()).await;
    assert_eq!(said, EN.problem_too_many_passkeys());
    // Nothing typed is to blame, and the browser was never asked.
    assert!(name.get_attribute("aria-invalid").is_none());
    assert!(ceremonies().is_empty());
    root.remove();
}

#[wasm_bindgen_test]
async fn adding_a_passkey_explains_each_refusal() {
    let session = passkey_session("");
    let options = creation_options();
    let bad_name = problem_json(400, "invalid_passkey_name", "");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("GET", "/api/v1/session/passkeys", 200, PASSKEY_LIST),
        ("POST", "/api/v1/session/passkeys/options", 200, &options),
        ("POST", "/api/v1/session/passkeys", 400, &bad_name),
    ]);
    let (root, _app) = mount_at("/account/passkeys");
    let name: HtmlInputElement = find(&root, "#passkey-name");
    let add: HtmlButtonElement = find(&root, "#add-passkey");
    // An empty name, and one checked as typed.
    add.click();
    text_when(&root, "#passkey-name-error", |t| {
        t == EN.problem_invalid_passkey_name()
    })
    .await;
    assert_eq!(name.get_attribute("aria-invalid").as_deref(), Some("true"));
    type_into(&name, "a\u{202E}b");
    text_when(&root, "#passkey-name-error", |t| {
        t == EN.problem_invalid_passkey_name()
    })
    .await;
    type_into(&name, "Work laptop");
    text_when(&root, "#passkey-name-error", |t| t.is_empty()).await;
    assert!(name.get_attribute("aria-invalid").is_none());

    for (prompt, said) in [
        ("InvalidStateError", EN.passkey_already_added()),
        ("NotAllowedError", EN.passkey_not_allowed_adding()),
        ("SecurityError", EN.passkey_failed_adding()),
        ("ok", EN.problem_invalid_passkey_name()),
    ] {
        let _authenticator = fake_authenticator(prompt, false, "wait");
        add.click();
        text_when(&root, "#passkey-name-error", |t| t == said).await;
        until("the button", || {
            add.get_attribute("aria-disabled").is_none()
        })
        .await;
        assert_eq!(add.text_content().unwrap(), "Add a passkey", "{prompt}");
    }
    // The server's refusal of the name marks the field; the browser's refusals do not.
    assert_eq!(name.get_attribute("aria-invalid").as_deref(), Some("true"));
    member_login::i18n::set_lang(Lang::Fr);
    text_when(&root, "#passkey-name-error", |t| {
        t == FR.problem_invalid_passkey_name()
    })
    .await;
    root.remove();
}

#[wasm_bindgen_test]
async fn adding_a_passkey_needing_a_recent_login_offers_to_log_in_again() {
    let session = passkey_session("");
    let refused = problem_json(403, "reauthentication_required", "");
    let flow = flow_json("f9");
    let _authenticator = fake_authenticator("ok", false, "wait");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("GET", "/api/v1/session/passkeys", 200, r#"{"passkeys":[]}"#),
        ("POST", "/api/v1/session/passkeys/options", 403, &refused),
        ("POST", "/api/v1/flows", 200, &flow),
    ]);
    let (root, _app) = mount_at("/account/passkeys");
    text_when(&root, "#no-passkeys", |t| t == EN.passkeys_none()).await;
    type_into(&find(&root, "#passkey-name"), "Work laptop");
    let add: HtmlButtonElement = find(&root, "#add-passkey");
    add.click();
    text_when(&root, "#passkey-name-error", |t| {
        t == EN.log_in_again_passkeys()
    })
    .await;
    assert_eq!(add.text_content().unwrap(), "Log in again");
    assert!(ceremonies().is_empty(), "no prompt without options");
    hold_page_loads();
    add.click();
    until("the login page", || !pages_opened().is_empty()).await;
    assert_eq!(
        pages_opened(),
        vec!["/login/method?organization=demo&flow=f9".to_owned()]
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn removing_a_passkey_needing_a_recent_login_leads_to_log_in_again() {
    let session = passkey_session("");
    let refused = problem_json(403, "reauthentication_required", "");
    let _api = fake_api(&[
        ("GET", "/api/v1/session", 200, &session),
        ("GET", "/api/v1/session/passkeys", 200, PASSKEY_LIST),
        ("DELETE", "/api/v1/session/passkeys/k1", 403, &refused),
    ]);
    let (root, _app) = mount_at("/account/passkeys");
    until("the list", || {
        root.query_selector("#remove-k1").unwrap().is_some()
    })
    .await;
    find::<HtmlButtonElement>(&root, "#remove-k1").click();
    until("the confirmation", || {
        root.query_selector("#confirm-remove").unwrap().is_some()
    })
    .await;
    find::<HtmlButtonElement>(&root, "#confirm-remove").click();
    text_when(&root, "#passkey-name-error", |t| {
        t == EN.log_in_again_passkeys()
    })
    .await;
    // The confirmation closed, the passkey stays, and the focus is on the way forward.
    assert!(root.query_selector("#confirm-remove").unwrap().is_none());
    assert_eq!(
        root.query_selector_all("li.passkey-item").unwrap().length(),
        2
    );
    until("the focus on Log in again", || {
        document()
            .active_element()
            .is_some_and(|e| e.id() == "add-passkey")
    })
    .await;
    assert_eq!(
        find::<HtmlButtonElement>(&root, "#add-passkey")
            .text_content()
            .unwrap(),
        "Log in again"
    );
    root.remove();
}

#[wasm_bindgen_test]
async fn the_passkeys_screen_has_its_title_in_each_language() {
    let _api = fake_api(&[("GET", "/api/v1/session/passkeys", 200, r#"{"passkeys":[]}"#)]);
    let (root, _app) = mount_at("/account/passkeys");
    settle().await;
    assert_eq!(document().title(), EN.title_passkeys());
    member_login::i18n::set_lang(Lang::Fr);
    settle().await;
    assert_eq!(document().title(), FR.title_passkeys());
    assert_eq!(
        find::<HtmlElement>(&root, "h1").text_content().unwrap(),
        FR.passkeys_heading()
    );
    root.remove();
}
