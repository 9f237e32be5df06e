//! What the steps of one login share: provided by the app, read by each step.

use leptos::prelude::*;
use member_login_api::flow::Flow;
use member_login_api::Organization;

use crate::i18n::Key;

/// A flow as last answered by the API, with the device time it arrived (for countdowns).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSnapshot {
    pub flow: Flow,
    pub received_at: f64,
}

/// The login in progress.
#[derive(Clone, Copy)]
pub struct LoginState {
    /// The Organization the member is logging into, once found.
    pub organization: RwSignal<Option<Organization>>,
    /// The login flow, once started.
    pub flow: RwSignal<Option<FlowSnapshot>>,
    /// What the member typed as username: kept when they go back and forth.
    pub username: RwSignal<String>,
    /// A message for the next step to show (the flow was restarted, the member logged out).
    pub notice: RwSignal<Option<Key>>,
}

impl Default for LoginState {
    fn default() -> Self {
        Self {
            organization: RwSignal::new(None),
            flow: RwSignal::new(None),
            username: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
        }
    }
}

impl LoginState {
    /// Keeps a fresh flow answer (and the Organization it carries).
    pub fn keep(&self, flow: Flow) {
        if self
            .organization
            .with_untracked(|o| o.as_ref() != Some(&flow.organization))
        {
            self.organization.set(Some(flow.organization.clone()));
        }
        if let Some(name) = &flow.username {
            if self.username.with_untracked(|u| u.trim() != name) {
                self.username.set(name.clone());
            }
        }
        self.flow.set(Some(FlowSnapshot {
            flow,
            received_at: device_now(),
        }));
    }
}

/// The login in progress, from any step.
pub fn use_login_state() -> LoginState {
    expect_context::<LoginState>()
}

/// The device's clock, in seconds.
pub fn device_now() -> f64 {
    js_sys::Date::now() / 1000.0
}
