//! Member Login: the sign-in app members of a cloud Organization use to log in.
//!
//! Each step of the member's journey is a route; the state the steps share lives in
//! [`state::LoginState`], provided once by [`App`].

pub mod api_client;
pub mod device;
pub mod messages;
pub mod state;
pub mod steps;
pub mod wizard;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use steps::{
    DoneStep, EmailCodeStep, EnableMfaStep, Landing, MethodStep, NotFound, OrganizationStep,
    PasswordStep, SecondFactorStep, UpdatePasswordStep, UsernameStep,
};

/// The whole app: the router and the state every step shares.
#[component]
pub fn App() -> impl IntoView {
    provide_context(state::LoginState::default());
    view! {
        <Router>
            <main class="card">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Landing />
                    <Route path=path!("/login/organization") view=OrganizationStep />
                    <Route path=path!("/login/username") view=UsernameStep />
                    <Route path=path!("/login/method") view=MethodStep />
                    <Route path=path!("/login/code") view=EmailCodeStep />
                    <Route path=path!("/login/password") view=PasswordStep />
                    <Route path=path!("/login/second-factor") view=SecondFactorStep />
                    <Route path=path!("/login/done") view=DoneStep />
                    <Route path=path!("/account/password") view=UpdatePasswordStep />
                    <Route path=path!("/account/mfa") view=EnableMfaStep />
                </Routes>
            </main>
        </Router>
    }
}
