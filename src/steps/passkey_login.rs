//! Logging in with a passkey: after the Organization (a discoverable sign-in, no username to
//! type: from the "Use a passkey" button or the username field's autofill), and as the second
//! factor. Either way the flow comes back `complete` and the member goes on as after any login.

use std::cell::Cell;

use leptos::prelude::*;
use leptos::task::spawn_local;
use member_login_api::flow::{CreateFlow, Flow};
use member_login_api::passkey::CHALLENGE_SECONDS;
use member_login_api::LoginMethod;
use web_sys::{AbortController, AbortSignal};

use super::StepKit;
use crate::api_client::ClientError;
use crate::i18n::{t, tr};
use crate::messages;
use crate::passkey::{self, Failure, PasskeyError};
use crate::wizard::Step;

/// Whether the Organization of this login enables passkeys.
pub(crate) fn passkeys_enabled(kit: StepKit) -> bool {
    kit.state.organization.with(|o| {
        o.as_ref()
            .is_some_and(|o| o.login_methods.contains(&LoginMethod::Passkey))
    })
}

/// Options for flow `id` (a new flow of the Organization when `None`), the browser's passkey,
/// and the login with it.
async fn attempt(
    kit: StepKit,
    flow: Option<String>,
    autofill: Option<&AbortSignal>,
    picked: &Cell<bool>,
) -> Result<Flow, Failure> {
    let api = kit.api();
    let id = match flow {
        Some(id) => id,
        None => {
            api.create_flow(&CreateFlow {
                organization: kit.organization_alias(),
                username: None,
                language: Some(crate::i18n::lang_untracked().code().to_owned()),
            })
            .await?
            .id
        }
    };
    let options = api.passkey_login_options(&id).await?;
    let credential = passkey::get(&options, autofill).await?;
    picked.set(true);
    if autofill.is_some() {
        // The member picked a passkey in the autofill: from here on it is a submission.
        kit.busy.set(true);
        kit.error.set(None);
    }
    Ok(api.passkey_login(&id, &credential).await?)
}

/// Ends an attempt: on to where the flow is, or the refusal in words. `true` when it failed in
/// a way worth saying (not aborted by the app).
fn finish(kit: StepKit, here: Step, result: Result<Flow, Failure>) -> bool {
    kit.busy.set(false);
    match result {
        Ok(flow) => {
            kit.show(flow, here, false, false);
            false
        }
        Err(Failure::Api(ClientError::Cancelled) | Failure::Browser(PasskeyError::Aborted)) => {
            false
        }
        Err(Failure::Api(err)) => {
            kit.fail(err, here);
            true
        }
        Err(Failure::Browser(err)) => {
            kit.say(messages::key(messages::passkey_login(err)));
            true
        }
    }
}

/// "Use a passkey": the browser's prompt, for the flow `flow` (a new one when `None`). `after`
/// runs when it did not log in.
fn ask(kit: StepKit, here: Step, flow: Option<String>, after: impl FnOnce() + 'static) {
    if kit.blocked() {
        return;
    }
    kit.busy.set(true);
    kit.error.set(None);
    spawn_local(async move {
        let result = attempt(kit, flow, None, &Cell::new(false)).await;
        let logged_in = result.is_ok();
        finish(kit, here, result);
        if !logged_in {
            after();
        }
    });
}

/// The username field's autofill request, while the step lives.
type Autofill = StoredValue<Option<AbortController>, LocalStorage>;

fn stop_autofill(autofill: Autofill) {
    if let Some(Some(controller)) = autofill.try_update_value(Option::take) {
        controller.abort();
    }
}

/// Offers the Organization's passkeys in the username field's autofill (conditional
/// mediation): a request that waits for the member to pick one. It is asked for again before
/// its challenge expires, and after a refusal, so the autofill keeps offering them.
fn offer_in_autofill(kit: StepKit, autofill: Autofill) {
    let Ok(controller) = AbortController::new() else {
        return;
    };
    stop_autofill(autofill);
    if autofill.try_set_value(Some(controller.clone())).is_some() {
        return; // the step is gone
    }
    let current = {
        let controller = controller.clone();
        move || {
            autofill
                .try_with_value(|c| c.as_ref().is_some_and(|c| c == &controller))
                .unwrap_or(false)
        }
    };
    let renew = current.clone();
    set_timeout(
        move || {
            if renew() {
                offer_in_autofill(kit, autofill);
            }
        },
        std::time::Duration::from_secs(CHALLENGE_SECONDS as u64 - 30),
    );
    spawn_local(async move {
        let picked = Cell::new(false);
        let result = attempt(kit, None, Some(&controller.signal()), &picked).await;
        // Until the member picks a passkey, nothing was asked of them: a failure then (the
        // browser's, or the API's before it) goes unsaid, and the autofill just offers none.
        if (picked.get() || result.is_ok()) && finish(kit, Step::Username, result) && current() {
            offer_in_autofill(kit, autofill);
        }
    });
}

/// The username step's passkey part, when the Organization enables passkeys: "Use a passkey"
/// (or, in a browser without WebAuthn, why there is none), and the autofill's suggestions.
#[component]
pub(crate) fn PasskeyLogin(kit: StepKit) -> impl IntoView {
    let autofill: Autofill = StoredValue::new_local(None);
    let supported = passkey::supported();
    // Started once the Organization is known to enable passkeys, and only where the browser
    // offers passkeys in autofill.
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || !passkeys_enabled(kit) {
            return started.unwrap_or(false);
        }
        spawn_local(async move {
            if passkey::autofill_available().await {
                offer_in_autofill(kit, autofill);
            }
        });
        true
    });
    on_cleanup(move || stop_autofill(autofill));
    let press = move |_| {
        let restart = autofill.with_value(Option::is_some);
        stop_autofill(autofill);
        ask(kit, Step::Username, None, move || {
            if restart {
                offer_in_autofill(kit, autofill);
            }
        });
    };
    move || {
        passkeys_enabled(kit).then(|| {
            if supported {
                view! {
                    <div class="passkey">
                        <PasskeyButton kit=kit on_press=press />
                        <p id="passkey-hint" class="hint">{t(|c| c.passkey_login_hint())}</p>
                    </div>
                }
                .into_any()
            } else {
                view! {
                    <p class="hint passkey" id="passkey-unsupported">{t(|c| c.passkey_unsupported())}</p>
                }
                .into_any()
            }
        })
    }
}

/// "Use a passkey" on the flow already started, at step `here`: at the method step any of the
/// Organization's passkeys (a discoverable sign-in), at the second factor the flow's member's.
pub(crate) fn ask_on_flow(kit: StepKit, here: Step) {
    ask(kit, here, Some(kit.flow_id()), || {});
}

/// The "Use a passkey" button: "Waiting for your passkey…" while asking.
#[component]
pub(crate) fn PasskeyButton(
    kit: StepKit,
    on_press: impl Fn(web_sys::MouseEvent) + 'static,
    #[prop(optional)] node_ref: Option<NodeRef<leptos::html::Button>>,
) -> impl IntoView {
    let busy = kit.busy;
    // Its own words only while its own request is in flight (not the form's).
    let pressed = RwSignal::new(false);
    Effect::new(move |_| {
        if !busy.get() {
            pressed.set(false);
        }
    });
    view! {
        <button
            type="button"
            class="button secondary"
            id="use-passkey"
            node_ref=node_ref.unwrap_or_default()
            aria-disabled=move || busy.get().then_some("true")
            on:click=move |ev| {
                if !busy.get_untracked() {
                    pressed.set(true);
                }
                on_press(ev)
            }
        >
            {move || if busy.get() && pressed.get() { tr().passkey_waiting() } else { tr().passkey_use() }}
        </button>
    }
}
