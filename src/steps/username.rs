use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;
use leptos_router::components::Redirect;
use member_login_api::flow::{normalize_username, FlowState, SubmitUsername};
use member_login_api::OrganizationKey;

use super::passkey_login::{passkeys_enabled, PasskeyLogin};
use super::{
    focus_when_mounted, query_param, FieldError, Notice, StepContext, StepKit, SubmitButton,
};
use crate::i18n::t;
use crate::messages;
use crate::wizard::Step;

/// Step 3: the member's username, under the Organization they are logging into. Submitting
/// starts a login flow; whether the username exists is never shown.
#[component]
pub fn UsernameStep() -> impl IntoView {
    let kit = StepKit::new();
    let state = kit.state;
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);

    // The URL names the Organization, so a reload or a shared link finds it again.
    let Some(key) = query_param("organization").and_then(|t| OrganizationKey::parse(&t).ok())
    else {
        return view! { <Redirect path="/login/organization" /> }.into_any();
    };
    let known = state.organization.with_untracked(|org| {
        org.as_ref()
            .is_some_and(|o| o.alias == key.as_str() || o.id == key.as_str())
    });
    if !known {
        state.organization.set(None);
        spawn_local(async move {
            match kit.api().find_organization(&key).await {
                Ok(org) => kit.state.organization.set(Some(org)),
                Err(err) => kit.fail(err, Step::Username),
            }
        });
    }

    let on_submit = {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let Some(username) = normalize_username(&state.username.get_untracked()) else {
                kit.refuse(messages::key(|c| c.username_empty()));
                if let Some(input) = field.get_untracked() {
                    let _ = input.focus();
                }
                return;
            };
            let organization = kit.organization_alias();
            // "Change" to the same username while a code is on its way: this flow goes on,
            // keeping that code; any other username starts a new flow.
            let same = state.flow.with_untracked(|f| {
                f.as_ref()
                    .map(|f| &f.flow)
                    .filter(|f| {
                        f.state == FlowState::EmailCode
                            && f.organization.alias == organization
                            && f.username
                                .as_deref()
                                .is_some_and(|u| u.eq_ignore_ascii_case(&username))
                    })
                    .map(|f| f.id.clone())
            });
            match same {
                Some(id) => kit.submit(Step::Username, false, move |api| async move {
                    api.submit_username(&id, &SubmitUsername { username }).await
                }),
                None => kit.start_flow(Step::Username, organization, username),
            }
        }
    };
    let has_error = move || kit.input_invalid();
    view! {
        <form on:submit=on_submit novalidate>
            <h1>{t(|c| c.username_heading())}</h1>
            <Notice />
            <StepContext />
            <label for="username">{t(|c| c.username_label())}</label>
            <p id="username-hint" class="hint">{t(|c| c.username_hint())}</p>
            <input
                id="username"
                name="username"
                type="text"
                // The browser's autofill may offer the Organization's passkeys here too.
                autocomplete=move || {
                    if passkeys_enabled(kit) { "username webauthn" } else { "username" }
                }
                autocapitalize="none"
                spellcheck="false"
                node_ref=field
                prop:value=move || state.username.get()
                on:input=move |ev| state.username.set(event_target_value(&ev))
                aria-invalid=move || has_error().then_some("true")
                aria-describedby=move || {
                    if has_error() { "username-hint username-error" } else { "username-hint" }
                }
            />
            <FieldError id="username-error" kit=kit />
            <SubmitButton busy=kit.busy />
            <PasskeyLogin kit=kit />
        </form>
    }
    .into_any()
}
