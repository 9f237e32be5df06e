use leptos::prelude::*;

/// A path that is no step of this page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1 tabindex="-1">"Page not found"</h1>
        <p>"This address is not part of the login or the account screens."</p>
        <a class="button primary" href="/" rel="external">
            "Start again"
        </a>
    }
}
