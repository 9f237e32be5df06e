//! What the app keeps on this device: the Organization, only when the member asks, the
//! language the member chose, and which login flows this browser asked a code for (so the email's link fills the code only here).
//! Nothing secret is ever stored in the browser. Also the clipboard and downloads.

use wasm_bindgen::JsCast;

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

const LANGUAGE: &str = "member-login.lang";

/// The language the member chose on this device, if they did.
pub fn remembered_language() -> Option<String> {
    storage()?.get_item(LANGUAGE).ok()?
}

/// Remembers the member's choice of language (a language code, no secret).
pub fn remember_language(code: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(LANGUAGE, code);
    }
}

const CODE_FLOWS: &str = "member-login.code-flows";
/// How many flows are remembered: enough for a few logins in a row, never a growing list.
const CODE_FLOWS_KEPT: usize = 5;

/// Notes that this browser asked for a code for flow `id`. A flow id is no secret: without
/// the emailed code it logs nobody in.
pub fn remember_code_flow(id: &str) {
    let Some(storage) = storage() else { return };
    let kept = storage
        .get_item(CODE_FLOWS)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut ids: Vec<&str> = kept
        .split(' ')
        .filter(|k| !k.is_empty() && *k != id)
        .collect();
    ids.insert(0, id);
    ids.truncate(CODE_FLOWS_KEPT);
    let _ = storage.set_item(CODE_FLOWS, &ids.join(" "));
}

/// Whether this browser asked for a code for flow `id` (it started that login).
pub fn asked_code_for(id: &str) -> bool {
    storage()
        .and_then(|s| s.get_item(CODE_FLOWS).ok().flatten())
        .is_some_and(|kept| kept.split(' ').any(|k| k == id))
}

const RETURN_TO: &str = "member-login.return-to";

fn tab_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

const TAB_LANGUAGE: &str = "member-login.lang-of-tab";

/// Keeps the language a `?lang=` named, for the rest of this tab's visit.
pub fn keep_tab_language(code: &str) {
    if let Some(storage) = tab_storage() {
        let _ = storage.set_item(TAB_LANGUAGE, code);
    }
}

/// The language a `?lang=` named earlier in this tab, if any.
pub fn tab_language() -> Option<String> {
    tab_storage()?.get_item(TAB_LANGUAGE).ok()?
}

/// Keeps the page to return to after this tab's login (the `return_to` it was opened with;
/// checked only when used), or forgets it with `None`.
pub fn keep_return_to(url: Option<&str>) {
    if let Some(storage) = tab_storage() {
        let _ = match url {
            Some(url) => storage.set_item(RETURN_TO, url),
            None => storage.remove_item(RETURN_TO),
        };
    }
}

/// The page this tab's login was asked to return to, if any.
pub fn return_to() -> Option<String> {
    tab_storage()?.get_item(RETURN_TO).ok()?
}

/// Opens `url`, a page of the other build (the login from the account screens, or the other
/// way round), as a link would: a full page load that the router leaves alone.
pub fn open_page(url: &str) {
    let link = || -> Option<()> {
        let document = web_sys::window()?.document()?;
        let link: web_sys::HtmlAnchorElement =
            document.create_element("a").ok()?.dyn_into().ok()?;
        link.set_href(url);
        link.set_rel("external");
        let body = document.body()?;
        body.append_child(&link).ok()?;
        link.click();
        link.remove();
        Some(())
    };
    let _ = link();
}

/// Puts `text` on the clipboard. Returns whether the browser accepted (it may refuse without
/// a user gesture or over plain http).
pub async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into()).ok();
    let write = clipboard.as_ref().and_then(|c| {
        js_sys::Reflect::get(c, &"writeText".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    });
    match (clipboard, write) {
        (Some(clipboard), Some(write)) => match write.call1(&clipboard, &text.into()) {
            Ok(promise) => wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
                .await
                .is_ok(),
            Err(_) => false,
        },
        _ => false,
    }
}

/// Offers `text` as a file download named `filename`.
pub fn download_text(filename: &str, text: &str) -> bool {
    let attempt = || -> Option<()> {
        let parts = js_sys::Array::of1(&text.into());
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/plain;charset=utf-8");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
        let document = web_sys::window()?.document()?;
        let link: web_sys::HtmlAnchorElement =
            document.create_element("a").ok()?.dyn_into().ok()?;
        link.set_href(&url);
        link.set_download(filename);
        link.click();
        let _ = web_sys::Url::revoke_object_url(&url);
        Some(())
    };
    attempt().is_some()
}
