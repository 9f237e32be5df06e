use leptos::html::H1;
use leptos::prelude::*;
use leptos::task::spawn_local;
use member_login_api::session::{RequirementKind, Session};
use member_login_api::ProblemCode;

use super::{focus_when_mounted, StepKit};
use crate::api_client::{runtime_config, ClientError};
use crate::wizard::{self, time_left_text, Handoff, Step};
use crate::{device, messages};

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
    let known = RwSignal::new(None::<&'static str>);
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
                    known.set(Some("You are logged in"));
                }
                Err(err) => {
                    let gone = matches!(&err, ClientError::Problem(p)
                        if matches!(p.code, ProblemCode::Unauthenticated | ProblemCode::AccountLocked));
                    missing.set(gone);
                    known.set(Some(if gone {
                        "Not logged in"
                    } else {
                        "Your session could not be checked"
                    }));
                    kit.say(messages::client_error(&err));
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
                        kit.state.notice.set(Some(messages::LOGGED_OUT));
                        kit.go(Step::Landing.path(), false);
                    }
                    Err(err) => kit.say(messages::client_error(&err)),
                }
            });
        }
    };
    let requirement_name = |kind: RequirementKind| match kind {
        RequirementKind::UpdatePassword => "Update password",
        RequirementKind::EnableMfa => "Enable MFA",
        RequirementKind::Unknown => "A requirement of your Organization",
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
            {move || known.get().unwrap_or("Checking your session…")}
        </h1>
        {move || {
            session
                .get()
                .map(|s| {
                    let requirements = s.requirements.clone();
                    let now = s.now;
                    view! {
                        <dl class="context">
                            <div>
                                <dt>"Member"</dt>
                                <dd>
                                    <strong id="session-username">{s.member.username.clone()}</strong>
                                    " (" {s.member.email.clone()} ")"
                                </dd>
                            </div>
                            <div>
                                <dt>"Organization"</dt>
                                <dd>
                                    <strong id="session-organization">{s.organization.name.clone()}</strong>
                                </dd>
                            </div>
                        </dl>
                        {(!requirements.is_empty()).then(|| view! {
                            <section aria-labelledby="requirements-heading" class="requirements">
                                <h2 id="requirements-heading">"Your Organization's security requirements"</h2>
                                <p>"Complete these before the time runs out, or your account will be locked."</p>
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
                                                    {time_left_text(r.deadline - now)}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        })}
                        {requirements.is_empty().then(|| view! {
                            <p class="status" id="all-done">
                                "All done: your account meets your Organization's security requirements."
                            </p>
                        })}
                    }
                })
        }}
        {move || handoff.get().map(|h| {
            let pending = session.with(|s| s.as_ref().is_some_and(|s| !s.requirements.is_empty()));
            view! {
                {h.refused.then(|| view! {
                    <p class="notice" id="return-refused">
                        "The page that sent you here is not one your Organization allows, so you \
                         are not sent back to it."
                    </p>
                })}
                {match h.target {
                    Some(url) => view! {
                        <a
                            id="continue"
                            class=if pending { "button secondary" } else { "button primary" }
                            href=url
                            rel="external"
                        >
                            "Continue to the console"
                        </a>
                    }
                    .into_any(),
                    None => view! { <p class="hint">"You can close this page, or log out."</p> }.into_any(),
                }}
            }
        })}
        <p class="field-error" role="alert">{move || error.get()}</p>
        {move || {
            (session.with(|s| s.is_none()) && error.with(|e| e.is_some()) && !missing.get())
                .then(|| view! {
                    <button type="button" class="button secondary" id="retry" on:click=move |_| load()>
                        "Retry"
                    </button>
                })
        }}
        {move || if missing.get() {
            view! { <a class="button primary" href="/">"Log in"</a> }.into_any()
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
                "Log out"
            </button>
            }.into_any()
        }}
    }
}
