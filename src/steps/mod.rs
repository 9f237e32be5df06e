//! One module a step of the member's journey; each is a route.

mod landing;
mod not_found;
mod organization;
mod username;

pub use landing::Landing;
pub use not_found::NotFound;
pub use organization::OrganizationStep;
pub use username::UsernameStep;

use leptos::html::Input;
use leptos::prelude::*;

/// Puts the keyboard focus on the step's first field once it is in the page, so that keyboard
/// and screen reader users start where the step does.
fn focus_when_mounted(field: NodeRef<Input>) {
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
        }
    });
}
