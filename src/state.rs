//! What the steps of one login share: provided by the app, read by each step.

use leptos::prelude::*;
use member_login_api::Organization;

/// The login in progress.
#[derive(Clone, Copy, Default)]
pub struct LoginState {
    /// The Organization the member is logging into, once found.
    pub organization: RwSignal<Option<Organization>>,
}

/// The login in progress, from any step.
pub fn use_login_state() -> LoginState {
    expect_context::<LoginState>()
}
