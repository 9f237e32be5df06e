//! Mounts the app; everything else lives in the library so browser tests can import it.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(member_login::App);
}
