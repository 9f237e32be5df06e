use leptos::html::Input;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use member_login_api::OrganizationKey;

use super::{focus_when_mounted, SubmitButton};
use crate::api_client::{ClientError, RequestScope};
use crate::i18n::{lang, t};
use crate::messages::Said;
use crate::state::use_login_state;
use crate::{device, messages, wizard};

/// Step 2: the member names their Organization by ID or alias. Nothing is sent until what they
/// typed has the shape of one.
#[component]
pub fn OrganizationStep() -> impl IntoView {
    let state = use_login_state();
    let navigate = use_navigate();
    // Coming back with "Change" shows what was entered before; else what this device was
    // asked to remember.
    let remembered = device::remembered_organization();
    let remember = RwSignal::new(remembered.is_some());
    let typed = RwSignal::new(
        state
            .organization
            .with_untracked(|org| org.as_ref().map(|o| o.alias.clone()))
            .or(remembered)
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<Said>);
    // Whether the error is about what was typed (then the field is marked invalid).
    let blamed = RwSignal::new(true);
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);

    let api = StoredValue::new_local(RequestScope::for_component());
    let busy = RwSignal::new(false);
    // A link from an administrator (`?organization=`) fills the field and continues by itself;
    // this step then leaves no history entry, so Back does not bounce forward again.
    let linked = use_query_map().with_untracked(|q| q.get("organization"));
    let replace = linked.is_some();
    let look_up = move |key: OrganizationKey| {
        busy.set(true);
        let api = api.get_value();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let found = api.find_organization(&key).await;
            busy.set(false);
            match found {
                Ok(org) => {
                    device::remember_organization(
                        remember.get_untracked().then_some(org.alias.as_str()),
                    );
                    let next = format!("/login/username?organization={}", org.alias);
                    state.organization.set(Some(org));
                    navigate(
                        &next,
                        NavigateOptions {
                            replace,
                            ..Default::default()
                        },
                    );
                }
                Err(ClientError::Cancelled) => {}
                Err(err) => {
                    // Offline or a server error: nothing to change in what was typed.
                    blamed.set(
                        matches!(&err, ClientError::Problem(p) if wizard::blames_input(p.code)),
                    );
                    error.set(Some(messages::of_error(err)));
                }
            }
        });
    };
    if let Some(text) = &linked {
        typed.set(text.clone());
        match OrganizationKey::parse(text) {
            Ok(key) => look_up(key),
            Err(why) => {
                blamed.set(true);
                error.set(Some(messages::key(messages::organization_input(why))));
            }
        }
    }

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        match OrganizationKey::parse(&typed.get_untracked()) {
            Ok(key) => {
                error.set(None);
                look_up(key);
            }
            Err(why) => {
                blamed.set(true);
                error.set(Some(messages::key(messages::organization_input(why))));
                if let Some(input) = field.get_untracked() {
                    let _ = input.focus();
                }
            }
        }
    };

    view! {
        <form on:submit=on_submit novalidate>
            <h1>{t(|c| c.organization_heading())}</h1>
            <p>{t(|c| c.organization_intro())}</p>
            <label for="organization">{t(|c| c.organization_label())}</label>
            <input
                id="organization"
                name="organization"
                type="text"
                autocomplete="organization"
                autocapitalize="none"
                spellcheck="false"
                node_ref=field
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
                aria-invalid=move || (blamed.get() && error.with(Option::is_some)).then_some("true")
                aria-describedby=move || error.with(Option::is_some).then_some("organization-error")
            />
            <p id="organization-error" class="field-error" role="alert">
                {move || {
                    let lang = lang();
                    error.with(|e| e.as_ref().map(|said| said(lang)))
                }}
            </p>
            <div class="checkbox">
                <input
                    type="checkbox"
                    id="remember"
                    prop:checked=move || remember.get()
                    on:change=move |ev| remember.set(event_target_checked(&ev))
                    aria-describedby="remember-hint"
                />
                <label for="remember">{t(|c| c.organization_remember())}</label>
            </div>
            <p id="remember-hint" class="hint">{t(|c| c.organization_remember_hint())}</p>
            <SubmitButton busy=busy />
        </form>
    }
}
