use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;
use member_login_api::OrganizationKey;

use super::focus_when_mounted;
use crate::state::use_login_state;
use crate::{api_client, messages};

/// Step 3: the member's username, under the Organization they are logging into.
#[component]
pub fn UsernameStep() -> impl IntoView {
    let state = use_login_state();
    let query = use_query_map();
    let problem = RwSignal::new(None::<&'static str>);
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);

    // The URL names the Organization, so a reload or a shared link finds it again.
    let key = query
        .with_untracked(|q| q.get("organization"))
        .and_then(|text| OrganizationKey::parse(&text).ok());
    let Some(key) = key else {
        return view! { <Redirect path="/login/organization" /> }.into_any();
    };
    let known = state.organization.with_untracked(|org| {
        org.as_ref()
            .is_some_and(|o| o.alias == key.as_str() || o.id == key.as_str())
    });
    if !known {
        state.organization.set(None);
        spawn_local(async move {
            match api_client::find_organization(&key).await {
                Ok(org) => state.organization.set(Some(org)),
                Err(err) => problem.set(Some(messages::client_error(&err))),
            }
        });
    }

    let organization_name = move || {
        state
            .organization
            .with(|org| org.as_ref().map(|o| o.name.clone()))
    };
    view! {
        <form novalidate>
            <h1>"Enter your username"</h1>
            <p class="context" aria-live="polite">
                {move || match organization_name() {
                    Some(name) => {
                        view! {
                            "Logging into "
                            <strong id="current-organization">{name}</strong>
                        }
                            .into_any()
                    }
                    None => view! { {move || problem.get().unwrap_or("Finding your Organization…")} }.into_any(),
                }}
                " "
                <a href="/login/organization" class="change">
                    "Change"
                    <span class="visually-hidden">" Organization"</span>
                </a>
            </p>
            <label for="username">"Username"</label>
            <input
                id="username"
                name="username"
                type="text"
                autocomplete="username"
                autocapitalize="none"
                spellcheck="false"
                node_ref=field
            />
        </form>
    }
    .into_any()
}
