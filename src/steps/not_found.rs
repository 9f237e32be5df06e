use leptos::prelude::*;

use crate::i18n::t;

/// A path that is no step of this page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1 tabindex="-1">{t(|c| c.not_found_heading())}</h1>
        <p>{t(|c| c.not_found_text())}</p>
        <a class="button primary" href="/" rel="external">
            {t(|c| c.not_found_start_again())}
        </a>
    }
}
