use leptos::prelude::*;

use super::Notice;

/// Where every login starts: members continue here, Owners are told where to go instead.
#[component]
pub fn Landing() -> impl IntoView {
    view! {
        <h1 tabindex="-1">"Log in"</h1>
        <Notice />
        <p>
            "Members of an Organization log in with the Organization ID, username and email "
            "address that an administrator gave them."
        </p>
        <a class="button primary" href="/login/organization">
            "Log in as an IAM Member"
        </a>
        <section class="aside" aria-labelledby="owner-heading">
            <h2 id="owner-heading">"Organization Owner?"</h2>
            <p>
                "Owners log in with the email address and password of their own account, "
                "on the account login page, not here."
            </p>
        </section>
    }
}
