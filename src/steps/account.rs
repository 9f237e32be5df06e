use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;
use member_login_api::session::{password_rules_broken, PasswordRule, Session, VerifyMfa};
use member_login_api::ProblemCode;

use super::{focus_when_mounted, FieldError, ShowPasswordToggle, StepKit, SubmitButton};
use crate::api_client::ClientError;
use crate::i18n::{t, tr, Key};
use crate::wizard::Step;
use crate::{device, messages};

/// Loads the session for an account step; a refusal goes to the error line unless `quiet`.
pub(super) fn load_session(kit: StepKit, session: RwSignal<Option<Session>>, quiet: bool) {
    spawn_local(async move {
        match kit.api().session().await {
            Ok(s) => session.set(Some(s)),
            Err(_) if quiet => {}
            Err(err) => kit.say(messages::of_error(err)),
        }
    });
}

/// Whether a sensitive change was refused because the login is too old (the server wants one
/// within the last minutes, so that a stolen session cookie alone cannot take the account).
pub(super) fn needs_recent_login(err: &ClientError) -> bool {
    matches!(err, ClientError::Problem(p) if p.code == ProblemCode::ReauthenticationRequired)
}

/// Starts a new login for the same member: a flow for their Organization with their username
/// given, shown at its method step (errors go to this step's error line). Without the session,
/// the username step of the Organization known. The login ends at the done step, whose
/// checklist leads back to the account screens.
pub(super) fn log_in_again(kit: StepKit, session: Option<Session>) {
    kit.state.flow.set(None);
    let Some(Session {
        member,
        organization,
        ..
    }) = session
    else {
        kit.go(&Step::Username.url(&kit.organization_alias(), None), false);
        return;
    };
    kit.state.username.set(member.username.clone());
    kit.state.organization.set(Some(organization.clone()));
    kit.start_flow(Step::Landing, organization.alias, member.username);
}

/// The way back to the checklist.
#[component]
pub(super) fn BackToChecklist() -> impl IntoView {
    view! {
        <a class="button secondary" id="back-to-checklist" href=Step::Done.path() rel="external">
            {t(|c| c.back_to_checklist())}
        </a>
    }
}

/// Update password: the rules are checked as the member types (the server checks them again,
/// and its list of common passwords); the new password is then shown once, with Copy.
#[component]
pub fn UpdatePasswordStep() -> impl IntoView {
    let kit = StepKit::new();
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);
    let session = RwSignal::new(None::<Session>);
    load_session(kit, session, false);
    let reauth = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let shown = RwSignal::new(false);
    let server_rules = RwSignal::new(Vec::<PasswordRule>::new());
    let done = RwSignal::new(None::<String>);
    let copied = RwSignal::new(None::<Key>);

    let username = move || {
        session
            .with(|s| s.as_ref().map(|s| s.member.username.clone()))
            .unwrap_or_default()
    };
    let broken = move || {
        let mut rules = password_rules_broken(&username(), &password.get());
        for rule in server_rules.get() {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        rules
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if kit.blocked() {
            return;
        }
        if reauth.get_untracked() {
            log_in_again(kit, session.get_untracked());
            return;
        }
        let typed = password.get_untracked();
        if !password_rules_broken(&username(), &typed).is_empty() {
            kit.refuse(messages::key(|c| c.problem_password_rejected()));
            return;
        }
        kit.busy.set(true);
        kit.error.set(None);
        spawn_local(async move {
            let result = kit
                .api()
                .change_password(&member_login_api::session::ChangePassword {
                    new_password: typed.clone(),
                })
                .await;
            kit.busy.set(false);
            match result {
                Ok(s) => {
                    session.set(Some(s));
                    done.set(Some(typed));
                    password.set(String::new());
                }
                Err(ClientError::Problem(p)) if !p.rules.is_empty() => {
                    server_rules.set(p.rules.clone());
                    kit.refuse(messages::of_problem(p.as_ref().clone()));
                }
                // What was typed stays in the field; the button now starts the login.
                Err(err) if needs_recent_login(&err) => {
                    reauth.set(true);
                    kit.say(messages::key(|c| c.log_in_again_password()));
                }
                Err(err) => kit.fail(err, Step::Done),
            }
        });
    };
    let copy = move |_| {
        let text = done.get_untracked().unwrap_or_default();
        spawn_local(async move {
            copied.set(Some(if device::copy_to_clipboard(&text).await {
                |c| c.copied()
            } else {
                |c| c.copy_refused_password()
            }));
        });
    };
    let has_error = move || kit.input_invalid();
    let all_rules = [
        PasswordRule::TooShort,
        PasswordRule::TooLong,
        PasswordRule::ContainsUsername,
        PasswordRule::Common,
        PasswordRule::TooGuessable,
    ];
    view! {
        <h1>{t(|c| c.update_password_heading())}</h1>
        <Show
            when=move || done.with(|d| d.is_none())
            fallback=move || {
                view! {
                    <p class="status" role="status">{t(|c| c.update_password_changed())}</p>
                    <p>{t(|c| c.update_password_shown_once())}</p>
                    <p><code id="new-password" class="secret">{move || done.get()}</code></p>
                    <button type="button" class="button secondary" id="copy-password" on:click=copy>
                        {t(|c| c.update_password_copy())}
                    </button>
                    <p role="status" class="hint">{move || copied.get().map(|key| key(tr()))}</p>
                    <BackToChecklist />
                }
            }
        >
            <form on:submit=on_submit novalidate>
                <label for="new-password-field">{t(|c| c.update_password_label())}</label>
                <div class="password-row">
                    <input
                        id="new-password-field"
                        name="new-password"
                        type=move || if shown.get() { "text" } else { "password" }
                        autocomplete="new-password"
                        autocapitalize="none"
                        spellcheck="false"
                        node_ref=field
                        prop:value=move || password.get()
                        on:input=move |ev| {
                            server_rules.set(Vec::new());
                            password.set(event_target_value(&ev));
                        }
                        aria-invalid=move || has_error().then_some("true")
                        aria-describedby="password-rules new-password-error"
                    />
                    <ShowPasswordToggle id="toggle-new-password" controls="new-password-field" shown=shown />
                </div>
                <ul id="password-rules" class="rules">
                    {all_rules
                        .into_iter()
                        .map(|rule| {
                            let ok = move || !broken().contains(&rule);
                            view! {
                                <li class=move || if ok() { "rule met" } else { "rule unmet" }>
                                    <span aria-hidden="true">{move || if ok() { "✓ " } else { "✗ " }}</span>
                                    {move || messages::password_rule(tr(), rule)}
                                    <span class="visually-hidden">
                                        {move || if ok() { " (met)" } else { " (not met)" }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <FieldError id="new-password-error" kit=kit />
                <SubmitButton busy=kit.busy log_in_again=reauth />
            </form>
            <BackToChecklist />
        </Show>
    }
}

/// Enable MFA: a QR code drawn in Rust (no outside service), the key as text under "Can't
/// scan?", a code to verify, then ten recovery codes to copy or download.
#[component]
pub fn EnableMfaStep() -> impl IntoView {
    let kit = StepKit::new();
    let field = NodeRef::<Input>::new();
    let enrollment = RwSignal::new(None::<member_login_api::session::MfaEnrollment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let typed = RwSignal::new(String::new());
    let copied = RwSignal::new(None::<Key>);
    // Known only once a recent login is needed: whom to log in again.
    let session = RwSignal::new(None::<Session>);
    let reauth = RwSignal::new(false);
    let needs_login = move || {
        reauth.set(true);
        kit.say(messages::key(|c| c.log_in_again_mfa()));
        load_session(kit, session, true);
    };
    let start = move || {
        kit.busy.set(true);
        spawn_local(async move {
            let result = kit.api().start_mfa().await;
            kit.busy.set(false);
            match result {
                Ok(e) => enrollment.set(Some(e)),
                Err(ClientError::Cancelled) => {}
                Err(err) if needs_recent_login(&err) => needs_login(),
                Err(err) => kit.say(messages::of_error(err)),
            }
        });
    };
    start();
    focus_when_mounted(field);

    let qr_svg = move || {
        enrollment.with(|e| {
            e.as_ref()
                .and_then(|e| qrcode::QrCode::new(e.otpauth_uri.as_bytes()).ok())
                .map(|qr| {
                    qr.render::<qrcode::render::svg::Color>()
                        .min_dimensions(200, 200)
                        .build()
                })
                .unwrap_or_default()
        })
    };
    let grouped_key = move || {
        enrollment.with(|e| {
            e.as_ref()
                .map(|e| {
                    e.secret
                        .as_bytes()
                        .chunks(4)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        })
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if kit.blocked() {
            return;
        }
        if reauth.get_untracked() {
            log_in_again(kit, session.get_untracked());
            return;
        }
        if enrollment.with_untracked(Option::is_none) {
            kit.error.set(None);
            start();
            return;
        }
        let Some(code) = member_login_api::flow::normalize_code(&typed.get_untracked(), 6) else {
            kit.refuse(messages::key(|c| c.second_factor_totp_incomplete()));
            return;
        };
        kit.busy.set(true);
        kit.error.set(None);
        spawn_local(async move {
            let result = kit.api().verify_mfa(&VerifyMfa { code }).await;
            kit.busy.set(false);
            match result {
                Ok(r) => codes.set(Some(r.recovery_codes)),
                Err(err) if needs_recent_login(&err) => needs_login(),
                Err(err) => kit.say(messages::of_error(err)),
            }
        });
    };
    let codes_text = move || codes.get().unwrap_or_default().join("\n") + "\n";
    let copy = move |_| {
        let text = codes_text();
        spawn_local(async move {
            copied.set(Some(if device::copy_to_clipboard(&text).await {
                |c| c.copied()
            } else {
                |c| c.copy_refused_codes()
            }));
        });
    };
    let download = move |_| {
        if !device::download_text("recovery-codes.txt", &codes_text()) {
            copied.set(Some(|c| c.download_refused()));
        }
    };
    let has_error = move || kit.input_invalid();
    view! {
        <h1>{t(|c| c.enable_mfa_heading())}</h1>
        <Show
            when=move || codes.with(|c| c.is_none())
            fallback=move || {
                view! {
                    <p class="status" role="status">{t(|c| c.enable_mfa_on())}</p>
                    <h2>{t(|c| c.enable_mfa_codes_heading())}</h2>
                    <p>{t(|c| c.enable_mfa_codes_intro())}</p>
                    <ol id="recovery-codes" class="codes">
                        {move || codes.get().unwrap_or_default().into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                    </ol>
                    <div class="methods">
                        <button type="button" class="button secondary" id="copy-codes" on:click=copy>{t(|c| c.enable_mfa_copy_codes())}</button>
                        <button type="button" class="button secondary" id="download-codes" on:click=download>{t(|c| c.enable_mfa_download_codes())}</button>
                    </div>
                    <p role="status" class="hint">{move || copied.get().map(|key| key(tr()))}</p>
                    <BackToChecklist />
                }
            }
        >
            <p>{t(|c| c.enable_mfa_scan())}</p>
            <div class="qr" role="img" aria-label=t(|c| c.enable_mfa_qr_label()) inner_html=qr_svg></div>
            <details>
                <summary>{t(|c| c.enable_mfa_cant_scan())}</summary>
                <p>{t(|c| c.enable_mfa_key_intro())}</p>
                <p><code id="mfa-key" class="secret key">{grouped_key}</code></p>
            </details>
            <form on:submit=on_submit novalidate>
                <label for="mfa-code">{t(|c| c.enable_mfa_code_label())}</label>
                <input
                    id="mfa-code"
                    name="mfa-code"
                    type="text"
                    inputmode="numeric"
                    autocomplete="one-time-code"
                    node_ref=field
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    aria-invalid=move || has_error().then_some("true")
                    aria-describedby="mfa-error"
                />
                <FieldError id="mfa-error" kit=kit />
                <SubmitButton busy=kit.busy log_in_again=reauth />
            </form>
            <BackToChecklist />
        </Show>
    }
}
