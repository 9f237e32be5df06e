//! What the app keeps on this device: only the Organization, and only when the member asks.
//! Nothing secret is ever stored in the browser.

const KEY: &str = "member-login.organization";

fn storage() -> Option<web_sys::Storage> {
    // Storage can be missing or refuse (private browsing, blocked cookies): then nothing is kept.
    web_sys::window()?.local_storage().ok()?
}

/// The Organization the member asked this device to remember.
pub fn remembered_organization() -> Option<String> {
    storage()?.get_item(KEY).ok()?
}

/// Remembers the Organization's alias, or forgets it with `None`.
pub fn remember_organization(alias: Option<&str>) {
    if let Some(storage) = storage() {
        let _ = match alias {
            Some(alias) => storage.set_item(KEY, alias),
            None => storage.remove_item(KEY),
        };
    }
}
