//! Mounts the app; everything else lives in the library so browser tests can import it.

fn main() {
    console_error_panic_hook::set_once();
    // The static first paint from index.html gives way to the app in the same task.
    if let Some(shell) = leptos::prelude::document().get_element_by_id("shell") {
        shell.remove();
    }
    leptos::mount::mount_to_body(member_login::App);
}
