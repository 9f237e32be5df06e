use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use member_login_api::flow::{
    normalize_code, normalize_recovery_code, SecondFactorMethod, SubmitSecondFactor,
};

use super::passkey_login::{ask_on_flow, PasskeyButton};
use super::{focus_when_mounted, FieldError, Notice, StepContext, StepKit, SubmitButton};
use crate::i18n::{t, tr};
use crate::messages;
use crate::passkey;
use crate::wizard::Step;

/// Step 7: what the member has set up, as the flow lists it: a passkey first, the code from
/// their authenticator app, one of their recovery codes.
#[component]
pub fn SecondFactorStep() -> impl IntoView {
    use SecondFactorMethod::{Passkey, RecoveryCode, Totp};
    let kit = StepKit::new();
    kit.load_flow(Step::SecondFactor);
    let state = kit.state;
    let field = NodeRef::<Input>::new();
    let passkey_button = NodeRef::<leptos::html::Button>::new();
    let typed = RwSignal::new(String::new());
    // A flow without the list (from an older server) means the authenticator app and recovery
    // codes, as before passkeys.
    let offered = move |method: SecondFactorMethod| {
        state.flow.with(|f| {
            let listed = f
                .as_ref()
                .map(|f| &f.flow.second_factors[..])
                .unwrap_or(&[]);
            if listed.is_empty() {
                method != Passkey
            } else {
                listed.contains(&method)
            }
        })
    };
    let codes = move || offered(Totp) || offered(RecoveryCode);
    // Recovery codes alone start the field there; "Use a recovery code instead" switches.
    let switched = RwSignal::new(false);
    let recovery = move || switched.get() != (!offered(Totp) && offered(RecoveryCode));
    let supported = passkey::supported();
    // The focus starts on the field, and moves to "Use a passkey", the first way, once shown.
    focus_when_mounted(field);
    focus_when_mounted(passkey_button);

    let on_submit = {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let text = typed.get_untracked();
            let body = if recovery() {
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
            switched.update(|r| *r = !*r);
            typed.set(String::new());
            kit.error.set(None);
            if let Some(input) = field.get_untracked() {
                let _ = input.focus();
            }
        }
    };
    let has_error = move || kit.input_invalid();
    view! {
        <h1>{t(|c| c.second_factor_heading())}</h1>
        <Notice />
        <StepContext with_username=true />
        {move || offered(Passkey).then(|| if supported {
            view! {
                <div class="passkey first">
                    <PasskeyButton
                        kit=kit
                        on_press=move |_| ask_on_flow(kit, Step::SecondFactor)
                        node_ref=passkey_button
                    />
                </div>
            }
            .into_any()
        } else {
            view! { <p class="hint" id="passkey-unsupported">{t(|c| c.passkey_unsupported())}</p> }
                .into_any()
        })}
        // The field and its buttons are hidden when the member has only a passkey; the error
        // line stays.
        <form on:submit=on_submit novalidate>
            <div hidden=move || !codes()>
                <label for="second-factor">
                    {move || {
                        if recovery() {
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
                    inputmode=move || if recovery() { "text" } else { "numeric" }
                    autocomplete="one-time-code"
                    autocapitalize="none"
                    spellcheck="false"
                    node_ref=field
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    aria-invalid=move || has_error().then_some("true")
                    aria-describedby="second-factor-error"
                />
            </div>
            <FieldError id="second-factor-error" kit=kit />
            <div hidden=move || !codes()>
                <SubmitButton busy=kit.busy />
                <button
                    type="button"
                    class="link-button"
                    id="switch-factor"
                    hidden=move || !(offered(Totp) && offered(RecoveryCode))
                    on:click=switch
                >
                    {move || {
                        if recovery() {
                            tr().second_factor_use_totp()
                        } else {
                            tr().second_factor_use_recovery()
                        }
                    }}
                </button>
            </div>
        </form>
    }
}
