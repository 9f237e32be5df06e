//! The login flow endpoints. Each step loads the flow, checks that it is at a step where the
//! call makes sense, does its work, and answers the whole updated flow.
//!
//! Enumeration: a username is stored whether or not a member has it; codes are "sent" to an
//! unknown username too (nothing leaves the server); wrong codes and passwords, for known and
//! unknown usernames alike, give one answer after the same work.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use member_login_api::flow::{
    normalize_code, normalize_recovery_code, normalize_username, CodeStatus, CreateFlow, Flow,
    FlowMessage, FlowState, SubmitPassword, SubmitSecondFactor, SubmitUsername, VerifyCode,
};
use member_login_api::{LoginMethod, OrganizationKey, Problem, ProblemCode, CODE_LENGTH};

use crate::db::{FlowRecord, MemberRecord, OrganizationRecord};
use crate::problem::{ApiError, ApiJson, ApiPath};
use crate::secrets::{digest, new_code, same};
use crate::state::{now, AppState};
use crate::totp;
use crate::{requirements, session};

/// A flow lives this long from its creation.
pub const FLOW_SECONDS: i64 = 30 * 60;
/// A code is valid this long from its sending.
pub const CODE_SECONDS: i64 = 10 * 60;
/// Wrong tries allowed per code.
pub const CODE_TRIES: i64 = 5;
/// Passwords longer than this are wrong without being hashed.
const MAX_PASSWORD_CHARS: usize = 1024;

/// Seconds to wait before the next code, after `sent` codes: 30 s, doubling each time, at most
/// 15 minutes.
pub fn resend_cooldown(sent: i64) -> i64 {
    (30_i64 << (sent - 1).clamp(0, 5)).min(15 * 60)
}

fn state_name(state: FlowState) -> &'static str {
    match state {
        FlowState::Username => "username",
        FlowState::ChooseMethod => "choose_method",
        FlowState::EmailCode => "email_code",
        FlowState::SecondFactor => "second_factor",
        FlowState::Complete => "complete",
    }
}

fn parse_state(text: &str) -> FlowState {
    match text {
        "choose_method" => FlowState::ChooseMethod,
        "email_code" => FlowState::EmailCode,
        "second_factor" => FlowState::SecondFactor,
        "complete" => FlowState::Complete,
        _ => FlowState::Username,
    }
}

fn api_flow(flow: &FlowRecord, org: &OrganizationRecord, messages: Vec<FlowMessage>) -> Flow {
    let code = match (flow.code_expires_at, flow.code_attempts_left) {
        (Some(expires_at), Some(attempts_left)) if flow.code_hash.is_some() => Some(CodeStatus {
            length: CODE_LENGTH as u8,
            expires_at,
            attempts_left: attempts_left.clamp(0, 255) as u8,
            resend_available_at: flow.resend_available_at.unwrap_or_default(),
        }),
        // Tries used up or expired: only when a new code may be sent matters now.
        _ => flow.resend_available_at.map(|at| CodeStatus {
            length: CODE_LENGTH as u8,
            expires_at: 0,
            attempts_left: 0,
            resend_available_at: at,
        }),
    };
    Flow {
        id: flow.id.clone(),
        state: parse_state(&flow.state),
        expires_at: flow.expires_at,
        now: now(),
        organization: org.public.clone(),
        username: flow.username.clone(),
        code,
        messages,
    }
}

/// Starts a flow for the Organization, with a username already given or not.
async fn start_flow(
    state: &AppState,
    org: &OrganizationRecord,
    username: Option<String>,
) -> Result<FlowRecord, ApiError> {
    let member_id = match &username {
        Some(name) => state
            .db
            .member_by_username(&org.public.id, name)
            .await?
            .map(|m| m.id),
        None => None,
    };
    let created_at = now();
    let flow = FlowRecord {
        id: uuid::Uuid::new_v4().to_string(),
        organization_id: org.public.id.clone(),
        state: state_name(if username.is_some() {
            FlowState::ChooseMethod
        } else {
            FlowState::Username
        })
        .into(),
        username,
        member_id,
        created_at,
        expires_at: created_at + FLOW_SECONDS,
        code_hash: None,
        code_expires_at: None,
        code_attempts_left: None,
        codes_sent: 0,
        resend_available_at: None,
    };
    state.db.insert_flow(&flow).await?;
    Ok(flow)
}

/// The flow and its Organization; an expired flow answers 410 with a replacement that keeps
/// the Organization and username.
async fn load(state: &AppState, id: &str) -> Result<(FlowRecord, OrganizationRecord), ApiError> {
    let not_found = || ApiError::new(ProblemCode::FlowNotFound, "Login flow not found");
    let flow = state.db.flow(id).await?.ok_or_else(not_found)?;
    let org = state
        .db
        .organization_record(&flow.organization_id)
        .await?
        .ok_or_else(not_found)?;
    if flow.expires_at <= now() && flow.state != state_name(FlowState::Complete) {
        let replacement = start_flow(state, &org, flow.username.clone()).await?;
        let mut problem = Problem::new(ProblemCode::FlowExpired, "The login flow expired");
        problem.replacement = Some(Box::new(api_flow(
            &replacement,
            &org,
            vec![FlowMessage::FlowRestarted],
        )));
        return Err(ApiError(Box::new(problem)));
    }
    Ok((flow, org))
}

fn require_state(flow: &FlowRecord, allowed: &[FlowState]) -> Result<(), ApiError> {
    if allowed.contains(&parse_state(&flow.state)) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemCode::StepNotAllowed,
            "The login flow is not at this step",
        ))
    }
}

fn require_method(org: &OrganizationRecord, method: LoginMethod) -> Result<(), ApiError> {
    if org.public.login_methods.contains(&method) {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemCode::MethodNotEnabled,
            "The Organization does not enable this login method",
        ))
    }
}

/// Credential checks per Organization and username, for known and unknown usernames alike.
fn limit_member(state: &AppState, flow: &FlowRecord) -> Result<(), ApiError> {
    let key = format!(
        "member:{}:{}",
        flow.organization_id,
        flow.username.as_deref().unwrap_or_default()
    );
    state
        .limiter
        .check(&key, state.limits.per_member)
        .map_err(ApiError::rate_limited)
}

/// `POST /api/v1/flows`
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateFlow>,
) -> Result<(StatusCode, Json<Flow>), ApiError> {
    let key = OrganizationKey::parse(&body.organization).map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidOrganization,
            "An Organization ID is a UUID; an alias is 2 to 32 lower-case letters",
        )
    })?;
    let not_found = || ApiError::new(ProblemCode::OrganizationNotFound, "Organization not found");
    let org = state
        .db
        .find_organization(&key)
        .await?
        .ok_or_else(not_found)?;
    let org = state
        .db
        .organization_record(&org.id)
        .await?
        .ok_or_else(not_found)?;
    let username = match body.username {
        Some(name) => Some(normalize_username(&name).ok_or_else(invalid_username)?),
        None => None,
    };
    let flow = start_flow(&state, &org, username).await?;
    Ok((StatusCode::CREATED, Json(api_flow(&flow, &org, vec![]))))
}

fn invalid_username() -> ApiError {
    ApiError::new(
        ProblemCode::InvalidUsername,
        "A username is 1 to 64 characters",
    )
}

/// `GET /api/v1/flows/{id}`
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Flow>, ApiError> {
    let (flow, org) = load(&state, &id).await?;
    Ok(Json(api_flow(&flow, &org, vec![])))
}

/// `POST /api/v1/flows/{id}/username`. Stores the username whether or not a member has it.
pub async fn username(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SubmitUsername>,
) -> Result<Json<Flow>, ApiError> {
    let (mut flow, org) = load(&state, &id).await?;
    require_state(
        &flow,
        &[
            FlowState::Username,
            FlowState::ChooseMethod,
            FlowState::EmailCode,
        ],
    )?;
    let name = normalize_username(&body.username).ok_or_else(invalid_username)?;
    flow.member_id = state
        .db
        .member_by_username(&org.public.id, &name)
        .await?
        .map(|m| m.id);
    flow.username = Some(name);
    flow.state = state_name(FlowState::ChooseMethod).into();
    flow.code_hash = None;
    flow.code_expires_at = None;
    flow.code_attempts_left = None;
    state.db.update_flow(&flow).await?;
    Ok(Json(api_flow(&flow, &org, vec![])))
}

/// `POST /api/v1/flows/{id}/code`: sends a code, or a new one once the cooldown is over.
pub async fn send_code(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Flow>, ApiError> {
    let (mut flow, org) = load(&state, &id).await?;
    require_state(&flow, &[FlowState::ChooseMethod, FlowState::EmailCode])?;
    require_method(&org, LoginMethod::EmailCode)?;
    let now = now();
    // The cooldown holds across this username's flows of the last hour, so starting a new
    // flow does not send another email sooner.
    let username = flow.username.clone().unwrap_or_default();
    let (sent_recently, available_at) = state
        .db
        .code_history(&flow.organization_id, &username, now - 3600)
        .await?;
    if available_at > now {
        return Err(ApiError::rate_limited((available_at - now) as u64));
    }
    flow.codes_sent = flow.codes_sent.max(sent_recently);
    let code = new_code(CODE_LENGTH);
    flow.code_hash = Some(digest(&[&flow.id, &code]));
    flow.code_expires_at = Some(now + CODE_SECONDS);
    flow.code_attempts_left = Some(CODE_TRIES);
    flow.codes_sent += 1;
    flow.resend_available_at = Some(now + resend_cooldown(flow.codes_sent));
    flow.state = state_name(FlowState::EmailCode).into();
    state.db.update_flow(&flow).await?;
    state
        .db
        .forget_other_codes(&flow.organization_id, &username, &flow.id)
        .await?;
    if let Some(member) = member_of(&state, &flow).await? {
        let link = format!(
            "{}/login/code?organization={}&flow={}&code={code}",
            state.app_url, org.public.alias, flow.id
        );
        let body = format!(
            "Hello {username},\n\nYour code to log into {org} is:\n\n    {code}\n\n\
             It is valid for 10 minutes. You can also open this link to enter it:\n{link}\n\n\
             If you did not try to log in, you can ignore this email.\n",
            username = member.username,
            org = org.public.name,
        );
        state.mailer.send_later(
            state.db.clone(),
            member.email,
            format!("Your login code for {}", org.public.name),
            body,
        );
    }
    Ok(Json(api_flow(&flow, &org, vec![FlowMessage::CodeSent])))
}

/// The flow's member, if its username is one. The query runs for an unknown username too
/// (matching no row), so the time taken tells nothing.
async fn member_of(state: &AppState, flow: &FlowRecord) -> Result<Option<MemberRecord>, ApiError> {
    Ok(state
        .db
        .member(flow.member_id.as_deref().unwrap_or_default())
        .await?)
}

/// `POST /api/v1/flows/{id}/code/verify`
pub async fn verify_code(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VerifyCode>,
) -> Result<Response, ApiError> {
    let (mut flow, org) = load(&state, &id).await?;
    require_state(&flow, &[FlowState::EmailCode])?;
    limit_member(&state, &flow)?;
    let code = normalize_code(&body.code, CODE_LENGTH)
        .ok_or_else(|| ApiError::new(ProblemCode::InvalidCodeFormat, "A code is 6 digits"))?;
    let Some(stored) = flow.code_hash.clone() else {
        return Err(ApiError::new(
            ProblemCode::CodeRequired,
            "Send a new code first",
        ));
    };
    if flow.code_expires_at.unwrap_or_default() <= now() {
        forget_code(&mut flow);
        state.db.update_flow(&flow).await?;
        return Err(ApiError::new(ProblemCode::CodeExpired, "The code expired"));
    }
    let member = member_of(&state, &flow).await?;
    let right = same(&digest(&[&flow.id, &code]), &stored);
    match member {
        // Only one of two requests with the right code gets to use it.
        Some(member) if right && state.db.consume_code(&flow.id, &stored).await? => {
            forget_code(&mut flow);
            complete(&state, flow, &org, member, &headers).await
        }
        _ => {
            let Some(left) = state.db.take_code_try(&flow.id, &stored).await? else {
                return Err(ApiError::new(
                    ProblemCode::CodeRequired,
                    "Send a new code first",
                ));
            };
            fail(&state, &flow, &org).await?;
            let mut err = ApiError::invalid_credentials();
            err.0.attempts_left = Some(left.max(0) as u8);
            Err(err)
        }
    }
}

fn forget_code(flow: &mut FlowRecord) {
    flow.code_hash = None;
    flow.code_expires_at = None;
    flow.code_attempts_left = None;
}

/// `POST /api/v1/flows/{id}/password`
pub async fn password(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitPassword>,
) -> Result<Response, ApiError> {
    let (flow, org) = load(&state, &id).await?;
    require_state(&flow, &[FlowState::ChooseMethod, FlowState::EmailCode])?;
    require_method(&org, LoginMethod::Password)?;
    limit_member(&state, &flow)?;
    let member = member_of(&state, &flow).await?;
    let stored = member.as_ref().and_then(|m| m.password_hash.clone());
    let password = body.password;
    let ok = if password.chars().count() > MAX_PASSWORD_CHARS {
        false
    } else {
        let checker_state = state.clone();
        tokio::task::spawn_blocking(move || {
            checker_state.passwords.check(stored.as_deref(), &password)
        })
        .await
        .unwrap_or(false)
    };
    match member {
        Some(member) if ok => complete(&state, flow, &org, member, &headers).await,
        _ => {
            fail(&state, &flow, &org).await?;
            Err(ApiError::invalid_credentials())
        }
    }
}

/// A wrong credential: counts towards the member's lock (the same statement runs for an
/// unknown username, matching no row).
async fn fail(
    state: &AppState,
    flow: &FlowRecord,
    org: &OrganizationRecord,
) -> Result<(), ApiError> {
    state
        .db
        .record_failed_login(
            flow.member_id.as_deref().unwrap_or_default(),
            org.max_failed_logins,
        )
        .await?;
    Ok(())
}

/// `POST /api/v1/flows/{id}/second-factor`: an authenticator code (±1 step, never one
/// already used) or a single-use recovery code, after a correct first factor.
pub async fn second_factor(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitSecondFactor>,
) -> Result<Response, ApiError> {
    let (flow, org) = load(&state, &id).await?;
    require_state(&flow, &[FlowState::SecondFactor])?;
    limit_member(&state, &flow)?;
    let member = member_of(&state, &flow).await?.ok_or_else(|| {
        ApiError::new(
            ProblemCode::StepNotAllowed,
            "The login flow is not at this step",
        )
    })?;
    let malformed = || ApiError::new(ProblemCode::InvalidCodeFormat, "Not a code");
    let ok = match body {
        SubmitSecondFactor::Totp { code } => {
            let code = normalize_code(&code, totp::DIGITS).ok_or_else(malformed)?;
            let secret = member
                .totp_secret
                .as_deref()
                .and_then(totp::base32_decode)
                .unwrap_or_default();
            match totp::matching_step(&secret, &code, now(), member.totp_last_step) {
                Some(step) if !secret.is_empty() => {
                    state.db.claim_totp_step(&member.id, step).await?
                }
                _ => false,
            }
        }
        SubmitSecondFactor::RecoveryCode { code } => {
            let code = normalize_recovery_code(&code).ok_or_else(malformed)?;
            let hash = digest(&[&member.id, &code]);
            if !state.db.has_recovery_code(&member.id, &hash).await? {
                false
            } else if member.locked || requirements::overdue(&org, &member, now()) {
                // Right code, but the login cannot complete: say why, and keep the code.
                return complete(&state, flow, &org, member, &headers).await;
            } else {
                state.db.use_recovery_code(&member.id, &hash, now()).await?
            }
        }
    };
    if ok {
        complete(&state, flow, &org, member, &headers).await
    } else {
        fail(&state, &flow, &org).await?;
        Err(ApiError::invalid_credentials())
    }
}

/// A correct credential: a locked member learns they are locked; a member with MFA who gave
/// the first factor is asked for the second; anyone else is logged in with a new session (any
/// session this browser had is ended: rotation).
async fn complete(
    state: &AppState,
    mut flow: FlowRecord,
    org: &OrganizationRecord,
    member: MemberRecord,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    // Read again: failures recorded by parallel requests since may have locked the member.
    let member = state.db.member(&member.id).await?.unwrap_or(member);
    if member.locked {
        state.db.update_flow(&flow).await?;
        return Err(ApiError::new(
            ProblemCode::AccountLocked,
            "This member is locked; an administrator must unlock it",
        ));
    }
    let now = now();
    if requirements::overdue(org, &member, now) {
        state.db.lock_member(&member.id).await?;
        return Err(grace_period_over());
    }
    if member.totp_secret.is_some() && parse_state(&flow.state) != FlowState::SecondFactor {
        flow.state = state_name(FlowState::SecondFactor).into();
        state.db.update_flow(&flow).await?;
        return Ok(Json(api_flow(&flow, org, vec![])).into_response());
    }
    state.db.record_login(&member.id, now).await?;
    flow.state = state_name(FlowState::Complete).into();
    state.db.update_flow(&flow).await?;
    let cookie = session::open(state, headers, &member, org).await?;
    Ok((
        [(axum::http::header::SET_COOKIE, cookie)],
        Json(api_flow(&flow, org, vec![])),
    )
        .into_response())
}

/// The Organization's requirements were not met in time: the member is locked now.
pub fn grace_period_over() -> ApiError {
    let mut err = ApiError::new(
        ProblemCode::AccountLocked,
        "This member is locked; an administrator must unlock it",
    );
    err.0.detail =
        Some("The grace period for the Organization's security requirements is over".into());
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resend_cooldown_starts_at_thirty_seconds_and_grows_to_a_cap() {
        let waits: Vec<i64> = (1..=8).map(resend_cooldown).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
    }

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for s in [
            FlowState::Username,
            FlowState::ChooseMethod,
            FlowState::EmailCode,
            FlowState::SecondFactor,
            FlowState::Complete,
        ] {
            assert_eq!(parse_state(state_name(s)), s);
        }
    }
}
