//! Mounts the account app (account/index.html): the screens of a logged-in member, loaded only
//! when the member opens one, never with the login.

fn main() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // The static first paint ("Loading…") gives way to the app.
    if let Some(shell) = leptos::prelude::document().get_element_by_id("account-shell") {
        shell.remove();
    }
    leptos::mount::mount_to_body(member_login::AccountApp);
    member_login::api_client::load_config();
}
