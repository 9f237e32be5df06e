use leptos::prelude::*;

/// A path that is no step of the login.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1 tabindex="-1">"Page not found"</h1>
        <p>"This address is not part of the login."</p>
        <a class="button primary" href="/">
            "Start again"
        </a>
    }
}
