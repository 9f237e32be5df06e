//! Typed values straight from what the browser's JSON parser made (`Response.json()`), for
//! the contract's types and `config.json`. Each type the app reads has a plain reader
//! ([`FromJs`]) that takes the few fields it needs with `Reflect::get`: no serde visitor per
//! type, and no error wording (an answer that does not fit is `None`, which the client turns
//! into [`crate::api_client::ClientError::Unexpected`]).
//!
//! The readers keep the contract's serde attributes exactly: a field with `#[serde(default)]`
//! may be absent (but not `null`, unless it is an `Option`), an `Option` may be absent or
//! `null`, an enum is its snake_case name and a name this version does not know is the type's
//! `Unknown` variant where it has one (`#[serde(other)]`), else the whole answer does not fit.
//! Numbers must be whole, within JavaScript's exact integers and within the field's type.
//! Unknown fields are ignored. `tests/web.rs` holds them to the serde reader they replace.

use js_sys::{Array, Reflect};
use member_login_api::flow::{CodeStatus, Flow, FlowMessage, FlowState, SecondFactorMethod};
use member_login_api::passkey::{Passkey, Passkeys};
use member_login_api::session::{
    Member, MfaEnrollment, PasswordRule, RecoveryCodes, Requirement, RequirementKind, Session,
};
use member_login_api::{LoginMethod, Organization, Problem, ProblemCode};
use wasm_bindgen::{JsCast, JsValue};

use crate::api_client::RuntimeConfig;

/// `value` as a `T`, or `None` when it does not have `T`'s shape.
pub fn from_js<T: FromJs>(value: JsValue) -> Option<T> {
    T::from_js(&value)
}

/// A type read from a value of the browser's JSON parser.
pub trait FromJs: Sized {
    /// `value` as this type, or `None` when it does not fit.
    fn from_js(value: &JsValue) -> Option<Self>;
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl FromJs for bool {
    fn from_js(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

/// The largest integer a double holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_EXACT: f64 = 9_007_199_254_740_991.0;

/// A whole number in `min..=max` (and within the exact integers), as a double.
fn whole(value: &JsValue, min: f64, max: f64) -> Option<f64> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && n.abs() <= MAX_EXACT && n >= min && n <= max).then_some(n)
}

macro_rules! integers {
    ($($t:ty: $min:expr, $max:expr;)*) => {$(
        impl FromJs for $t {
            fn from_js(value: &JsValue) -> Option<Self> {
                whole(value, $min, $max).map(|n| n as $t)
            }
        }
    )*};
}

integers! {
    u8: 0.0, 255.0;
    u16: 0.0, 65_535.0;
    u64: 0.0, MAX_EXACT;
    i64: -MAX_EXACT, MAX_EXACT;
}

/// Absent or `null` is `None`; anything else must fit `T`.
impl<T: FromJs> FromJs for Option<T> {
    fn from_js(value: &JsValue) -> Option<Self> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

impl<T: FromJs> FromJs for Box<T> {
    fn from_js(value: &JsValue) -> Option<Self> {
        T::from_js(value).map(Box::new)
    }
}

/// An array whose every item fits `T`.
impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Option<Self> {
        if !Array::is_array(value) {
            return None;
        }
        value
            .unchecked_ref::<Array>()
            .iter()
            .map(|item| T::from_js(&item))
            .collect()
    }
}

/// A JSON object (not an array, not `null`), whose fields the readers below take.
struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    fn of(value: &'a JsValue) -> Option<Self> {
        (value.is_object() && !Array::is_array(value)).then_some(Self(value))
    }

    /// The field `name`, `undefined` when absent.
    fn raw(&self, name: &str) -> JsValue {
        Reflect::get(self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A field that must be there (an `Option` may be absent or `null`).
    fn get<T: FromJs>(&self, name: &str) -> Option<T> {
        T::from_js(&self.raw(name))
    }

    /// A field with `#[serde(default)]`: `T::default()` when absent (but `null` only where `T`
    /// takes it).
    fn or_default<T: FromJs + Default>(&self, name: &str) -> Option<T> {
        self.or_else(name, T::default)
    }

    /// A field with `#[serde(default = "…")]`.
    fn or_else<T: FromJs>(&self, name: &str, default: impl FnOnce() -> T) -> Option<T> {
        let value = self.raw(name);
        if value.is_undefined() {
            Some(default())
        } else {
            T::from_js(&value)
        }
    }
}

/// A unit variant by its snake_case name; a name not in `names` is `other` (the type's
/// `#[serde(other)]` variant), or does not fit when there is none.
fn variant<T: Copy>(value: &JsValue, names: &[(&str, T)], other: Option<T>) -> Option<T> {
    let name = value.as_string()?;
    names
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, v)| v)
        .or(other)
}

macro_rules! enums {
    ($($t:ident { $($name:literal => $v:ident,)* } $(other $other:ident)?;)*) => {$(
        impl FromJs for $t {
            fn from_js(value: &JsValue) -> Option<Self> {
                let other: Option<Self> = None $(.or(Some($t::$other)))?;
                variant(value, &[$(($name, $t::$v),)*], other)
            }
        }
    )*};
}

enums! {
    FlowState {
        "username" => Username,
        "choose_method" => ChooseMethod,
        "email_code" => EmailCode,
        "second_factor" => SecondFactor,
        "complete" => Complete,
    };
    FlowMessage {
        "code_sent" => CodeSent,
        "flow_restarted" => FlowRestarted,
        "code_already_sent" => CodeAlreadySent,
    } other Unknown;
    SecondFactorMethod {
        "passkey" => Passkey,
        "totp" => Totp,
        "recovery_code" => RecoveryCode,
    } other Unknown;
    LoginMethod {
        "email_code" => EmailCode,
        "password" => Password,
        "passkey" => Passkey,
    } other Unknown;
    RequirementKind {
        "update_password" => UpdatePassword,
        "enable_mfa" => EnableMfa,
    } other Unknown;
    PasswordRule {
        "too_short" => TooShort,
        "too_long" => TooLong,
        "common" => Common,
        "contains_username" => ContainsUsername,
        "too_guessable" => TooGuessable,
    } other Unknown;
    ProblemCode {
        "invalid_organization" => InvalidOrganization,
        "organization_not_found" => OrganizationNotFound,
        "not_found" => NotFound,
        "method_not_allowed" => MethodNotAllowed,
        "bad_request" => BadRequest,
        "payload_too_large" => PayloadTooLarge,
        "unsupported_media_type" => UnsupportedMediaType,
        "flow_not_found" => FlowNotFound,
        "flow_expired" => FlowExpired,
        "step_not_allowed" => StepNotAllowed,
        "method_not_enabled" => MethodNotEnabled,
        "invalid_username" => InvalidUsername,
        "invalid_code_format" => InvalidCodeFormat,
        "code_required" => CodeRequired,
        "code_expired" => CodeExpired,
        "invalid_credentials" => InvalidCredentials,
        "account_locked" => AccountLocked,
        "rate_limited" => RateLimited,
        "resend_cooldown" => ResendCooldown,
        "csrf_rejected" => CsrfRejected,
        "unauthenticated" => Unauthenticated,
        "password_rejected" => PasswordRejected,
        "reauthentication_required" => ReauthenticationRequired,
        "passkey_not_recognized" => PasskeyNotRecognized,
        "passkey_of_another_organization" => PasskeyOfAnotherOrganization,
        "passkey_refused" => PasskeyRefused,
        "invalid_passkey_name" => InvalidPasskeyName,
        "too_many_passkeys" => TooManyPasskeys,
        "internal" => Internal,
        "service_busy" => ServiceBusy,
    } other Unknown;
}

impl FromJs for Organization {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            id: f.get("id")?,
            alias: f.get("alias")?,
            name: f.get("name")?,
            login_methods: f.get("login_methods")?,
            logo_url: f.get("logo_url")?,
            accent_color: f.get("accent_color")?,
            return_urls: f.or_default("return_urls")?,
            console_url: f.get("console_url")?,
        })
    }
}

impl FromJs for CodeStatus {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            length: f.get("length")?,
            expires_at: f.get("expires_at")?,
            attempts_left: f.get("attempts_left")?,
            resend_available_at: f.get("resend_available_at")?,
        })
    }
}

impl FromJs for Flow {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            id: f.get("id")?,
            state: f.get("state")?,
            expires_at: f.get("expires_at")?,
            now: f.get("now")?,
            organization: f.get("organization")?,
            username: f.get("username")?,
            code: f.get("code")?,
            messages: f.or_default("messages")?,
            second_factors: f.or_default("second_factors")?,
        })
    }
}

impl FromJs for Problem {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            kind: f.or_else("type", || "about:blank".into())?,
            title: f.get("title")?,
            status: f.get("status")?,
            code: f.get("code")?,
            detail: f.get("detail")?,
            retry_after: f.get("retry_after")?,
            attempts_left: f.get("attempts_left")?,
            rules: f.or_default("rules")?,
            replacement: f.get("replacement")?,
        })
    }
}

impl FromJs for Member {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            username: f.get("username")?,
            email: f.get("email")?,
        })
    }
}

impl FromJs for Requirement {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            kind: f.get("kind")?,
            deadline: f.get("deadline")?,
        })
    }
}

impl FromJs for Session {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            member: f.get("member")?,
            organization: f.get("organization")?,
            expires_at: f.get("expires_at")?,
            now: f.get("now")?,
            requirements: f.or_default("requirements")?,
        })
    }
}

impl FromJs for MfaEnrollment {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            secret: f.get("secret")?,
            otpauth_uri: f.get("otpauth_uri")?,
        })
    }
}

impl FromJs for RecoveryCodes {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            recovery_codes: f.get("recovery_codes")?,
        })
    }
}

impl FromJs for Passkey {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            id: f.get("id")?,
            name: f.get("name")?,
            created_at: f.get("created_at")?,
            last_used_at: f.get("last_used_at")?,
            synced: f.or_default("synced")?,
        })
    }
}

impl FromJs for Passkeys {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            passkeys: f.get("passkeys")?,
        })
    }
}

impl FromJs for RuntimeConfig {
    fn from_js(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Self {
            api_base: f.or_default("api_base")?,
            console_url: f.get("console_url")?,
            return_urls: f.or_default("return_urls")?,
        })
    }
}
