//! Passkeys (WebAuthn): the relying party the server is, and a member's own passkeys — add,
//! list, rename, remove (`PASSKEYS_PATH`). The ceremonies are checked by webauthn-rs; the login
//! with a passkey is in `login/passkey.rs`.
//!
//! The relying party ID is `--passkey-rp-id`, or the app URL's host (`localhost` when that is
//! an IP address: WebAuthn refuses IP addresses). A passkey's answer is accepted from the
//! server's allowed origins (its own and the `--cors-origin`s) on that domain or under it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use member_login_api::passkey::{
    normalize_passkey_name, Passkey as ApiPasskey, Passkeys as ApiPasskeys, RenamePasskey,
    CHALLENGE_SECONDS, MAX_PASSKEYS,
};
use member_login_api::{LoginMethod, ProblemCode};
use serde::Deserialize;
use url::Url;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyRegistration, RegisterPublicKeyCredential,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};
use webauthn_rs_proto::UserVerificationPolicy;
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement};

use crate::error::{Error, Result};
use crate::mail_text;
use crate::model::{MemberRecord, OrganizationRecord};
use crate::problem::{ApiJson, ApiPath};
use crate::session::Authenticated;
use crate::state::AppState;
use crate::store::PasskeyRecord;

/// The relying party for passkeys of an app at `app_url`, accepting answers from those of
/// `allowed_origins` on its domain. `None` (with a warning) when no origin is on it.
pub fn relying_party(
    app_url: &str,
    rp_id: Option<&str>,
    allowed_origins: &[String],
) -> Result<Option<Arc<Webauthn>>> {
    let app = Url::parse(app_url).ok();
    let app_host = app.as_ref().and_then(|u| u.host());
    // This machine's own address: the app is also reached as localhost, the only name
    // passkeys take for it (the guard allows that spelling only then too).
    let loopback = match app_host {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    let rp_id = match (rp_id, &app_host) {
        (Some(id), _) => id.trim().to_ascii_lowercase(),
        (None, Some(url::Host::Domain(domain))) => domain.to_ascii_lowercase(),
        (None, Some(_)) => "localhost".to_owned(),
        (None, None) => {
            tracing::warn!(app_url, "passkeys are off: the app URL has no host");
            return Ok(None);
        }
    };
    let mut origins: Vec<Url> = allowed_origins
        .iter()
        .filter_map(|o| Url::parse(o).ok())
        .collect();
    if loopback {
        if let Some(mut local) = app.clone() {
            if local.set_host(Some("localhost")).is_ok() {
                origins.push(local);
            }
        }
    }
    // On the relying party's domain, and a secure context (browsers offer WebAuthn nowhere
    // else): HTTPS, or plain HTTP at localhost.
    let on_domain = |url: &Url| {
        url.domain().is_some_and(|host| {
            let host = host.to_ascii_lowercase();
            (host == rp_id || host.ends_with(&format!(".{rp_id}")))
                && (url.scheme() == "https" || host == "localhost")
        })
    };
    let mut origins: Vec<Url> = origins.into_iter().filter(on_domain).collect();
    origins.dedup_by(|a, b| a.origin() == b.origin());
    let Some(first) = origins.first() else {
        tracing::warn!(
            rp_id,
            "passkeys are off: no app origin is on the relying party's domain"
        );
        return Ok(None);
    };
    let refused = |err: webauthn_rs::prelude::WebauthnError| {
        Error::Config(format!("passkey relying party {rp_id}: {err}"))
    };
    let mut builder = WebauthnBuilder::new(&rp_id, first)
        .map_err(refused)?
        .rp_name("Member Login")
        // The time the browser gives the member, as long as the server keeps the challenge.
        .timeout(std::time::Duration::from_secs(
            CHALLENGE_SECONDS.unsigned_abs(),
        ));
    for origin in &origins[1..] {
        builder = builder.append_allowed_origin(origin);
    }
    let webauthn = builder.build().map_err(refused)?;
    Ok(Some(Arc::new(webauthn)))
}

/// The relying party, if passkeys can be used on this server.
pub fn webauthn(state: &AppState) -> Result<&Webauthn> {
    state.webauthn.as_deref().ok_or_else(|| {
        Error::new(
            ProblemCode::MethodNotEnabled,
            "Passkeys are not set up on this server",
        )
    })
}

/// Refuses when the Organization does not enable passkeys.
pub fn require_enabled(org: &OrganizationRecord) -> Result<()> {
    if org.public.login_methods.contains(&LoginMethod::Passkey) {
        Ok(())
    } else {
        Err(Error::new(
            ProblemCode::MethodNotEnabled,
            "The Organization does not enable passkeys",
        ))
    }
}

/// A credential ID as stored: unpadded base64url.
pub fn credential_key(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The library's record of a stored passkey.
pub fn stored(record: &PasskeyRecord) -> Result<Passkey> {
    serde_json::from_str(&record.credential).map_err(|_| Error::Corrupt {
        what: "passkey",
        value: record.id.clone(),
    })
}

/// A passkey's record as stored, and whether it is backed up (the backup state flag, kept in
/// the library's record).
pub fn to_stored(passkey: &Passkey) -> Result<(String, bool)> {
    let value = serde_json::to_value(passkey).map_err(|e| Error::Config(e.to_string()))?;
    let synced = value["cred"]["backup_state"].as_bool().unwrap_or(false);
    Ok((value.to_string(), synced))
}

fn refused(title: &str) -> Error {
    Error::new(ProblemCode::PasskeyRefused, title)
}

fn not_found() -> Error {
    Error::new(ProblemCode::NotFound, "No such passkey")
}

fn invalid_name() -> Error {
    Error::new(
        ProblemCode::InvalidPasskeyName,
        "A passkey name is 1 to 64 characters, none of them control characters",
    )
}

fn to_api(record: &PasskeyRecord) -> ApiPasskey {
    ApiPasskey {
        id: record.id.clone(),
        name: record.name.clone(),
        created_at: record.created_at,
        last_used_at: record.last_used_at,
        synced: record.synced,
    }
}

/// `GET {PASSKEYS_PATH}`: the member's passkeys, oldest first (also where the Organization
/// has turned passkeys off).
pub async fn list(State(state): State<AppState>, auth: Authenticated) -> Result<Json<ApiPasskeys>> {
    let passkeys = state.db.passkeys(&auth.member.id).await?;
    Ok(Json(ApiPasskeys {
        passkeys: passkeys.iter().map(to_api).collect(),
    }))
}

/// Refuses a member who has [`MAX_PASSKEYS`] already.
fn room_for_one_more(member: &MemberRecord) -> Result<()> {
    if member.passkeys >= MAX_PASSKEYS as i64 {
        return Err(Error::new(
            ProblemCode::TooManyPasskeys,
            "You have as many passkeys as a member may have: remove one to add another",
        ));
    }
    Ok(())
}

/// The WebAuthn `user.name` and `user.displayName` of a member's passkey: `kim@acme` (the
/// Organization's alias, as the member types it at login) and `kim (Acme Corp)`.
fn passkey_user_names(
    username: &str,
    org: &member_login_api::organization::Organization,
) -> (String, String) {
    (
        format!("{username}@{}", org.alias),
        format!("{username} ({})", org.name),
    )
}

/// `POST {PASSKEYS_PATH}/options`: the options of `navigator.credentials.create` for a new
/// discoverable passkey with user verification, the member's passkeys excluded. The challenge
/// is the session's one (replacing any earlier), single-use, for [`CHALLENGE_SECONDS`].
pub async fn options(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<CreationChallengeResponse>> {
    let now = state.clock.now();
    auth.require_recent_login(now)?;
    require_enabled(&auth.org)?;
    let webauthn = webauthn(&state)?;
    let member = &auth.member;
    room_for_one_more(member)?;
    let user = uuid::Uuid::parse_str(&member.id).map_err(|_| Error::Corrupt {
        what: "member id",
        value: member.id.clone(),
    })?;
    let exclude = state
        .db
        .passkeys(&member.id)
        .await?
        .iter()
        .map(|record| stored(record).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>>>()?;
    // The passkey as the device lists it: one login app serves many Organizations, and a
    // member may have the same username in two, so the name says which one.
    let (name, display_name) = passkey_user_names(&member.username, &auth.org.public);
    let (mut options, registration) = webauthn
        .start_passkey_registration(user, &name, &display_name, Some(exclude))
        .map_err(|e| Error::Config(format!("passkey registration: {e}")))?;
    // A passkey is a discoverable credential: the sign-in needs no username.
    options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: None,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
    let registration =
        serde_json::to_string(&registration).map_err(|e| Error::Config(e.to_string()))?;
    state
        .db
        .set_passkey_registration(
            &auth.token_hash,
            &member.id,
            &registration,
            now + CHALLENGE_SECONDS,
        )
        .await?;
    Ok(Json(options))
}

/// `POST {PASSKEYS_PATH}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddPasskey {
    name: String,
    /// Read as WebAuthn's `RegistrationResponseJSON` once the session is known: anything else
    /// is a refused passkey, not a malformed request.
    credential: serde_json::Value,
}

/// `POST {PASSKEYS_PATH}`: checks the new credential against the session's challenge (used up
/// either way) and adds it, named; the member is emailed.
pub async fn add(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AddPasskey>,
) -> Result<(StatusCode, Json<ApiPasskey>)> {
    let now = state.clock.now();
    auth.require_recent_login(now)?;
    require_enabled(&auth.org)?;
    let webauthn = webauthn(&state)?;
    let name = normalize_passkey_name(&body.name).ok_or_else(invalid_name)?;
    let member = &auth.member;
    room_for_one_more(member)?;
    let registration = state
        .db
        .take_passkey_registration(&auth.token_hash, &member.id, now)
        .await?
        .ok_or_else(|| refused("No passkey challenge to answer: ask for new options"))?;
    let registration: PasskeyRegistration = serde_json::from_str(&registration)
        .map_err(|_| refused("No passkey challenge to answer: ask for new options"))?;
    let credential: RegisterPublicKeyCredential = serde_json::from_value(body.credential)
        .map_err(|_| refused("This is not a WebAuthn registration answer"))?;
    let passkey = webauthn
        .finish_passkey_registration(&credential, &registration)
        .map_err(|err| {
            tracing::info!(%err, "passkey registration refused");
            refused("The passkey's answer did not check out")
        })?;
    let (credential, synced) = to_stored(&passkey)?;
    let record = PasskeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        member_id: member.id.clone(),
        organization_id: member.organization_id.clone(),
        credential_id: credential_key(passkey.cred_id()),
        name,
        credential,
        synced,
        created_at: now,
        last_used_at: None,
    };
    if !state.db.add_passkey(&record).await? {
        return Err(refused("This passkey is already added"));
    }
    tell_member(&state, &auth, &record.name, mail_text::passkey_added_email).await?;
    Ok((StatusCode::CREATED, Json(to_api(&record))))
}

/// `PATCH {PASSKEYS_PATH}/{id}`: one of the member's own passkeys, renamed.
pub async fn rename(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RenamePasskey>,
) -> Result<Json<ApiPasskey>> {
    require_enabled(&auth.org)?;
    let name = normalize_passkey_name(&body.name).ok_or_else(invalid_name)?;
    let record = state
        .db
        .rename_passkey(&auth.member.id, &id, &name)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(to_api(&record)))
}

/// `DELETE {PASSKEYS_PATH}/{id}`: one of the member's own passkeys, removed, whether or not the
/// Organization has passkeys on; the member is emailed.
pub async fn remove(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    auth.require_recent_login(state.clock.now())?;
    // Also while the Organization has passkeys off: a lost device's passkey must not wait for
    // them to come back on.
    let name = state
        .db
        .passkeys(&auth.member.id)
        .await?
        .into_iter()
        .find(|record| record.id == id)
        .map(|record| record.name)
        .ok_or_else(not_found)?;
    if !state.db.delete_passkey(&auth.member.id, &id).await? {
        return Err(not_found());
    }
    tell_member(&state, &auth, &name, mail_text::passkey_removed_email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Emails the member about a passkey added or removed, in the session's language.
async fn tell_member(
    state: &AppState,
    auth: &Authenticated,
    passkey: &str,
    email: fn(mail_text::Language, &str, &str, &str) -> mail_text::Email,
) -> Result<()> {
    let email = email(
        auth.session.language,
        &auth.member.username,
        &auth.org.public.name,
        passkey,
    );
    state
        .mail
        .send(Some(&auth.member.email), &email.subject, &email.body)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(rp: &Webauthn) -> Vec<String> {
        rp.get_allowed_origins()
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect()
    }

    #[test]
    fn an_ip_address_app_uses_localhost() {
        let rp = relying_party(
            "http://127.0.0.1:8080",
            None,
            &[
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(origins(&rp), ["http://localhost:8080"]);
    }

    #[test]
    fn origins_on_the_domain_or_under_it_are_accepted() {
        let rp = relying_party(
            "https://login.example.com",
            Some("example.com"),
            &[
                "https://login.example.com".into(),
                "https://app.example.com".into(),
                "https://example.org".into(),
                "https://notexample.com".into(),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            origins(&rp),
            ["https://login.example.com", "https://app.example.com"]
        );
    }

    #[test]
    fn only_secure_origins_and_localhost_only_for_this_machine() {
        let rp = relying_party(
            "https://login.example.com",
            None,
            &[
                "https://login.example.com".into(),
                "http://app.login.example.com".into(),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(origins(&rp), ["https://login.example.com"]);
        // Another machine's address is no localhost: no origin, no passkeys.
        let rp = relying_party(
            "http://10.0.0.5:8080",
            None,
            &["http://10.0.0.5:8080".into()],
        )
        .unwrap();
        assert!(rp.is_none());
    }

    #[test]
    fn no_origin_on_the_domain_turns_passkeys_off() {
        let rp = relying_party(
            "https://login.example.com",
            Some("other.example"),
            &["https://login.example.com".into()],
        )
        .unwrap();
        assert!(rp.is_none());
    }
}
