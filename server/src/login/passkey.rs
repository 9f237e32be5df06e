//! Logging in with a passkey: `POST …/passkey/options` asks for a challenge, kept in the flow
//! (each call replaces the one before); `POST …/passkey` answers it. The challenge is taken out
//! of the flow by the answer, right or wrong, with the flow's compare-and-swap save, so it is
//! used once however many requests race with it.
//!
//! Before a password or code, the sign-in is discoverable: the passkey names its member (the
//! user handle is the member's ID), who must be of the flow's Organization. At the second
//! factor, only the flow's member's passkeys are asked for. Either way a passkey is a whole
//! login, and the same rules finish it as any other credential (locks, grace periods, the
//! session).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use member_login_api::flow::FlowState;
use member_login_api::passkey::CHALLENGE_SECONDS;
use member_login_api::{LoginMethod, ProblemCode};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, PasskeyAuthentication, PublicKeyCredential,
    RequestChallengeResponse, Webauthn,
};

use super::flow::Flow;
use super::{apply, finish, limit_member, load, member_of, require_method};
use crate::error::{Error, Result};
use crate::guard::ClientIp;
use crate::passkeys::{credential_key, stored, to_stored, webauthn};
use crate::problem::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::OrganizationRecord;

/// The steps a discoverable sign-in may be asked for at.
const BEFORE_CREDENTIAL: [FlowState; 3] = [
    FlowState::Username,
    FlowState::ChooseMethod,
    FlowState::EmailCode,
];

/// A flow's passkey challenge, as kept in `Flow::passkey_challenge`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Challenge {
    /// Any passkey of the Organization's members.
    Discoverable {
        state: DiscoverableAuthentication,
        expires_at: i64,
    },
    /// One of the flow's member's passkeys, as their second factor.
    SecondFactor {
        state: PasskeyAuthentication,
        expires_at: i64,
    },
}

fn refused() -> Error {
    Error::new(
        ProblemCode::PasskeyRefused,
        "The passkey's answer did not check out: ask for a new passkey prompt",
    )
}

fn not_recognized() -> Error {
    Error::new(
        ProblemCode::PasskeyNotRecognized,
        "This passkey is not one of this Organization's members'",
    )
}

/// The flow, at a step a passkey may be asked for at, its Organization, which enables
/// passkeys, and the relying party.
async fn passkey_step<'a>(
    state: &'a AppState,
    id: &str,
    client: ClientIp,
) -> Result<(Flow, OrganizationRecord, &'a Webauthn)> {
    let (flow, org) = load(state, id, client).await?;
    flow.require(&[
        FlowState::Username,
        FlowState::ChooseMethod,
        FlowState::EmailCode,
        FlowState::SecondFactor,
    ])?;
    require_method(&org, LoginMethod::Passkey)?;
    let webauthn = webauthn(state)?;
    Ok((flow, org, webauthn))
}

/// `POST /api/v1/flows/{id}/passkey/options`
pub async fn options(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestChallengeResponse>> {
    let (flow, _, webauthn) = passkey_step(&state, &id, client).await?;
    let at = flow.state;
    let expires_at = state.clock.now() + CHALLENGE_SECONDS;
    let (mut options, challenge) = if at == FlowState::SecondFactor {
        let member = member_of(&state, &flow)
            .await?
            .ok_or_else(Error::step_not_allowed)?;
        let passkeys = state
            .db
            .passkeys(&member.id)
            .await?
            .iter()
            .map(stored)
            .collect::<Result<Vec<_>>>()?;
        if passkeys.is_empty() {
            return Err(Error::new(
                ProblemCode::StepNotAllowed,
                "The member has no passkey",
            ));
        }
        let (options, auth) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| Error::Config(format!("passkey challenge: {e}")))?;
        (
            options,
            Challenge::SecondFactor {
                state: auth,
                expires_at,
            },
        )
    } else {
        let (options, auth) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| Error::Config(format!("passkey challenge: {e}")))?;
        (
            options,
            Challenge::Discoverable {
                state: auth,
                expires_at,
            },
        )
    };
    // The app chooses between the modal prompt and autofill (conditional mediation).
    options.mediation = None;
    let challenge = serde_json::to_string(&challenge).map_err(|e| Error::Config(e.to_string()))?;
    apply(&state, flow, |flow, _| {
        flow.require(&[at])?;
        flow.passkey_challenge = Some(challenge.clone());
        Ok(())
    })
    .await?;
    Ok(Json(options))
}

/// `POST /api/v1/flows/{id}/passkey`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitPasskey {
    /// Read as WebAuthn's `AuthenticationResponseJSON` once the flow is known: anything else
    /// is a refused passkey, not a malformed request.
    credential: serde_json::Value,
}

/// `POST /api/v1/flows/{id}/passkey`
pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitPasskey>,
) -> Result<Response> {
    let (flow, org, webauthn) = passkey_step(&state, &id, client).await?;
    let at = flow.state;
    if at == FlowState::SecondFactor {
        limit_member(&state, &flow).await?;
    }
    let credential: Option<PublicKeyCredential> = serde_json::from_value(body.credential).ok();
    // Used up now, whatever the answer: of parallel answers only one finds it.
    let (flow, challenge) = apply(&state, flow, |flow, _| {
        flow.require(&[at])?;
        Ok(flow.passkey_challenge.take())
    })
    .await?;
    let challenge: Challenge = challenge
        .and_then(|c| serde_json::from_str(&c).ok())
        .ok_or_else(refused)?;
    let now = state.clock.now();
    let credential = credential.as_ref().ok_or_else(refused)?;
    let record = state
        .db
        .passkey_by_credential(&credential_key(credential.get_credential_id()))
        .await?;
    let (record, result) = match challenge {
        Challenge::Discoverable {
            state: auth,
            expires_at,
        } => {
            if expires_at <= now || !BEFORE_CREDENTIAL.contains(&at) {
                return Err(refused());
            }
            let (user, _) = webauthn
                .identify_discoverable_authentication(credential)
                .map_err(|_| refused())?;
            let record = record
                .filter(|r| r.member_id == user.to_string())
                .ok_or_else(not_recognized)?;
            let key = DiscoverableKey::from(&stored(&record)?);
            let result = webauthn
                .finish_discoverable_authentication(credential, auth, &[key])
                .map_err(|err| {
                    tracing::info!(%err, "passkey login refused");
                    refused()
                })?;
            if record.organization_id != org.public.id {
                return Err(Error::new(
                    ProblemCode::PasskeyOfAnotherOrganization,
                    "This passkey is for another Organization: log in there",
                ));
            }
            (record, result)
        }
        Challenge::SecondFactor {
            state: auth,
            expires_at,
        } => {
            if expires_at <= now || at != FlowState::SecondFactor {
                return Err(refused());
            }
            let record = record
                .filter(|r| Some(&r.member_id) == flow.member_id.as_ref())
                .ok_or_else(not_recognized)?;
            let result = webauthn
                .finish_passkey_authentication(credential, &auth)
                .map_err(|err| {
                    tracing::info!(%err, "passkey second factor refused");
                    refused()
                })?;
            (record, result)
        }
    };
    let mut passkey = stored(&record)?;
    passkey.update_credential(&result);
    let (updated, _) = to_stored(&passkey)?;
    // Only over the record just checked against: a passkey removed since, or used by a parallel
    // login (whose sign counter this one must not write back over), does not log in.
    if !state
        .db
        .passkey_used(
            &record.id,
            &record.credential,
            &updated,
            result.backup_state(),
            now,
        )
        .await?
    {
        return Err(refused());
    }
    // Read now: failures recorded by parallel requests may have locked the member.
    let member = state
        .db
        .member(&record.member_id)
        .await?
        .ok_or_else(not_recognized)?;
    let (flow, outcome) = apply(&state, flow, |flow, now| {
        flow.require(&[at])?;
        Ok(flow.passkey_accepted(&org, &member, now))
    })
    .await?;
    finish(&state, flow, &org, &member, outcome, &headers).await
}
