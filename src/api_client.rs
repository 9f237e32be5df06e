//! The typed client of the login API: the only code that talks to the server. Every failure
//! becomes a [`ClientError`], which [`crate::messages`] turns into words; nothing here shows
//! text from the server.
//!
//! Requests carry the CSRF header, send cookies (the API may be on another origin), give up
//! after [`TIMEOUT_MS`], and are aborted when the step that made them goes away
//! ([`RequestScope`]).

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::on_cleanup;
use member_login_api::flow::{
    CreateFlow, Flow, SubmitPassword, SubmitSecondFactor, SubmitUsername, VerifyCode,
};
use member_login_api::session::{ChangePassword, MfaEnrollment, RecoveryCodes, Session, VerifyMfa};
use member_login_api::{
    flow_path, organization_path, Organization, OrganizationKey, Problem, CSRF_HEADER, FLOWS_PATH,
    SESSION_PATH,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCredentials, RequestInit, Response};

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

thread_local! {
    static API_BASE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Reads `config.json` now, as the app starts, so the member's first action waits only for the
/// API itself.
pub fn load_config() {
    wasm_bindgen_futures::spawn_local(async {
        api_base().await;
    });
}

/// The API's base URL, read once from `config.json` beside the app (so one build serves any
/// backend); empty — the app's own origin — when the file has none.
async fn api_base() -> String {
    if let Some(base) = API_BASE.with(|b| b.borrow().clone()) {
        return base;
    }
    #[derive(serde::Deserialize)]
    struct RuntimeConfig {
        #[serde(default)]
        api_base: String,
    }
    match fetch("/config.json", &RequestInit::new()).await {
        Ok(resp) if resp.ok() => {
            let base = json_body::<RuntimeConfig>(&resp)
                .await
                .map(|c| c.api_base.trim_end_matches('/').to_owned())
                .unwrap_or_default();
            API_BASE.with(|b| *b.borrow_mut() = Some(base.clone()));
            base
        }
        // No config file: the API is on the app's own origin, for good.
        Ok(resp) if resp.status() == 404 => {
            API_BASE.with(|b| *b.borrow_mut() = Some(String::new()));
            String::new()
        }
        // Offline or an error: try the same origin now, and the file again next time.
        _ => String::new(),
    }
}

/// The browser's `fetch`: the response, or the error it was rejected with.
async fn fetch(url: &str, init: &RequestInit) -> Result<Response, wasm_bindgen::JsValue> {
    let window = web_sys::window().expect("the app runs in a window");
    JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map(Response::unchecked_from_js)
}

/// A response body parsed by the browser's own JSON parser, then typed.
async fn json_body<T: DeserializeOwned>(response: &Response) -> Option<T> {
    let promise = response.json().ok()?;
    let value = JsFuture::from(promise).await.ok()?;
    crate::js_de::from_js(value)
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
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
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
        let init = RequestInit::new();
        init.set_method(method);
        init.set_credentials(RequestCredentials::Include);
        init.set_signal(Some(&controller.signal()));
        let headers = js_sys::Object::new();
        let header = |name: &str, value: &str| {
            let _ = js_sys::Reflect::set(&headers, &name.into(), &value.into());
        };
        header("Accept", "application/json");
        header(CSRF_HEADER, "1");
        if let Some(body) = body {
            let serializer = serde_wasm_bindgen::Serializer::json_compatible();
            let value = body
                .serialize(&serializer)
                .map_err(|_| ClientError::Network)?;
            let text = js_sys::JSON::stringify(&value).map_err(|_| ClientError::Network)?;
            header("Content-Type", "application/json");
            init.set_body(&text);
        }
        init.set_headers(&headers);
        let result = fetch(&format!("{}{path}", api_base().await), &init).await;
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

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let response = self.send(method, path, body).await?;
        if response.ok() {
            return json_body(&response)
                .await
                .ok_or(ClientError::Unexpected(response.status()));
        }
        Err(problem_of(&response).await)
    }

    pub async fn find_organization(
        &self,
        key: &OrganizationKey,
    ) -> Result<Organization, ClientError> {
        self.call("GET", &organization_path(key), NONE).await
    }

    pub async fn create_flow(&self, body: &CreateFlow) -> Result<Flow, ClientError> {
        self.call("POST", FLOWS_PATH, Some(body)).await
    }

    pub async fn flow(&self, id: &str) -> Result<Flow, ClientError> {
        self.call("GET", &flow_path(id, ""), NONE).await
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
        body: Option<&impl Serialize>,
    ) -> Result<Flow, ClientError> {
        self.call("POST", &flow_path(id, step), body).await
    }

    pub async fn session(&self) -> Result<Session, ClientError> {
        self.call("GET", SESSION_PATH, NONE).await
    }

    pub async fn change_password(&self, body: &ChangePassword) -> Result<Session, ClientError> {
        self.call("POST", &format!("{SESSION_PATH}/password"), Some(body))
            .await
    }

    pub async fn start_mfa(&self) -> Result<MfaEnrollment, ClientError> {
        self.call("POST", &format!("{SESSION_PATH}/mfa"), NONE)
            .await
    }

    pub async fn verify_mfa(&self, body: &VerifyMfa) -> Result<RecoveryCodes, ClientError> {
        self.call("POST", &format!("{SESSION_PATH}/mfa/verify"), Some(body))
            .await
    }

    pub async fn logout(&self) -> Result<(), ClientError> {
        let resp = self.send("DELETE", SESSION_PATH, NONE).await?;
        if resp.ok() {
            Ok(())
        } else {
            Err(problem_of(&resp).await)
        }
    }
}

/// No request body.
const NONE: Option<&()> = None;

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

async fn problem_of(response: &Response) -> ClientError {
    match json_body::<Problem>(response).await {
        Some(problem) => ClientError::Problem(Box::new(problem)),
        None => ClientError::Unexpected(response.status()),
    }
}
