use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use member_login_api::flow::SubmitPassword;

use super::{
    focus_when_mounted, FieldError, Notice, ShowPasswordToggle, StepContext, StepKit, SubmitButton,
};
use crate::i18n::t;
use crate::messages;
use crate::wizard::Step;

/// Step 6: the password. A show/hide toggle whose state screen readers hear; paste and
/// password managers work (a real form with `autocomplete="current-password"`).
#[component]
pub fn PasswordStep() -> impl IntoView {
    let kit = StepKit::new();
    kit.load_flow(Step::Password);
    let state = kit.state;
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);
    let password = RwSignal::new(String::new());
    let shown = RwSignal::new(false);

    let on_submit = {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let typed = password.get_untracked();
            if typed.is_empty() {
                kit.refuse(messages::key(|c| c.password_empty()));
                return;
            }
            kit.submit_on_flow(Step::Password, true, move |api, id| {
                let password = typed.clone();
                async move { api.password(&id, &SubmitPassword { password }).await }
            });
        }
    };
    let has_error = move || kit.input_invalid();
    let username = move || state.username.get();
    view! {
        <form on:submit=on_submit novalidate>
            <h1>{t(|c| c.password_heading())}</h1>
            <Notice />
            <StepContext with_username=true />
            // Password managers pair the password with the username of the same form.
            <input
                type="text"
                name="username"
                autocomplete="username"
                class="visually-hidden"
                tabindex="-1"
                aria-hidden="true"
                readonly
                prop:value=username
            />
            <label for="password">{t(|c| c.password_label())}</label>
            <div class="password-row">
                <input
                    id="password"
                    name="password"
                    type=move || if shown.get() { "text" } else { "password" }
                    autocomplete="current-password"
                    autocapitalize="none"
                    spellcheck="false"
                    node_ref=field
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                    aria-invalid=move || has_error().then_some("true")
                    aria-describedby="password-error"
                />
                <ShowPasswordToggle id="toggle-password" controls="password" shown=shown />
            </div>
            <FieldError id="password-error" kit=kit />
            <SubmitButton busy=kit.busy />
        </form>
    }
}
