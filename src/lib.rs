//! Member Login: the sign-in app members of a cloud Organization use to log in.
//!
//! Each step of the member's journey is a route; the state the steps share lives in
//! [`state::LoginState`], provided once by [`App`].

pub mod api_client;
pub mod device;
pub mod i18n;
pub mod js_de;
pub mod messages;
pub mod passkey;
pub mod state;
pub mod steps;
pub mod wizard;

use leptos::prelude::*;
use leptos_router::components::Router;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::location::{BrowserUrl, LocationProvider};

use steps::{
    DoneStep, EmailCodeStep, EnableMfaStep, Landing, MethodStep, NotFound, OrganizationStep,
    PasskeysStep, PasswordStep, SecondFactorStep, UpdatePasswordStep, UsernameStep,
};

/// The login page (index.html): landing → done. The account screens are another page.
#[component]
pub fn App() -> impl IntoView {
    Page(login_step)
}

/// The account page (account/index.html): the screens of a logged-in member.
#[component]
pub fn AccountApp() -> impl IntoView {
    Page(account_step)
}

/// A page of the app: the router, the state every step shares, and the step its path names.
#[allow(non_snake_case)]
fn Page(step_view: fn(&str) -> AnyView) -> impl IntoView {
    // The language is chosen now, while the address still holds any `?lang=` (a step may
    // rewrite it as it opens: the email link's code step does).
    let _ = i18n::lang_untracked();
    let state = state::LoginState::default();
    provide_context(state);
    // The Organization's accent colour, once it is known, where it is readable (AA contrast
    // with white; the stylesheet uses it in the light theme only). Otherwise the app's own.
    let accent = move || {
        state.organization.with(|o| {
            o.as_ref()
                .and_then(|o| o.accent_color.clone())
                .filter(|c| member_login_api::branding::accent_passes_aa(c))
        })
    };
    view! {
        <Router>
            <main class="card" style=("--org-accent", accent)>
                <CurrentStep step_view=step_view />
            </main>
            <LanguageSwitch />
        </Router>
    }
}

/// The language switch, on every step: each language named in itself, the one in use marked
/// (`aria-pressed`). Switching changes every word in place; the step and what was typed stay.
#[component]
fn LanguageSwitch() -> impl IntoView {
    use i18n::{lang, set_lang, t, Lang};
    view! {
        <nav class="languages" aria-label=t(|c| c.language_switch_label())>
            {Lang::ALL
                .into_iter()
                .map(|l| {
                    view! {
                        <button
                            type="button"
                            class="link-button"
                            lang=l.code()
                            aria-pressed=move || if lang() == l { "true" } else { "false" }
                            on:click=move |_| set_lang(l)
                        >
                            {l.catalogue().language_name()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The step the URL's path names. One plain match instead of a route table: the steps are
/// flat, and a route table costs the app about a tenth of its bytes in generic code.
#[component]
fn CurrentStep(step_view: fn(&str) -> AnyView) -> impl IntoView {
    let path = use_location().pathname;
    let location = use_context::<BrowserUrl>();
    // The page to hand the member back to after login, from whichever page the login began on;
    // it outlives the steps' own addresses (and reloads) in this tab.
    if let Some(url) = use_query_map().with_untracked(|q| q.get("return_to")) {
        device::keep_return_to(Some(&url));
    }
    // The title names the step, in the language in use (which alone re-renders nothing).
    Effect::new(move |_| {
        let title = path.with(|p| wizard::page_title(p));
        document().set_title(title(i18n::tr()));
    });
    move || {
        let path = path.get();
        // Steps read their signals untracked when they start, so only a new path re-renders.
        let view = untrack(|| step_view(&path));
        // A link the router took over waits for this before it updates the address bar (a
        // route table would say so once its view is ready).
        if let Some(location) = &location {
            location.ready_to_complete();
        }
        view
    }
}

fn login_step(path: &str) -> AnyView {
    match path {
        "/" => Landing().into_any(),
        "/login/organization" => OrganizationStep().into_any(),
        "/login/username" => UsernameStep().into_any(),
        "/login/method" => MethodStep().into_any(),
        "/login/code" => EmailCodeStep().into_any(),
        "/login/password" => PasswordStep().into_any(),
        "/login/second-factor" => SecondFactorStep().into_any(),
        "/login/done" => DoneStep().into_any(),
        _ => NotFound().into_any(),
    }
}

fn account_step(path: &str) -> AnyView {
    match path {
        "/account/password" => UpdatePasswordStep().into_any(),
        "/account/mfa" => EnableMfaStep().into_any(),
        "/account/passkeys" => PasskeysStep().into_any(),
        _ => NotFound().into_any(),
    }
}
