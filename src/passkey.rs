//! Passkeys in the browser: the WebAuthn calls of both pages, in one place. The login page asks
//! for one ([`get`]), the account page adds one ([`create`]); each page keeps only the half it
//! calls.
//!
//! The API gives the ceremonies' options as WebAuthn's JSON forms (`{"publicKey": {...}}`,
//! binary fields as unpadded base64url) and takes the browser's answer in the same form. The
//! conversion is done here by hand, a few fields each way, rather than with
//! `PublicKeyCredential.parse…FromJSON` / `toJSON()`, which older browsers lack: one code path,
//! the same in every browser.

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

/// Why the browser gave no passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyError {
    /// This browser has no WebAuthn.
    Unsupported,
    /// `NotAllowedError`: the member cancelled or let the prompt time out, or this device has
    /// no passkey for this site (browsers do not say which, on purpose).
    NotAllowed,
    /// `InvalidStateError` when adding: this authenticator already holds one of the member's
    /// passkeys (the server lists them as excluded).
    AlreadyAdded,
    /// The app itself aborted the request (the step went away, the autofill request gave way
    /// to the button's). Nothing to say.
    Aborted,
    /// Anything else (a security error, options the browser refused).
    Failed,
}

/// Why a passkey ceremony with the API did not end well: the API refused, or the browser gave
/// no passkey.
pub enum Failure {
    Api(crate::api_client::ClientError),
    Browser(PasskeyError),
}

impl From<crate::api_client::ClientError> for Failure {
    fn from(e: crate::api_client::ClientError) -> Self {
        Self::Api(e)
    }
}

impl From<PasskeyError> for Failure {
    fn from(e: PasskeyError) -> Self {
        Self::Browser(e)
    }
}

/// Whether this browser can use passkeys at all.
pub fn supported() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let class = Reflect::get(&window, &"PublicKeyCredential".into()).unwrap_or_default();
    class.is_function() && credentials().is_some()
}

fn credentials() -> Option<Object> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"credentials".into())
        .ok()
        .filter(|c| c.is_object())
        .map(JsCast::unchecked_into)
}

/// Calls `target.name(args…)` if it is a function; `None` otherwise.
fn call(target: &JsValue, name: &str, args: &Array) -> Option<JsValue> {
    let method = Reflect::get(target, &name.into()).ok()?;
    let method = method.dyn_ref::<Function>()?;
    method.apply(target, args).ok()
}

/// Whether the browser offers passkeys in a field's autofill (conditional mediation).
pub async fn autofill_available() -> bool {
    if !supported() {
        return false;
    }
    let Some(window) = web_sys::window() else {
        return false;
    };
    let class = Reflect::get(&window, &"PublicKeyCredential".into()).unwrap_or_default();
    match call(&class, "isConditionalMediationAvailable", &Array::new()) {
        Some(promise) => JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .is_ok_and(|v| v.is_truthy()),
        None => false,
    }
}

/// Asks the browser for a passkey (`navigator.credentials.get`) with the API's request options.
/// With `autofill`, the request waits, without a prompt, for the member to pick a passkey in a
/// field marked `autocomplete="… webauthn"`; its signal ends it. Answers the
/// AuthenticationResponseJSON for the API.
pub async fn get(
    options: &JsValue,
    autofill: Option<&AbortSignal>,
) -> Result<JsValue, PasskeyError> {
    let request = request(options)?;
    if let Some(signal) = autofill {
        set(&request, "mediation", &"conditional".into());
        set(&request, "signal", signal);
    }
    ceremony("get", &request).await
}

/// Asks the browser to make a passkey (`navigator.credentials.create`) with the API's creation
/// options. Answers the RegistrationResponseJSON for the API.
pub async fn create(options: &JsValue) -> Result<JsValue, PasskeyError> {
    let request = request(options)?;
    ceremony("create", &request).await
}

fn get_field(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &name.into()).unwrap_or_default()
}

fn set(target: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(target, &name.into(), value);
}

/// `{publicKey}` with its base64url fields as the bytes the browser wants: the challenge, the
/// user's id (creation), and the ids of the credentials listed (excluded or allowed).
fn request(options: &JsValue) -> Result<Object, PasskeyError> {
    let public_key = get_field(options, "publicKey");
    if !public_key.is_object() {
        return Err(PasskeyError::Failed);
    }
    let to_bytes = |target: &JsValue, name: &str| -> Result<(), PasskeyError> {
        let value = get_field(target, name);
        if let Some(text) = value.as_string() {
            let bytes = base64url_decode(&text).ok_or(PasskeyError::Failed)?;
            set(target, name, &Uint8Array::from(&bytes[..]));
        }
        Ok(())
    };
    to_bytes(&public_key, "challenge")?;
    let user = get_field(&public_key, "user");
    if user.is_object() {
        to_bytes(&user, "id")?;
    }
    for list in ["excludeCredentials", "allowCredentials"] {
        let list = get_field(&public_key, list);
        if Array::is_array(&list) {
            for item in Array::from(&list).iter() {
                to_bytes(&item, "id")?;
            }
        }
    }
    let request = Object::new();
    set(&request, "publicKey", &public_key);
    Ok(request)
}

async fn ceremony(method: &str, request: &Object) -> Result<JsValue, PasskeyError> {
    let container = credentials().ok_or(PasskeyError::Unsupported)?;
    let promise =
        call(&container, method, &Array::of1(request)).ok_or(PasskeyError::Unsupported)?;
    match JsFuture::from(js_sys::Promise::resolve(&promise)).await {
        Ok(credential) if credential.is_object() => Ok(response_json(&credential)),
        Ok(_) => Err(PasskeyError::NotAllowed),
        Err(error) => Err(match get_field(&error, "name").as_string().as_deref() {
            Some("NotAllowedError") => PasskeyError::NotAllowed,
            Some("InvalidStateError") => PasskeyError::AlreadyAdded,
            Some("AbortError") => PasskeyError::Aborted,
            _ => PasskeyError::Failed,
        }),
    }
}

/// The browser's PublicKeyCredential as WebAuthn's JSON form: its binary fields in base64url.
fn response_json(credential: &JsValue) -> JsValue {
    let json = Object::new();
    let base64 = |value: &JsValue| -> JsValue {
        if value.is_object() {
            base64url_encode(&Uint8Array::new(value).to_vec()).into()
        } else {
            JsValue::UNDEFINED
        }
    };
    let copy = |from: &JsValue, to: &JsValue, name: &str, binary: bool| {
        let value = get_field(from, name);
        let value = if binary { base64(&value) } else { value };
        if !value.is_undefined() && !value.is_null() {
            set(to, name, &value);
        }
    };
    copy(credential, &json, "id", false);
    copy(credential, &json, "rawId", true);
    copy(credential, &json, "type", false);
    copy(credential, &json, "authenticatorAttachment", false);
    let extensions = call(credential, "getClientExtensionResults", &Array::new())
        .filter(JsValue::is_object)
        .unwrap_or_else(|| Object::new().into());
    set(&json, "clientExtensionResults", &extensions);
    let response = get_field(credential, "response");
    let out = Object::new();
    for name in [
        "clientDataJSON",
        "attestationObject",
        "authenticatorData",
        "signature",
        "userHandle",
    ] {
        copy(&response, &out, name, true);
    }
    if let Some(transports) = call(&response, "getTransports", &Array::new()) {
        set(&out, "transports", &transports);
    }
    set(&json, "response", &out);
    json.into()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5), as WebAuthn's JSON forms carry bytes.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// The bytes of base64url text; padding is ignored, and so is the standard alphabet's `+` and
/// `/`. `None` for anything else.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0u32);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = bits << 6 | value as u32;
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    // A lone sixth of a byte is no encoding of anything.
    (held < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_without_padding() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (&[0xfb, 0xff, 0xbf][..], "-_-_"),
        ] {
            assert_eq!(base64url_encode(bytes), text);
            assert_eq!(base64url_decode(text).as_deref(), Some(bytes));
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64url_decode(&base64url_encode(&all)), Some(all));
    }

    #[test]
    fn base64url_takes_padding_and_the_standard_alphabet_and_refuses_the_rest() {
        assert_eq!(base64url_decode("Zm8=").as_deref(), Some(&b"fo"[..]));
        assert_eq!(
            base64url_decode("+/+/").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(base64url_decode("Zm 8"), None);
        assert_eq!(base64url_decode("Z"), None);
    }
}
