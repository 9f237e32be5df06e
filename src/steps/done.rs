use leptos::html::H1;
use leptos::prelude::*;
use leptos::task::spawn_local;
use member_login_api::session::{RequirementKind, Session};
use member_login_api::{LoginMethod, ProblemCode};

use super::{focus_when_mounted, StepKit};
use crate::api_client::{runtime_config, ClientError};
use crate::i18n::{lang, t, tr, Key};
use crate::wizard::{self, time_left_text, Handoff, Step};
use crate::{device, messages};

/// The account page's passkeys screen.
const PASSKEYS_SCREEN: &str = "/account/passkeys";

/// Step 9: logged in. Who, to which Organization, what the Organization still requires, and
/// Log out. A reload asks the server again, so it keeps showing the session while it lasts.
#[component]
pub fn DoneStep() -> impl IntoView {
    let kit = StepKit::new();
    let heading = NodeRef::<H1>::new();
    focus_when_mounted(heading);
    let session = RwSignal::new(None::<Session>);
    // Where "Continue to the console" goes, once the session (and so the Organization) is known.
    let handoff = RwSignal::new(None::<Handoff>);
    let missing = RwSignal::new(false);
    // What the heading says once the session is known (`None` while asking), so a screen
    // reader never hears "You are logged in" before it is true.
    let known = RwSignal::new(None::<Key>);
    // Only "not logged in" and "locked" mean there is no session; anything else (offline, a
    // server error) is shown with a Retry, the session may well be fine.
    let load = move || {
        kit.error.set(None);
        known.set(None);
        spawn_local(async move {
            match kit.api().session().await {
                Ok(s) => {
                    let config = runtime_config().await;
                    handoff.set(Some(wizard::handoff(
                        device::return_to().as_deref(),
                        &s.organization,
                        config.console_url.as_deref(),
                        &config.return_urls,
                    )));
                    kit.state.organization.set(Some(s.organization.clone()));
                    session.set(Some(s));
                    known.set(Some(|c| c.done_logged_in()));
                }
                Err(err) => {
                    let gone = matches!(&err, ClientError::Problem(p)
                        if matches!(p.code, ProblemCode::Unauthenticated | ProblemCode::AccountLocked));
                    missing.set(gone);
                    known.set(Some(if gone {
                        |c| c.done_not_logged_in()
                    } else {
                        |c| c.done_unknown()
                    }));
                    kit.say(messages::of_error(err));
                }
            }
        });
    };
    load();
    let logout = {
        move |_| {
            if kit.busy.get_untracked() {
                return;
            }
            kit.busy.set(true);
            spawn_local(async move {
                let result = kit.api().logout().await;
                kit.busy.set(false);
                match result {
                    Ok(()) => {
                        kit.state.flow.set(None);
                        device::keep_return_to(None);
                        kit.state.notice.set(Some(|c| c.logged_out()));
                        kit.go(Step::Landing.path(), false);
                    }
                    Err(err) => kit.say(messages::of_error(err)),
                }
            });
        }
    };
    let requirement_name = |kind: RequirementKind| match kind {
        RequirementKind::UpdatePassword => t(|c| c.requirement_update_password()),
        RequirementKind::EnableMfa => t(|c| c.requirement_enable_mfa()),
        RequirementKind::Unknown => t(|c| c.requirement_unknown()),
    };
    let requirement_path = |kind: RequirementKind| match kind {
        RequirementKind::UpdatePassword => "/account/password",
        _ => "/account/mfa",
    };
    let error = kit.error;
    let busy = kit.busy;
    // Focus is on the heading from the start; once the session is known, it is given again,
    // so a screen reader reads the final heading.
    Effect::new(move |_| {
        if let (Some(_), Some(h)) = (known.get(), heading.get_untracked()) {
            let _ = h.blur();
            let _ = h.focus();
        }
    });
    view! {
        <h1 tabindex="-1" node_ref=heading aria-busy=move || known.get().is_none().then_some("true")>
            {move || known.get().unwrap_or(|c| c.done_checking())(tr())}
        </h1>
        {move || {
            session
                .get()
                .map(|s| {
                    let requirements = s.requirements.clone();
                    let now = s.now;
                    let passkeys = s.organization.login_methods.contains(&LoginMethod::Passkey);
                    view! {
                        <dl class="context">
                            <div>
                                <dt>{t(|c| c.context_member())}</dt>
                                <dd>
                                    <strong id="session-username">{s.member.username.clone()}</strong>
                                    " (" {s.member.email.clone()} ")"
                                </dd>
                            </div>
                            <div>
                                <dt>{t(|c| c.context_organization())}</dt>
                                <dd>
                                    <strong id="session-organization">{s.organization.name.clone()}</strong>
                                </dd>
                            </div>
                        </dl>
                        {(!requirements.is_empty()).then(|| view! {
                            <section aria-labelledby="requirements-heading" class="requirements">
                                <h2 id="requirements-heading">{t(|c| c.done_requirements_heading())}</h2>
                                <p>{t(|c| c.done_requirements_intro())}</p>
                                <ul>
                                    {requirements
                                        .iter()
                                        .map(|r| {
                                            view! {
                                                <li>
                                                    <a href=requirement_path(r.kind) rel="external">
                                                        {requirement_name(r.kind)}
                                                    </a>
                                                    " — "
                                                    {
                                                        let left = r.deadline - now;
                                                        move || time_left_text(lang(), left)
                                                    }
                                                    // A passkey meets the MFA requirement too.
                                                    {(passkeys && r.kind == RequirementKind::EnableMfa).then(|| view! {
                                                        " · "
                                                        <a href=PASSKEYS_SCREEN rel="external" id="mfa-passkey">
                                                            {t(|c| c.requirement_or_passkey())}
                                                        </a>
                                                    })}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        })}
                        {requirements.is_empty().then(|| view! {
                            <p class="status" id="all-done">{t(|c| c.done_all_done())}</p>
                        })}
                        {passkeys.then(|| view! {
                            <p>
                                <a href=PASSKEYS_SCREEN rel="external" id="passkeys-link">
                                    {t(|c| c.done_passkeys())}
                                </a>
                            </p>
                        })}
                    }
                })
        }}
        {move || handoff.get().map(|h| {
            let pending = session.with(|s| s.as_ref().is_some_and(|s| !s.requirements.is_empty()));
            view! {
                {h.refused.then(|| view! {
                    <p class="notice" id="return-refused">{t(|c| c.done_return_refused())}</p>
                })}
                {match h.target {
                    Some(url) => view! {
                        <a
                            id="continue"
                            class=if pending { "button secondary" } else { "button primary" }
                            href=url
                            rel="external"
                        >
                            {t(|c| c.done_continue())}
                        </a>
                    }
                    .into_any(),
                    None => view! { <p class="hint">{t(|c| c.done_nowhere())}</p> }.into_any(),
                }}
            }
        })}
        <p class="field-error" role="alert">{move || kit.error_text()}</p>
        {move || {
            (session.with(|s| s.is_none()) && error.with(|e| e.is_some()) && !missing.get())
                .then(|| view! {
                    <button type="button" class="button secondary" id="retry" on:click=move |_| load()>
                        {t(|c| c.done_retry())}
                    </button>
                })
        }}
        {move || if missing.get() {
            view! { <a class="button primary" href="/">{t(|c| c.done_log_in())}</a> }.into_any()
        } else {
            view! {
            <button
                type="button"
                class=move || if handoff.with(|h| h.as_ref().is_some_and(|h| h.target.is_some())) {
                    "button secondary"
                } else {
                    "button primary"
                }
                id="logout"
                hidden=move || known.get().is_none()
                on:click=logout
                aria-disabled=move || busy.get().then_some("true")
            >
                {t(|c| c.done_log_out())}
            </button>
            }.into_any()
        }}
    }
}
