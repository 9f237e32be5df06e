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
    let handle = leptos::mount::mount_to(container.clone(), member_login::App);
    (container, handle)
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
