use leptos::html::H1;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::{focus_when_mounted, query_param, Notice};
use crate::i18n::t;

/// Where every login starts: members continue here, Owners are told where to go instead.
#[component]
pub fn Landing() -> impl IntoView {
    // An administrator's direct link may name the Organization here too: it goes on as the
    // Organization step's link does.
    if let Some(organization) = query_param("organization") {
        let encoded = String::from(js_sys::encode_uri_component(&organization));
        use_navigate()(
            &format!("/login/organization?organization={encoded}"),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    }
    // The heading takes the focus (after Log out, or a link here), so a screen reader says
    // where the member is.
    let heading = NodeRef::<H1>::new();
    focus_when_mounted(heading);
    view! {
        <h1 tabindex="-1" node_ref=heading>{t(|c| c.landing_heading())}</h1>
        <Notice />
        <p>{t(|c| c.landing_intro())}</p>
        <a class="button primary" href="/login/organization">
            {t(|c| c.landing_member_button())}
        </a>
        <section class="aside" aria-labelledby="owner-heading">
            <h2 id="owner-heading">{t(|c| c.landing_owner_heading())}</h2>
            <p>{t(|c| c.landing_owner_text())}</p>
        </section>
    }
}
