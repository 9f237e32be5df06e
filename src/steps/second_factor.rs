use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use member_login_api::flow::{normalize_code, normalize_recovery_code, SubmitSecondFactor};

use super::{focus_when_mounted, FieldError, Notice, StepContext, StepKit, SubmitButton};
use crate::i18n::{t, tr};
use crate::messages;
use crate::wizard::Step;

/// Step 7: the code from the member's authenticator app, or one of their recovery codes.
#[component]
pub fn SecondFactorStep() -> impl IntoView {
    let kit = StepKit::new();
    kit.load_flow(Step::SecondFactor);
    let state = kit.state;
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);
    let typed = RwSignal::new(String::new());
    let recovery = RwSignal::new(false);

    let on_submit = {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = typed.get_untracked();
            let body = if recovery.get_untracked() {
                normalize_recovery_code(&text)
                    .map(|code| SubmitSecondFactor::RecoveryCode { code })
                    .ok_or(messages::key(|c| c.second_factor_recovery_malformed()))
            } else {
                normalize_code(&text, 6)
                    .map(|code| SubmitSecondFactor::Totp { code })
                    .ok_or(messages::key(|c| c.second_factor_totp_incomplete()))
            };
            let body = match body {
                Ok(body) => body,
                Err(message) => {
                    kit.refuse(message);
                    return;
                }
            };
            let id = state
                .flow
                .with_untracked(|f| f.as_ref().map(|f| f.flow.id.clone()))
                .unwrap_or_default();
            kit.submit(Step::SecondFactor, false, move |api| async move {
                api.second_factor(&id, &body).await
            });
        }
    };
    let switch = {
        move |_| {
            recovery.update(|r| *r = !*r);
            typed.set(String::new());
            kit.error.set(None);
            if let Some(input) = field.get_untracked() {
                let _ = input.focus();
            }
        }
    };
    let has_error = move || kit.input_invalid();
    view! {
        <form on:submit=on_submit novalidate>
            <h1>{t(|c| c.second_factor_heading())}</h1>
            <Notice />
            <StepContext with_username=true />
            <label for="second-factor">
                {move || {
                    if recovery.get() {
                        tr().second_factor_recovery_label()
                    } else {
                        tr().second_factor_totp_label()
                    }
                }}
            </label>
            <input
                id="second-factor"
                name="second-factor"
                type="text"
                inputmode=move || if recovery.get() { "text" } else { "numeric" }
                autocomplete="one-time-code"
                autocapitalize="none"
                spellcheck="false"
                node_ref=field
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
                aria-invalid=move || has_error().then_some("true")
                aria-describedby="second-factor-error"
            />
            <FieldError id="second-factor-error" kit=kit />
            <SubmitButton busy=kit.busy />
            <button type="button" class="link-button" id="switch-factor" on:click=switch>
                {move || {
                    if recovery.get() {
                        tr().second_factor_use_totp()
                    } else {
                        tr().second_factor_use_recovery()
                    }
                }}
            </button>
        </form>
    }
}
