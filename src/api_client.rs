//! The typed client of the login API: the only code that talks to the server. Every failure
//! becomes a [`ClientError`], which [`crate::messages`] turns into words; nothing here shows
//! text from the server.
//!
//! Requests go through gloo-net's `http` module (built without its `json` feature: answers are
//! read by the browser's own JSON parser and [`crate::js_de`]'s plain readers, without serde).
//! They carry the CSRF header, send cookies (the API may be on another origin), give up after
//! [`TIMEOUT_MS`], and are aborted when the step that made them goes away ([`RequestScope`]).

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::{Method, Request, RequestBuilder, Response};
use leptos::prelude::on_cleanup;
use member_login_api::flow::{
    CreateFlow, Flow, SubmitPassword, SubmitSecondFactor, SubmitUsername, VerifyCode,
};
use member_login_api::passkey::{passkey_path, Passkey, Passkeys, RenamePasskey, PASSKEYS_PATH};
use member_login_api::session::{ChangePassword, MfaEnrollment, RecoveryCodes, Session, VerifyMfa};
use member_login_api::{
    flow_path, organization_path, Organization, OrganizationKey, Problem, CSRF_HEADER, FLOWS_PATH,
    SESSION_PATH,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCredentials};

use crate::js_de::FromJs;

/// A request that has not answered after this long is given up, with a message and a retry.
pub const TIMEOUT_MS: i32 = 15_000;

/// Why a call to the login API did not give the answer asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The API answered with a problem document.
    #[error("the login API refused: {:?}", .0.code)]
    Problem(Box<Problem>),
    /// No answer: offline, DNS, connection refused.
    #[error("the login API could not be reached")]
    Network,
    /// No answer in time.
    #[error("the login API did not answer in time")]
    Timeout,
    /// The step was left before the answer came; nobody is waiting for it.
    #[error("the request was cancelled")]
    Cancelled,
    /// An answer that is not what the contract says (a proxy's error page, say).
    #[error("the login API answered with HTTP {0}")]
    Unexpected(u16),
}

/// What `config.json` beside the app says: where the login API is, and where members go after
/// logging in. Operators edit it after the build, so one build serves any backend.
/// Every field may be absent (read by [`crate::js_de`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The API's base URL; empty for the app's own origin.
    pub api_base: String,
    /// Where members go after logging in when neither a `return_to` nor their Organization
    /// names a place.
    pub console_url: Option<String>,
    /// URL prefixes a `return_to` may start with, besides the Organization's own.
    pub return_urls: Vec<String>,
}

thread_local! {
    static CONFIG: RefCell<Option<RuntimeConfig>> = const { RefCell::new(None) };
}

/// Reads `config.json` now, as the app starts, so the member's first action waits only for the
/// API itself.
pub fn load_config() {
    wasm_bindgen_futures::spawn_local(async {
        runtime_config().await;
    });
}

/// The runtime config, read once from `config.json` (the defaults, with the API on the app's
/// own origin, when there is no such file).
pub async fn runtime_config() -> RuntimeConfig {
    if let Some(config) = CONFIG.with(|c| c.borrow().clone()) {
        return config;
    }
    match Request::get("/config.json").send().await {
        Ok(resp) if resp.ok() => {
            let mut config = json_body::<RuntimeConfig>(resp).await.unwrap_or_default();
            config.api_base = config.api_base.trim_end_matches('/').to_owned();
            CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
            config
        }
        // No config file: the API is on the app's own origin, for good.
        Ok(resp) if resp.status() == 404 => {
            CONFIG.with(|c| *c.borrow_mut() = Some(RuntimeConfig::default()));
            RuntimeConfig::default()
        }
        // Offline or an error: try the same origin now, and the file again next time.
        _ => RuntimeConfig::default(),
    }
}

/// The API's base URL (see [`runtime_config`]).
async fn api_base() -> String {
    runtime_config().await.api_base
}

/// A response body parsed by the browser's own JSON parser (not gloo-net's `json`, which
/// would bring serde_json), then typed.
async fn json_body<T: FromJs>(response: Response) -> Option<T> {
    crate::js_de::from_js(json_value(response).await?)
}

/// A response body as the browser's JSON parser gives it.
async fn json_value(response: Response) -> Option<JsValue> {
    let promise = web_sys::Response::from(response).json().ok()?;
    JsFuture::from(promise).await.ok()
}

/// The body of a request carrying the browser's answer to a passkey ceremony as it is
/// (WebAuthn's JSON form, which the server's WebAuthn library reads; the app reads none of it),
/// with the passkey's `name` when adding one. Written by the browser's JSON, not serde.
fn credential_body(credential: &JsValue, name: Option<&str>) -> Option<js_sys::JsString> {
    let body = js_sys::Object::new();
    js_sys::Reflect::set(&body, &"credential".into(), credential).ok()?;
    if let Some(name) = name {
        js_sys::Reflect::set(&body, &"name".into(), &name.into()).ok()?;
    }
    js_sys::JSON::stringify(&body).ok()
}

/// A request body: a JSON object of string fields, in the contract's order, a `None` left out
/// (the contract's `skip_serializing_if`). Written by the browser's JSON ([`request_json`]), not
/// serde: the same text serde wrote, without a serializer in the app.
pub trait RequestBody {
    /// The fields, by name.
    fn fields(&self) -> Vec<(&'static str, Option<&str>)>;
}

/// `body` as the JSON text sent.
pub fn request_json(body: &dyn RequestBody) -> Option<js_sys::JsString> {
    let object = js_sys::Object::new();
    for (name, value) in body.fields() {
        if let Some(value) = value {
            js_sys::Reflect::set(&object, &name.into(), &value.into()).ok()?;
        }
    }
    js_sys::JSON::stringify(&object).ok()
}

impl RequestBody for CreateFlow {
    fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("organization", Some(&self.organization)),
            ("username", self.username.as_deref()),
            ("language", self.language.as_deref()),
        ]
    }
}

/// Tagged by `method`, as the contract's `#[serde(tag = "method")]`.
impl RequestBody for SubmitSecondFactor {
    fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
        let (method, code) = match self {
            Self::Totp { code } => ("totp", code),
            Self::RecoveryCode { code } => ("recovery_code", code),
        };
        vec![("method", Some(method)), ("code", Some(code))]
    }
}

macro_rules! one_field_bodies {
    ($($t:ty: $field:ident;)*) => {$(
        impl RequestBody for $t {
            fn fields(&self) -> Vec<(&'static str, Option<&str>)> {
                vec![(stringify!($field), Some(&self.$field))]
            }
        }
    )*};
}

one_field_bodies! {
    SubmitUsername: username;
    VerifyCode: code;
    SubmitPassword: password;
    RenamePasskey: name;
    ChangePassword: new_password;
    VerifyMfa: code;
}

/// The requests of one step: all aborted when the step unmounts.
#[derive(Clone, Default)]
pub struct RequestScope {
    live: Rc<RefCell<Vec<AbortController>>>,
}

impl RequestScope {
    /// A scope tied to the current component: leaving the step aborts what it still waits for.
    pub fn for_component() -> Self {
        let scope = Self::default();
        // Cleanup callbacks must be Send; in the browser everything runs on one thread.
        let live = send_wrapper::SendWrapper::new(scope.live.clone());
        on_cleanup(move || {
            for controller in live.borrow_mut().drain(..) {
                controller.abort();
            }
        });
        scope
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn RequestBody>,
    ) -> Result<Response, ClientError> {
        let body = match body {
            Some(body) => Some(request_json(body).ok_or(ClientError::Network)?),
            None => None,
        };
        self.fetch(method, path, body).await
    }

    /// The request itself, one copy for every body type.
    async fn fetch(
        &self,
        method: Method,
        path: &str,
        body: Option<js_sys::JsString>,
    ) -> Result<Response, ClientError> {
        let controller = AbortController::new().map_err(|_| ClientError::Network)?;
        self.live.borrow_mut().push(controller.clone());
        let timed_out = Rc::new(std::cell::Cell::new(false));
        let timer = {
            let (controller, timed_out) = (controller.clone(), timed_out.clone());
            timeout(TIMEOUT_MS, move || {
                timed_out.set(true);
                controller.abort();
            })
        };
        let url = format!("{}{path}", api_base().await);
        let request = RequestBuilder::new(&url)
            .method(method)
            .credentials(RequestCredentials::Include)
            .abort_signal(Some(&controller.signal()))
            .header("Accept", "application/json")
            .header(CSRF_HEADER, "1");
        let request = match body {
            Some(text) => request
                .header("Content-Type", "application/json")
                .body(text),
            None => request.build(),
        };
        let result = match request {
            Ok(request) => request.send().await,
            Err(error) => Err(error),
        };
        drop(timer);
        self.live
            .borrow_mut()
            .retain(|c| !js_sys::Object::is(c, &controller));
        result.map_err(|_| {
            if timed_out.get() {
                ClientError::Timeout
            } else if controller.signal().aborted() {
                ClientError::Cancelled
            } else {
                ClientError::Network
            }
        })
    }

    async fn call<T: FromJs>(
        &self,
        method: Method,
        path: &str,
        body: Option<&dyn RequestBody>,
    ) -> Result<T, ClientError> {
        answer(self.send(method, path, body).await?).await
    }

    /// A POST of the browser's answer to a passkey ceremony (see [`credential_body`]).
    async fn call_with_credential<T: FromJs>(
        &self,
        path: &str,
        credential: &JsValue,
        name: Option<&str>,
    ) -> Result<T, ClientError> {
        let body = credential_body(credential, name).ok_or(ClientError::Network)?;
        answer(self.fetch(Method::POST, path, Some(body)).await?).await
    }

    /// A call whose answer the app passes on without reading it (a passkey ceremony's
    /// options, for the browser).
    async fn call_value(&self, path: &str) -> Result<JsValue, ClientError> {
        let response = self.send(Method::POST, path, NONE).await?;
        if response.ok() {
            let status = response.status();
            return json_value(response)
                .await
                .filter(|v| v.is_object())
                .ok_or(ClientError::Unexpected(status));
        }
        Err(problem_of(response).await)
    }

    /// A call answered with no body (204).
    async fn call_empty(&self, method: Method, path: &str) -> Result<(), ClientError> {
        let resp = self.send(method, path, NONE).await?;
        if resp.ok() {
            Ok(())
        } else {
            Err(problem_of(resp).await)
        }
    }

    /// The options for a passkey login on flow `id` (`{"publicKey": …}`).
    pub async fn passkey_login_options(&self, id: &str) -> Result<JsValue, ClientError> {
        self.call_value(&flow_path(id, "passkey/options")).await
    }

    /// Logs in on flow `id` with the browser's answer.
    pub async fn passkey_login(&self, id: &str, credential: &JsValue) -> Result<Flow, ClientError> {
        self.call_with_credential(&flow_path(id, "passkey"), credential, None)
            .await
    }

    pub async fn passkeys(&self) -> Result<Passkeys, ClientError> {
        self.call(Method::GET, PASSKEYS_PATH, NONE).await
    }

    /// The options to add a passkey (`{"publicKey": …}`).
    pub async fn new_passkey_options(&self) -> Result<JsValue, ClientError> {
        self.call_value(&format!("{PASSKEYS_PATH}/options")).await
    }

    /// Adds the browser's new passkey under `name`.
    pub async fn add_passkey(
        &self,
        name: &str,
        credential: &JsValue,
    ) -> Result<Passkey, ClientError> {
        self.call_with_credential(PASSKEYS_PATH, credential, Some(name))
            .await
    }

    pub async fn rename_passkey(
        &self,
        id: &str,
        body: &RenamePasskey,
    ) -> Result<Passkey, ClientError> {
        self.call(Method::PATCH, &passkey_path(id), Some(body))
            .await
    }

    pub async fn remove_passkey(&self, id: &str) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, &passkey_path(id)).await
    }

    pub async fn find_organization(
        &self,
        key: &OrganizationKey,
    ) -> Result<Organization, ClientError> {
        self.call(Method::GET, &organization_path(key), NONE).await
    }

    pub async fn create_flow(&self, body: &CreateFlow) -> Result<Flow, ClientError> {
        self.call(Method::POST, FLOWS_PATH, Some(body)).await
    }

    pub async fn flow(&self, id: &str) -> Result<Flow, ClientError> {
        self.call(Method::GET, &flow_path(id, ""), NONE).await
    }

    pub async fn submit_username(
        &self,
        id: &str,
        body: &SubmitUsername,
    ) -> Result<Flow, ClientError> {
        self.post_step(id, "username", Some(body)).await
    }

    /// Sends the email code, or a new one.
    pub async fn send_code(&self, id: &str) -> Result<Flow, ClientError> {
        self.post_step(id, "code", NONE).await
    }

    pub async fn verify_code(&self, id: &str, body: &VerifyCode) -> Result<Flow, ClientError> {
        self.post_step(id, "code/verify", Some(body)).await
    }

    pub async fn password(&self, id: &str, body: &SubmitPassword) -> Result<Flow, ClientError> {
        self.post_step(id, "password", Some(body)).await
    }

    pub async fn second_factor(
        &self,
        id: &str,
        body: &SubmitSecondFactor,
    ) -> Result<Flow, ClientError> {
        self.post_step(id, "second-factor", Some(body)).await
    }

    async fn post_step(
        &self,
        id: &str,
        step: &str,
        body: Option<&dyn RequestBody>,
    ) -> Result<Flow, ClientError> {
        self.call(Method::POST, &flow_path(id, step), body).await
    }

    pub async fn session(&self) -> Result<Session, ClientError> {
        self.call(Method::GET, SESSION_PATH, NONE).await
    }

    pub async fn change_password(&self, body: &ChangePassword) -> Result<Session, ClientError> {
        self.call(
            Method::POST,
            &format!("{SESSION_PATH}/password"),
            Some(body),
        )
        .await
    }

    pub async fn start_mfa(&self) -> Result<MfaEnrollment, ClientError> {
        self.call(Method::POST, &format!("{SESSION_PATH}/mfa"), NONE)
            .await
    }

    pub async fn verify_mfa(&self, body: &VerifyMfa) -> Result<RecoveryCodes, ClientError> {
        self.call(
            Method::POST,
            &format!("{SESSION_PATH}/mfa/verify"),
            Some(body),
        )
        .await
    }

    pub async fn logout(&self) -> Result<(), ClientError> {
        self.call_empty(Method::DELETE, SESSION_PATH).await
    }
}

/// No request body.
const NONE: Option<&dyn RequestBody> = None;

/// Runs `f` once after `ms` unless the returned guard is dropped first.
fn timeout(ms: i32, f: impl FnOnce() + 'static) -> impl Drop {
    struct Guard(Option<leptos::prelude::TimeoutHandle>);
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(handle) = self.0.take() {
                handle.clear();
            }
        }
    }
    Guard(
        leptos::prelude::set_timeout_with_handle(f, std::time::Duration::from_millis(ms as u64))
            .ok(),
    )
}

/// The answer of a call: its body typed, or the API's refusal.
async fn answer<T: FromJs>(response: Response) -> Result<T, ClientError> {
    if response.ok() {
        let status = response.status();
        return json_body(response)
            .await
            .ok_or(ClientError::Unexpected(status));
    }
    Err(problem_of(response).await)
}

async fn problem_of(response: Response) -> ClientError {
    let status = response.status();
    match json_body::<Problem>(response).await {
        Some(problem) => ClientError::Problem(Box::new(problem)),
        None => ClientError::Unexpected(status),
    }
}
