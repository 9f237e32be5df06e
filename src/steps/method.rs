use leptos::prelude::*;
use member_login_api::LoginMethod;

use super::passkey_login::{ask_on_flow, PasskeyButton};
use super::{focus_when_mounted, FieldError, Notice, StepContext, StepKit};
use crate::i18n::{t, tr};
use crate::passkey;
use crate::wizard::Step;

/// Step 4: "Send code" or "Enter password", only those the Organization enables, and "Use a
/// passkey" where it enables passkeys and the browser has them (PRODUCT.md): any of the
/// Organization's passkeys, on this flow.
#[component]
pub fn MethodStep() -> impl IntoView {
    let kit = StepKit::new();
    kit.load_flow(Step::Method);
    let heading = NodeRef::<leptos::html::H1>::new();
    focus_when_mounted(heading);
    let state = kit.state;
    let flow_id = move || {
        state
            .flow
            .with(|f| f.as_ref().map(|f| f.flow.id.clone()))
            .unwrap_or_default()
    };
    let enabled = move |method: LoginMethod| {
        state.organization.with(|o| {
            o.as_ref()
                .is_some_and(|o| o.login_methods.contains(&method))
        })
    };
    let send_code = move |_| {
        kit.submit_on_flow(Step::Method, false, |api, id| async move {
            api.send_code(&id).await
        });
    };
    let password_url = { move || Step::Password.url(&kit.organization_alias(), Some(&flow_id())) };
    let busy = kit.busy;
    view! {
        <h1 tabindex="-1" node_ref=heading>{t(|c| c.method_heading())}</h1>
        <Notice />
        <StepContext with_username=true />
        <div class="methods">
            {move || enabled(LoginMethod::EmailCode).then(|| view! {
                <button
                    type="button"
                    class="button primary"
                    id="send-code"
                    on:click=send_code
                    aria-disabled=move || busy.get().then_some("true")
                    aria-describedby="send-code-hint"
                >
                    {move || if busy.get() { tr().method_sending() } else { tr().method_send_code() }}
                </button>
                <p id="send-code-hint" class="hint">{t(|c| c.method_send_code_hint())}</p>
            })}
            {move || enabled(LoginMethod::Password).then(|| view! {
                <a class="button secondary" id="enter-password" href=password_url>
                    {t(|c| c.method_enter_password())}
                </a>
            })}
            {move || (enabled(LoginMethod::Passkey) && passkey::supported()).then(|| view! {
                <PasskeyButton kit=kit on_press=move |_| ask_on_flow(kit, Step::Method) />
            })}
        </div>
        <FieldError id="method-error" kit=kit />
    }
}
