//! The login flow endpoints. Each handler loads the flow, reads what the step needs (the
//! member, a code's hash, a password check), applies the step (`flow.rs`, a plain function of
//! the flow, that input and `now`), saves the flow and answers it. A save that finds the flow
//! changed by another request (on this server or another replica) reads it again and reapplies
//! the step, so no try or change is lost to a race.
//!
//! Enumeration: a username is stored whether or not a member has it; codes are "sent" to an
//! unknown username too (nothing leaves the server); wrong codes and passwords, for known and
//! unknown usernames alike, give one answer after the same work.

pub mod flow;
pub mod passkey;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use member_login_api::flow::{
    normalize_code, normalize_recovery_code, CreateFlow, Flow as ApiFlow, FlowMessage,
    SecondFactorMethod, SubmitPassword, SubmitSecondFactor, SubmitUsername, VerifyCode,
};
use member_login_api::{LoginMethod, OrganizationKey, ProblemCode, CODE_LENGTH};

use self::flow::{
    canonical_username, resend_cooldown, username_key, CodeCheck, Flow, FlowState, Outcome,
    CODE_RUN_SECONDS,
};
use crate::error::{Error, Result};
use crate::guard::ClientIp;
use crate::mail_text::{self, Language};
use crate::problem::{ApiJson, ApiPath};
use crate::secrets::{digest, new_code};
use crate::state::AppState;
use crate::store::{CodeSends, MemberRecord, OrganizationRecord};
use crate::{session, totp};

/// Passwords longer than this are wrong without being hashed.
const MAX_PASSWORD_CHARS: usize = 1024;
/// How often a step is reapplied when parallel requests keep changing its flow.
const SAVE_TRIES: usize = 8;
/// The first lock after failed logins lasts this long; each next one twice the one before.
const FIRST_LOCK_SECONDS: i64 = 15 * 60;
/// The longest lock after failed logins.
const MAX_LOCK_SECONDS: i64 = 24 * 3600;

/// How long a lock after failed logins lasts, after `earlier` locks since the last login.
pub fn lock_seconds(earlier: i64) -> i64 {
    (FIRST_LOCK_SECONDS << earlier.clamp(0, 10)).min(MAX_LOCK_SECONDS)
}

fn flow_not_found() -> Error {
    Error::new(ProblemCode::FlowNotFound, "Login flow not found")
}

/// Starts a flow for the Organization, with a username already given or not, whose emails are
/// written in `language`.
async fn start_flow(
    state: &AppState,
    org: &OrganizationRecord,
    username: Option<String>,
    language: Language,
) -> Result<Flow> {
    let member_id = match &username {
        Some(name) => state.db.member_id_by_username(&org.public.id, name).await?,
        None => None,
    };
    let flow = Flow::start(
        uuid::Uuid::new_v4().to_string(),
        org.public.id.clone(),
        username,
        member_id,
        language,
        state.clock.now(),
    );
    state.db.insert_flow(&flow).await?;
    Ok(flow)
}

/// The flow and its Organization; an expired flow answers 410 with its replacement, which
/// keeps the Organization, the username and the language.
async fn load(state: &AppState, id: &str, client: ClientIp) -> Result<(Flow, OrganizationRecord)> {
    let flow = state.db.flow(id).await?.ok_or_else(flow_not_found)?;
    let org = state
        .db
        .organization_record(&flow.organization_id)
        .await?
        .ok_or_else(flow_not_found)?;
    if flow.is_expired(state.clock.now()) {
        let replacement = replace(state, &flow, &org, client).await?;
        let now = state.clock.now();
        return Err(Error::flow_expired(replacement.to_api(
            &org,
            vec![FlowMessage::FlowRestarted],
            now,
        )));
    }
    Ok((flow, org))
}

/// The one live replacement of an expired flow: the same one however often the expired flow
/// is asked for, and a new one (counted against the client's rate limit) only once that one
/// expired too.
async fn replace(
    state: &AppState,
    expired: &Flow,
    org: &OrganizationRecord,
    client: ClientIp,
) -> Result<Flow> {
    let mut expired = expired.clone();
    for _ in 0..SAVE_TRIES {
        if let Some(id) = &expired.replaced_by {
            if let Some(current) = state.db.flow(id).await? {
                if !current.is_expired(state.clock.now()) {
                    return Ok(current);
                }
            }
        }
        state.limit(&client.key(), state.limits.per_ip).await?;
        let fresh = start_flow(state, org, expired.username.clone(), expired.language).await?;
        if state
            .db
            .set_replacement(&expired.id, expired.replaced_by.as_deref(), &fresh.id)
            .await?
        {
            return Ok(fresh);
        }
        // Another request replaced it first: answer that replacement instead.
        state.db.delete_flow(&fresh.id).await?;
        expired = state
            .db
            .flow(&expired.id)
            .await?
            .ok_or_else(flow_not_found)?;
    }
    Err(Error::Contended)
}

/// Applies `step` to the flow and saves it. When another request saved the flow since it was
/// read, reads it again and reapplies the step to that.
async fn apply<T>(
    state: &AppState,
    mut flow: Flow,
    mut step: impl FnMut(&mut Flow, i64) -> Result<T>,
) -> Result<(Flow, T)> {
    for _ in 0..SAVE_TRIES {
        let now = state.clock.now();
        let mut changed = flow.clone();
        let out = step(&mut changed, now)?;
        if state.db.save_flow(&mut changed).await? {
            return Ok((changed, out));
        }
        flow = state.db.flow(&flow.id).await?.ok_or_else(flow_not_found)?;
    }
    Err(Error::Contended)
}

fn require_method(org: &OrganizationRecord, method: LoginMethod) -> Result<()> {
    if org.public.login_methods.contains(&method) {
        Ok(())
    } else {
        Err(Error::new(
            ProblemCode::MethodNotEnabled,
            "The Organization does not enable this login method",
        ))
    }
}

/// Credential checks per Organization and username, for known and unknown usernames alike.
async fn limit_member(state: &AppState, flow: &Flow) -> Result<()> {
    let key = format!(
        "member:{}:{}",
        flow.organization_id,
        flow.username.as_deref().unwrap_or_default()
    );
    state.limit(&key, state.limits.per_member).await
}

/// The flow's member, if its username is one. The query runs for an unknown username too
/// (matching no row), so the time taken tells nothing.
async fn member_of(state: &AppState, flow: &Flow) -> Result<Option<MemberRecord>> {
    state
        .db
        .member(flow.member_id.as_deref().unwrap_or_default())
        .await
}

/// A step for the flow's member as read before it: refused if the username changed since.
fn same_member(flow: &Flow, member_id: &Option<String>) -> Result<()> {
    if &flow.member_id == member_id {
        Ok(())
    } else {
        Err(Error::step_not_allowed())
    }
}

/// `POST /api/v1/flows`
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateFlow>,
) -> Result<(StatusCode, Json<ApiFlow>)> {
    let key = OrganizationKey::parse(&body.organization).map_err(|_| {
        Error::new(
            ProblemCode::InvalidOrganization,
            "An Organization ID is a UUID; an alias is 2 to 32 lower-case letters",
        )
    })?;
    let not_found = || Error::new(ProblemCode::OrganizationNotFound, "Organization not found");
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
        Some(name) => Some(
            canonical_username(&name)
                .map(|name| username_key(&name))
                .ok_or_else(invalid_username)?,
        ),
        None => None,
    };
    let language = Language::from_tag(body.language.as_deref());
    let flow = start_flow(&state, &org, username, language).await?;
    let now = state.clock.now();
    Ok((StatusCode::CREATED, Json(flow.to_api(&org, vec![], now))))
}

fn invalid_username() -> Error {
    Error::new(
        ProblemCode::InvalidUsername,
        "A username is 1 to 64 characters",
    )
}

/// `GET /api/v1/flows/{id}`
pub async fn get(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApiFlow>> {
    let (flow, org) = load(&state, &id, client).await?;
    answer(&state, &flow, &org, vec![]).await.map(Json)
}

/// The flow as the API answers it, with (at the second factor) what the member can answer it
/// with.
async fn answer(
    state: &AppState,
    flow: &Flow,
    org: &OrganizationRecord,
    messages: Vec<FlowMessage>,
) -> Result<ApiFlow> {
    let mut api = flow.to_api(org, messages, state.clock.now());
    if flow.state == FlowState::SecondFactor {
        if let Some(member) = member_of(state, flow).await? {
            api.second_factors = second_factors(org, &member);
        }
    }
    Ok(api)
}

/// The ways the member can answer the second factor, in the order to offer them.
fn second_factors(org: &OrganizationRecord, member: &MemberRecord) -> Vec<SecondFactorMethod> {
    let mut methods = Vec::new();
    if member.passkeys > 0 && org.public.login_methods.contains(&LoginMethod::Passkey) {
        methods.push(SecondFactorMethod::Passkey);
    }
    if member.totp_secret.is_some() {
        methods.push(SecondFactorMethod::Totp);
        methods.push(SecondFactorMethod::RecoveryCode);
    }
    methods
}

/// `POST /api/v1/flows/{id}/username`. Stores the username whether or not a member has it.
pub async fn username(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SubmitUsername>,
) -> Result<Json<ApiFlow>> {
    let (flow, org) = load(&state, &id, client).await?;
    flow.require(&[
        FlowState::Username,
        FlowState::ChooseMethod,
        FlowState::EmailCode,
    ])?;
    let name = canonical_username(&body.username)
        .map(|name| username_key(&name))
        .ok_or_else(invalid_username)?;
    let member_id = state
        .db
        .member_id_by_username(&org.public.id, &name)
        .await?;
    let (flow, ()) = apply(&state, flow, |flow, _| {
        flow.submit_username(name.clone(), member_id.clone())
    })
    .await?;
    Ok(Json(flow.to_api(&org, vec![], state.clock.now())))
}

/// Takes the next code send for this Organization and username, across all their flows: one
/// compare-and-swap, so parallel sends (on any replica) let exactly one through per cooldown.
async fn claim_code_send(
    state: &AppState,
    organization_id: &str,
    username: &str,
) -> Result<CodeSends> {
    for _ in 0..SAVE_TRIES {
        let now = state.clock.now();
        let old = state.db.code_sends(organization_id, username).await?;
        let sent = match old {
            Some(old) if old.available_at > now => {
                return Err(Error::resend_cooldown(old.available_at - now))
            }
            Some(old) if old.last_sent_at > now - CODE_RUN_SECONDS => old.sent + 1,
            _ => 1,
        };
        let new = CodeSends {
            sent,
            last_sent_at: now,
            available_at: now + resend_cooldown(sent),
        };
        if state
            .db
            .replace_code_sends(organization_id, username, old, new)
            .await?
        {
            return Ok(new);
        }
    }
    Err(Error::Contended)
}

/// `POST /api/v1/flows/{id}/code`: sends a code, or a new one once the cooldown is over.
pub async fn send_code(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApiFlow>> {
    let (flow, org) = load(&state, &id, client).await?;
    flow.require(&[FlowState::ChooseMethod, FlowState::EmailCode])?;
    require_method(&org, LoginMethod::EmailCode)?;
    let now = state.clock.now();
    if flow.code_on_its_way(now) {
        // Back from the code step, and "Send code" again: the code sent is still good.
        return Ok(Json(flow.to_api(
            &org,
            vec![FlowMessage::CodeAlreadySent],
            now,
        )));
    }
    let username = flow.username.clone().unwrap_or_default();
    let sends = claim_code_send(&state, &flow.organization_id, &username).await?;
    let code = new_code(CODE_LENGTH);
    let hash = digest(&[&flow.id, &code]);
    let member_id = flow.member_id.clone();
    let (flow, ()) = apply(&state, flow, |flow, now| {
        same_member(flow, &member_id)?;
        flow.code_sent(hash.clone(), sends.sent, sends.available_at, now)
    })
    .await?;
    state
        .db
        .forget_other_codes(&flow.organization_id, &username, &flow.id)
        .await?;
    // Queued before answering, so a crash after the answer loses no email; for an unknown
    // username an email that is never delivered, so both do the same work.
    let member = member_of(&state, &flow).await?;
    let link = mail_text::code_link(
        &state.app_url,
        &org.public.alias,
        &flow.id,
        &code,
        flow.language,
    );
    let email = mail_text::code_email(
        flow.language,
        member
            .as_ref()
            .map_or(username.as_str(), |m| m.username.as_str()),
        &org.public.name,
        &code,
        &link,
    );
    state
        .mail
        .send(
            member.as_ref().map(|m| m.email.as_str()),
            &email.subject,
            &email.body,
        )
        .await?;
    let now = state.clock.now();
    Ok(Json(flow.to_api(&org, vec![FlowMessage::CodeSent], now)))
}

/// `POST /api/v1/flows/{id}/code/verify`
pub async fn verify_code(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<VerifyCode>,
) -> Result<Response> {
    let (flow, org) = load(&state, &id, client).await?;
    flow.require(&[FlowState::EmailCode])?;
    limit_member(&state, &flow).await?;
    let code = normalize_code(&body.code, CODE_LENGTH)
        .ok_or_else(|| Error::new(ProblemCode::InvalidCodeFormat, "A code is 6 digits"))?;
    let submitted = digest(&[&flow.id, &code]);
    let member = member_of(&state, &flow).await?;
    let member_id = flow.member_id.clone();
    let (flow, (check, outcome)) = apply(&state, flow, |flow, now| {
        same_member(flow, &member_id)?;
        let check = flow.check_code(&submitted, member.is_some(), now)?;
        let outcome = match (check, &member) {
            (CodeCheck::Right, Some(member)) => Some(flow.credential_accepted(&org, member, now)),
            _ => None,
        };
        Ok((check, outcome))
    })
    .await?;
    match (check, outcome, member) {
        (CodeCheck::Right, Some(outcome), Some(member)) => {
            finish(&state, flow, &org, &member, outcome, &headers).await
        }
        (CodeCheck::Expired, ..) => Err(Error::new(ProblemCode::CodeExpired, "The code expired")),
        (CodeCheck::Wrong { attempts_left }, ..) => {
            // A code whose tries run out is one failed login, not five.
            if attempts_left == 0 {
                fail(&state, &flow, &org).await?;
            }
            Err(Error::wrong_code(attempts_left))
        }
        _ => {
            fail(&state, &flow, &org).await?;
            Err(Error::invalid_credentials())
        }
    }
}

/// `POST /api/v1/flows/{id}/password`
pub async fn password(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitPassword>,
) -> Result<Response> {
    let (flow, org) = load(&state, &id, client).await?;
    let at_password = [FlowState::ChooseMethod, FlowState::EmailCode];
    flow.require(&at_password)?;
    require_method(&org, LoginMethod::Password)?;
    limit_member(&state, &flow).await?;
    let member = member_of(&state, &flow).await?;
    let stored = member.as_ref().and_then(|m| m.password_hash.clone());
    let password = body.password;
    let ok = if password.chars().count() > MAX_PASSWORD_CHARS {
        false
    } else {
        state.passwords.verify(stored.as_deref(), &password).await?
    };
    match member {
        Some(member) if ok => accept(&state, flow, &org, &member, &at_password, &headers).await,
        _ => {
            fail(&state, &flow, &org).await?;
            Err(Error::invalid_credentials())
        }
    }
}

/// A correct credential given at one of the `at` steps: moves the flow on and finishes.
async fn accept(
    state: &AppState,
    flow: Flow,
    org: &OrganizationRecord,
    member: &MemberRecord,
    at: &[FlowState],
    headers: &HeaderMap,
) -> Result<Response> {
    // Read again: failures recorded by parallel requests since may have locked the member.
    let member = state
        .db
        .member(&member.id)
        .await?
        .ok_or_else(flow_not_found)?;
    let member_id = Some(member.id.clone());
    let (flow, outcome) = apply(state, flow, |flow, now| {
        flow.require(at)?;
        same_member(flow, &member_id)?;
        Ok(flow.credential_accepted(org, &member, now))
    })
    .await?;
    finish(state, flow, org, &member, outcome, headers).await
}

/// A wrong credential: counts towards the member's lock (the same statement runs for an
/// unknown username, matching no row). At the Organization's limit the member is locked —
/// for a while that doubles with each lock since their last login, or until an administrator
/// unlocks if the Organization chose that — and told by email, in the flow's language.
async fn fail(state: &AppState, flow: &Flow, org: &OrganizationRecord) -> Result<()> {
    let member_id = flow.member_id.as_deref().unwrap_or_default();
    let Some(counts) = state.db.count_failed_login(member_id).await? else {
        return Ok(());
    };
    if counts.failed_logins < org.max_failed_logins {
        return Ok(());
    }
    let now = state.clock.now();
    let minutes = lock_seconds(counts.lockouts) / 60;
    let until = (!org.lock_until_unlocked).then(|| now + minutes * 60);
    if !state
        .db
        .lock_after_failures(member_id, org.max_failed_logins, until)
        .await?
    {
        return Ok(()); // a parallel request locked it
    }
    let Some(member) = state.db.member(member_id).await? else {
        return Ok(());
    };
    let email = mail_text::locked_email(
        flow.language,
        &member.username,
        &org.public.name,
        org.max_failed_logins,
        until.map(|_| minutes),
    );
    state
        .mail
        .send(Some(&member.email), &email.subject, &email.body)
        .await
}

/// `POST /api/v1/flows/{id}/second-factor`: an authenticator code (±1 step, never one
/// already used) or a single-use recovery code, after a correct first factor.
pub async fn second_factor(
    State(state): State<AppState>,
    client: ClientIp,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitSecondFactor>,
) -> Result<Response> {
    let (flow, org) = load(&state, &id, client).await?;
    let at_second_factor = [FlowState::SecondFactor];
    flow.require(&at_second_factor)?;
    limit_member(&state, &flow).await?;
    let member = member_of(&state, &flow)
        .await?
        .ok_or_else(Error::step_not_allowed)?;
    let malformed = || Error::new(ProblemCode::InvalidCodeFormat, "Not a code");
    let now = state.clock.now();
    let ok = match body {
        SubmitSecondFactor::Totp { code } => {
            let code = normalize_code(&code, totp::DIGITS).ok_or_else(malformed)?;
            let secret = member
                .totp_secret
                .as_deref()
                .and_then(totp::base32_decode)
                .unwrap_or_default();
            match totp::matching_step(&secret, &code, now, member.totp_last_step) {
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
            } else if member.locked_at(now) || crate::requirements::overdue(&org, &member, now) {
                // Right code, but the login cannot complete: say why, and keep the code.
                true
            } else {
                state.db.use_recovery_code(&member.id, &hash, now).await?
            }
        }
    };
    if ok {
        accept(&state, flow, &org, &member, &at_second_factor, &headers).await
    } else {
        fail(&state, &flow, &org).await?;
        Err(Error::invalid_credentials())
    }
}

/// What a correct credential led to, answered: a locked member learns they are locked; a
/// member with MFA who gave the first factor is asked for the second; anyone else is logged in
/// with a new session (any session this browser had is ended: rotation).
async fn finish(
    state: &AppState,
    flow: Flow,
    org: &OrganizationRecord,
    member: &MemberRecord,
    outcome: Outcome,
    headers: &HeaderMap,
) -> Result<Response> {
    let now = state.clock.now();
    match outcome {
        Outcome::Locked => Err(match member.locked_until {
            Some(until) if !member.locked && until > now => Error::account_locked_for(until - now),
            _ => Error::account_locked(),
        }),
        Outcome::Overdue => {
            state.db.lock_member(&member.id).await?;
            Err(Error::grace_period_over())
        }
        Outcome::SecondFactor => Ok(Json(answer(state, &flow, org, vec![]).await?).into_response()),
        Outcome::LoggedIn => {
            state.db.record_login(&member.id, now).await?;
            if let Some((mfa, renewal)) = crate::requirements::unstarted(org, member) {
                state
                    .db
                    .start_requirements(&member.id, now, mfa, renewal)
                    .await?;
            }
            let cookie = session::open(state, headers, member, org, flow.language).await?;
            Ok((
                [(axum::http::header::SET_COOKIE, cookie)],
                Json(flow.to_api(org, vec![], now)),
            )
                .into_response())
        }
    }
}
