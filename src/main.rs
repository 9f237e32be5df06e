//! Mounts the app; everything else lives in the library so browser tests can import it.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

fn main() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let document = leptos::prelude::document();
    let input = |id: &str| {
        document
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
    };
    // The static first paint from index.html gives way to the app in the same task, and what
    // the member already typed into its Organization form comes along.
    let typed = document.get_element_by_id("shell").map(|shell| {
        let organization = input("organization");
        let focused = organization.as_ref().is_some_and(|field| {
            document
                .active_element()
                .is_some_and(|active| active == ***field)
        });
        let text = organization.map(|field| field.value()).unwrap_or_default();
        let remember = input("remember").is_some_and(|field| field.checked());
        shell.remove();
        (text, remember, focused)
    });
    leptos::mount::mount_to_body(member_login::App);
    member_login::api_client::load_config();
    if let Some((text, remember, focused)) = typed {
        let changed = |field: &HtmlInputElement, event: &str| {
            if let Ok(event) = web_sys::Event::new(event) {
                let _ = field.dispatch_event(&event);
            }
        };
        if let Some(field) = input("organization") {
            if !text.is_empty() {
                field.set_value(&text);
                changed(&field, "input");
            }
            if focused {
                let _ = field.focus();
            }
        }
        if let Some(field) = input("remember").filter(|_| remember) {
            field.set_checked(true);
            changed(&field, "change");
        }
    }
}
