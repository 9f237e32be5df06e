//! One module a step of the member's journey; each is a route. [`StepKit`] is what every step
//! that talks to the API shares: the state, navigation, its requests, its error line and the
//! handling of refusals.

mod account;
mod code;
mod done;
mod landing;
mod method;
mod not_found;
mod organization;
mod passkey_login;
mod passkeys;
mod password;
mod second_factor;
mod username;

pub use account::{EnableMfaStep, UpdatePasswordStep};
pub use code::EmailCodeStep;
pub use done::DoneStep;
pub use landing::Landing;
pub use method::MethodStep;
pub use not_found::NotFound;
pub use organization::OrganizationStep;
pub use passkeys::PasskeysStep;
pub use password::PasswordStep;
pub use second_factor::SecondFactorStep;
pub use username::UsernameStep;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use leptos::html::ElementType;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use member_login_api::flow::{CreateFlow, Flow, FlowState};
use member_login_api::ProblemCode;
use wasm_bindgen::JsCast;

use crate::api_client::{ClientError, RequestScope};
use crate::i18n::{lang, t};
use crate::messages::Said;
use crate::state::{device_now, use_login_state, LoginState};
use crate::wizard::{blames_input, react, Reaction, Step};
use crate::{device, messages};

/// Puts the keyboard focus on the step's first field (or its heading) once it is in the page,
/// so that keyboard and screen reader users start where the step does.
fn focus_when_mounted<E>(node: NodeRef<E>)
where
    E: ElementType + 'static,
    E::Output: JsCast + Clone + 'static,
{
    Effect::new(move |_| {
        if let Some(element) = node.get() {
            let _ = element.unchecked_ref::<web_sys::HtmlElement>().focus();
        }
    });
}

/// The value of a query parameter of the current URL, as the step was opened.
fn query_param(name: &str) -> Option<String> {
    use_query_map().with_untracked(|q| q.get(name))
}

type Navigate = Box<dyn Fn(&str, NavigateOptions)>;

/// Copy handles only, so views and handlers capture it freely.
#[derive(Clone, Copy)]
pub(crate) struct StepKit {
    pub state: LoginState,
    navigate: StoredValue<Navigate, LocalStorage>,
    scope: StoredValue<RequestScope, LocalStorage>,
    /// The step's error line (`role="alert"`), or `None`.
    pub error: RwSignal<Option<Said>>,
    /// Whether the error is about what the member typed, so the field is marked invalid (not
    /// for a network error, a busy server or a countdown: nothing there needs changing).
    blames_input: RwSignal<bool>,
    /// A request is in flight: submitting again does nothing.
    pub busy: RwSignal<bool>,
    /// Device time until which a rate-limited action stays disabled.
    wait_until: RwSignal<Option<f64>>,
    /// The device clock, ticking every second, for countdowns.
    pub clock: RwSignal<f64>,
}

impl StepKit {
    pub fn new() -> Self {
        let navigate = use_navigate();
        let clock = RwSignal::new(device_now());
        if let Ok(handle) =
            set_interval_with_handle(move || clock.set(device_now()), Duration::from_secs(1))
        {
            on_cleanup(move || handle.clear());
        }
        Self {
            state: use_login_state(),
            navigate: StoredValue::new_local(Box::new(navigate)),
            scope: StoredValue::new_local(RequestScope::for_component()),
            error: RwSignal::new(None),
            blames_input: RwSignal::new(false),
            busy: RwSignal::new(false),
            wait_until: RwSignal::new(None),
            clock,
        }
    }

    pub fn go(&self, url: &str, replace: bool) {
        // The login and the account screens are two pages (two builds): between them, a
        // page load.
        let account = |path: &str| path.starts_with("/account/");
        let here = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        if account(url) != account(&here) {
            device::open_page(url);
            return;
        }
        self.navigate.with_value(|navigate| {
            navigate(
                url,
                NavigateOptions {
                    replace,
                    ..Default::default()
                },
            )
        });
    }

    /// The step's requests (aborted when it unmounts).
    pub fn api(&self) -> RequestScope {
        self.scope.get_value()
    }

    /// The Organization alias for URLs: from the state, else from the current URL.
    pub fn organization_alias(&self) -> String {
        self.state
            .organization
            .with_untracked(|o| o.as_ref().map(|o| o.alias.clone()))
            .or_else(|| query_param("organization"))
            .unwrap_or_default()
    }

    /// Keeps a flow answer and moves to the step it leads to (if that is not this one).
    pub fn show(&self, flow: Flow, here: Step, wants_password: bool, replace: bool) {
        let next = Step::for_flow(&flow, wants_password);
        let url = next.url(&flow.organization.alias, Some(&flow.id));
        self.state.keep(flow);
        if next != here {
            self.go(&url, replace);
        }
    }

    /// Seconds until the rate-limited action may be tried again (0: now).
    pub fn waiting(&self) -> i64 {
        self.wait_until
            .get()
            .map(|until| (until - self.clock.get()).ceil() as i64)
            .unwrap_or(0)
            .max(0)
    }

    /// Whether submitting now should do nothing (in flight, or counting down).
    pub fn blocked(&self) -> bool {
        self.busy.get_untracked() || self.waiting_untracked() > 0
    }

    fn waiting_untracked(&self) -> i64 {
        self.wait_until
            .get_untracked()
            .map(|until| (until - device_now()).ceil() as i64)
            .unwrap_or(0)
    }

    /// The error line (announced once when it changes), in the language in use.
    pub fn error_text(&self) -> Option<String> {
        let lang = lang();
        self.error.with(|e| e.as_ref().map(|said| said(lang)))
    }

    /// Shows `message` on the error line, about something other than what the member typed.
    pub fn say(&self, message: Said) {
        self.blames_input.set(false);
        self.error.set(Some(message));
    }

    /// Shows `message` on the error line about what the member typed, marking the field.
    pub fn refuse(&self, message: Said) {
        self.blames_input.set(true);
        self.error.set(Some(message));
    }

    /// Whether the step's field is to be marked `aria-invalid`.
    pub fn input_invalid(&self) -> bool {
        self.blames_input.get() && self.error.with(Option::is_some)
    }

    /// While rate-limited, the countdown (shown beside the error, not announced every second).
    pub fn wait_text(&self) -> Option<String> {
        match self.waiting() {
            0 => None,
            s => Some(messages::wait(lang(), s)),
        }
    }

    /// Handles a refused call at step `here`: explains it, counts down (too many requests, a
    /// busy server), or silently restarts an expired flow keeping the Organization and username.
    pub fn fail(&self, err: ClientError, here: Step) {
        let problem = match &err {
            ClientError::Problem(p) => p,
            ClientError::Cancelled => return,
            other => {
                self.say(messages::of_error(other.clone()));
                return;
            }
        };
        match react(problem) {
            Reaction::Explain(code) if blames_input(code) => {
                self.refuse(messages::of_problem(problem.as_ref().clone()))
            }
            Reaction::Explain(_) => self.say(messages::of_problem(problem.as_ref().clone())),
            Reaction::WrongCode { attempts_left } => {
                self.refuse(Arc::new(move |l| messages::attempts_left(l, attempts_left)))
            }
            Reaction::Wait { seconds } => {
                let code = problem.code;
                self.say(Arc::new(move |l| {
                    messages::wait_reason(l.catalogue(), code).to_owned()
                }));
                self.wait_until.set(Some(device_now() + seconds as f64));
            }
            Reaction::Restart(flow) => {
                self.state.notice.set(Some(messages::flow_restarted(here)));
                let wants_password = here == Step::Password;
                self.show(*flow, Step::Landing, wants_password, true);
            }
            Reaction::StartOver => {
                let alias = self.organization_alias();
                self.state.flow.set(None);
                self.go(&Step::Username.url(&alias, None), true);
            }
        }
    }

    /// Makes sure the state holds the flow named in the URL (after a reload, a link, Back or
    /// Forward), loading it if needed. Without one, goes back to the username step.
    pub fn load_flow(&self, here: Step) {
        let Some(id) = query_param("flow") else {
            let alias = self.organization_alias();
            self.go(&Step::Username.url(&alias, None), true);
            return;
        };
        let current = self.state.flow.with_untracked(|f| {
            f.as_ref()
                .filter(|f| f.flow.id == id)
                .map(|f| f.flow.clone())
        });
        if let Some(flow) = current {
            // Back onto a step the flow has passed (the password after the second factor was
            // asked, anything after the login completed): show where the flow is instead.
            let at = Step::for_flow(&flow, here == Step::Password);
            if matches!(at, Step::SecondFactor | Step::Done) && at != here {
                self.show(flow, here, false, true);
            }
            return;
        }
        let kit = *self;
        spawn_local(async move {
            match kit.api().flow(&id).await {
                // Opening a step the flow is not at (an old tab, Back past the end) shows the
                // step it is at.
                Ok(flow) => kit.show(flow, here, here == Step::Password, true),
                Err(err) => kit.fail(err, here),
            }
        });
    }

    /// Starts a login flow for `organization` with `username` given, as the step's submission,
    /// and moves to the step it is at.
    pub fn start_flow(&self, here: Step, organization: String, username: String) {
        self.submit(here, false, move |api| async move {
            api.create_flow(&CreateFlow {
                organization,
                username: Some(username),
                // The flow's emails are written in the language the member is using.
                language: Some(crate::i18n::lang_untracked().code().to_owned()),
            })
            .await
        });
    }

    /// The id of the flow the step acts on.
    pub fn flow_id(&self) -> String {
        self.state
            .flow
            .with_untracked(|f| f.as_ref().map(|f| f.flow.id.clone()))
            .unwrap_or_default()
    }

    /// Runs `call` on the login flow as the step's one submission. When the flow has expired,
    /// the server answers with its replacement (same Organization and username, at the method
    /// choice): the call is made again on that one, so the member's one press goes through.
    pub fn submit_on_flow<F, Fut>(&self, here: Step, wants_password: bool, call: F)
    where
        F: Fn(RequestScope, String) -> Fut + 'static,
        Fut: Future<Output = Result<Flow, ClientError>> + 'static,
    {
        self.submit_on_flow_erased(
            here,
            wants_password,
            Rc::new(move |api, id| Box::pin(call(api, id))),
        );
    }

    /// [`Self::submit_on_flow`] with the call's type erased: compiled once, not once per step.
    fn submit_on_flow_erased(&self, here: Step, wants_password: bool, call: FlowCall) {
        let id = self.flow_id();
        let kit = *self;
        self.submit(here, wants_password, move |api| async move {
            match call(api.clone(), id).await {
                Err(ClientError::Problem(p)) if p.code == ProblemCode::FlowExpired => {
                    let Some(fresh) = p.replacement.clone() else {
                        return Err(ClientError::Problem(p));
                    };
                    let id = fresh.id.clone();
                    // The address names the flow in use, whatever the second answer is.
                    kit.go(&here.url(&fresh.organization.alias, Some(&id)), true);
                    kit.state.keep(*fresh);
                    call(api, id).await
                }
                other => other,
            }
        });
    }

    /// Runs an API call as the step's one submission: no double submit, errors handled.
    pub fn submit<F, Fut>(&self, here: Step, wants_password: bool, call: F)
    where
        F: FnOnce(RequestScope) -> Fut + 'static,
        Fut: Future<Output = Result<Flow, ClientError>> + 'static,
    {
        self.submit_erased(
            here,
            wants_password,
            Box::new(move |api| Box::pin(call(api))),
        );
    }

    /// [`Self::submit`] with the call's type erased: compiled once, not once per step.
    fn submit_erased(
        &self,
        here: Step,
        wants_password: bool,
        call: Box<dyn FnOnce(RequestScope) -> FlowAnswer>,
    ) {
        if self.blocked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        let kit = *self;
        spawn_local(async move {
            let result = call(kit.api()).await;
            kit.busy.set(false);
            match result {
                Ok(flow) => {
                    if flow.state == FlowState::EmailCode {
                        device::remember_code_flow(&flow.id);
                    }
                    kit.show(flow, here, wants_password, false)
                }
                Err(err) => kit.fail(err, here),
            }
        });
    }
}

/// A request that answers with a flow, as the step's submission makes it.
type FlowAnswer = Pin<Box<dyn Future<Output = Result<Flow, ClientError>>>>;
/// A request on the login flow with the given id, which may be made twice (see
/// [`StepKit::submit_on_flow`]).
type FlowCall = Rc<dyn Fn(RequestScope, String) -> FlowAnswer>;

/// The Organization (and username, once given) this login is for, each with "Change".
#[component]
fn StepContext(
    /// Show the username line too.
    #[prop(optional)]
    with_username: bool,
) -> impl IntoView {
    let state = use_login_state();
    let name = move || {
        state
            .organization
            .with(|o| o.as_ref().map(|o| o.name.clone()))
    };
    let alias = move || {
        state
            .organization
            .with(|o| o.as_ref().map(|o| o.alias.clone()))
            .unwrap_or_default()
    };
    let username = move || state.username.get();
    // The Organization's logo, beside its name (which says the same, so the image is
    // decorative to a screen reader).
    let logo = move || {
        state
            .organization
            .with(|o| o.as_ref().and_then(|o| o.logo_url.clone()))
    };
    view! {
        {move || logo().map(|src| view! {
            <img class="org-logo" src=src alt="" referrerpolicy="no-referrer" />
        })}
        <dl class="context">
            <div>
                <dt>{t(|c| c.context_organization())}</dt>
                <dd>
                    <strong id="current-organization">{name}</strong>
                    " "
                    <a href="/login/organization" class="change">
                        {t(|c| c.change())}
                        <span class="visually-hidden">{t(|c| c.change_organization_hidden())}</span>
                    </a>
                </dd>
            </div>
            {with_username.then(|| view! {
                <div>
                    <dt>{t(|c| c.context_username())}</dt>
                    <dd>
                        <strong id="current-username">{username}</strong>
                        " "
                        <a
                            href=move || Step::Username.url(&alias(), None)
                            class="change"
                        >
                            {t(|c| c.change())}
                            <span class="visually-hidden">{t(|c| c.change_username_hidden())}</span>
                        </a>
                    </dd>
                </div>
            })}
        </dl>
    }
}

/// A message carried over from the step before (a restarted flow), shown once.
#[component]
fn Notice() -> impl IntoView {
    let state = use_login_state();
    let text = state.notice.get_untracked();
    state.notice.set(None);
    text.map(|key| view! { <p class="notice" role="status">{t(key)}</p> })
}

/// The step's submit button: "Continue", "Checking…" while its request is in flight
/// (`aria-disabled`, so it keeps the focus and screen readers still find it), and "Log in
/// again" once `log_in_again` holds (the account steps, when a recent login is needed).
#[component]
fn SubmitButton(
    #[prop(into)] busy: Signal<bool>,
    #[prop(optional)] log_in_again: Option<RwSignal<bool>>,
) -> impl IntoView {
    view! {
        <button type="submit" class="button primary" aria-disabled=move || busy.get().then_some("true")>
            {move || {
                let c = crate::i18n::tr();
                if busy.get() {
                    c.checking()
                } else if log_in_again.is_some_and(|again| again.get()) {
                    c.log_in_again()
                } else {
                    c.continue_button()
                }
            }}
        </button>
    }
}

/// The step's error line, announced when it changes and tied to its field by `id`, and the
/// countdown while rate-limited, which is shown but not read out every second.
#[component]
fn FieldError(id: &'static str, kit: StepKit) -> impl IntoView {
    view! {
        <p id=id class="field-error" role="alert">
            {move || kit.error_text()}
        </p>
        <p class="hint countdown" aria-live="off">
            {move || kit.wait_text()}
        </p>
    }
}

/// "Show password": switches the field `controls` between hidden and shown text; its state is
/// `aria-pressed`, which screen readers announce.
#[component]
fn ShowPasswordToggle(
    id: &'static str,
    controls: &'static str,
    shown: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            id=id
            class="button secondary toggle"
            aria-controls=controls
            aria-pressed=move || if shown.get() { "true" } else { "false" }
            on:click=move |_| shown.update(|s| *s = !*s)
        >
            {t(|c| c.show_password())}
        </button>
    }
}
