use leptos::html::{Input, H1};
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use member_login_api::flow::{normalize_code, VerifyCode};
use member_login_api::CODE_LENGTH;

use super::{
    focus_when_mounted, query_param, FieldError, Notice, StepContext, StepKit, SubmitButton,
};
use crate::i18n::{fill, lang, t, tr};
use crate::wizard::{countdown_text, seconds_left, Step};
use crate::{device, messages};

/// Step 5: the code from the email. One field; a pasted code with spaces or dashes works; it
/// submits itself when complete. The email's link opens this step with the code filled in.
#[component]
pub fn EmailCodeStep() -> impl IntoView {
    let linked = query_param("code");
    if let Some(code) = linked.clone() {
        // The code leaves the address bar, and this history entry, as soon as it is read.
        let flow = query_param("flow");
        let organization = query_param("organization").unwrap_or_default();
        use_navigate()(
            &Step::EmailCode.url(&organization, flow.as_deref()),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
        // Only the browser that asked for the code logs in with the link; on another device
        // (the email read on a phone), the code is shown to type where the login waits.
        if !flow.as_deref().is_some_and(device::asked_code_for) {
            return CodeForAnotherDevice(CodeForAnotherDeviceProps { code }).into_any();
        }
    }
    let kit = StepKit::new();
    kit.load_flow(Step::EmailCode);
    let state = kit.state;
    let field = NodeRef::<Input>::new();
    focus_when_mounted(field);
    let typed = RwSignal::new(linked.unwrap_or_default());

    let verify = {
        move || {
            let Some(code) = normalize_code(&typed.get_untracked(), CODE_LENGTH) else {
                kit.refuse(messages::key(|c| c.code_incomplete()));
                return;
            };
            let id = kit.flow_id();
            kit.submit(Step::EmailCode, false, move |api| async move {
                api.verify_code(&id, &VerifyCode { code }).await
            });
        }
    };
    // A code from the email's link is checked as soon as the flow is here.
    {
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) {
                return true;
            }
            // Only while the flow waits for a code: Back onto this page after the login must
            // not send the used code again.
            let waiting = state.flow.with(|f| {
                f.as_ref()
                    .is_some_and(|f| f.flow.state == member_login_api::flow::FlowState::EmailCode)
            });
            if waiting && normalize_code(&typed.get_untracked(), CODE_LENGTH).is_some() {
                verify();
                return true;
            }
            false
        });
    }
    let on_input = {
        move |ev| {
            typed.set(event_target_value(&ev));
            if normalize_code(&typed.get_untracked(), CODE_LENGTH).is_some() {
                verify();
            }
        }
    };
    let on_submit = {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            verify();
        }
    };

    // Seconds until "Resend email" may be used; `None` until the flow is known (after a reload
    // it is loaded first, so the button never looks usable during the cooldown).
    let resend_in = move || {
        let now = kit.clock.get();
        state.flow.with(|f| {
            f.as_ref().map(|f| {
                f.flow
                    .code
                    .as_ref()
                    .map(|c| seconds_left(c.resend_available_at, f.flow.now, f.received_at, now))
                    .unwrap_or(0)
            })
        })
    };
    // After a resend: the status line says so (a polite live region), and the focus, on the
    // button just disabled by the new cooldown, goes back to the code field.
    let resent = RwSignal::new(false);
    let resend = {
        move |_| {
            if resend_in() != Some(0) {
                return;
            }
            typed.set(String::new());
            kit.submit_on_flow(Step::EmailCode, false, move |api, id| async move {
                let answer = api.send_code(&id).await;
                if answer.is_ok() {
                    resent.set(true);
                    if let Some(input) = field.get_untracked() {
                        let _ = input.focus();
                    }
                }
                answer
            });
        }
    };
    let status = move || {
        state.flow.with(|f| {
            let flow_messages = f.as_ref().map_or(&[][..], |f| &f.flow.messages[..]);
            messages::code_status(flow_messages, resent.get())(tr())
        })
    };
    let has_error = move || kit.input_invalid();
    view! {
        <form on:submit=on_submit novalidate>
            <h1>{t(|c| c.code_heading())}</h1>
            <Notice />
            <StepContext with_username=true />
            <p class="status" role="status">{status}</p>
            <label for="code">{t(|c| c.code_label())}</label>
            <input
                id="code"
                name="code"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                spellcheck="false"
                node_ref=field
                prop:value=move || typed.get()
                on:input=on_input
                aria-invalid=move || has_error().then_some("true")
                aria-describedby="code-error"
            />
            <FieldError id="code-error" kit=kit />
            <SubmitButton busy=kit.busy />
        </form>
        <section class="aside" aria-labelledby="help-heading">
            <h2 id="help-heading">{t(|c| c.code_help_heading())}</h2>
            <p>{t(|c| c.code_help_intro())}</p>
            <ol class="help">
                <li>{t(|c| c.code_help_spam())}</li>
                <li>
                    {t(|c| c.code_help_click())}
                    <button
                        type="button"
                        id="resend"
                        class="link-button"
                        on:click=resend
                        disabled=move || { resend_in() != Some(0) }
                        aria-describedby="resend-countdown"
                    >
                        {t(|c| c.code_help_resend())}
                    </button>
                    <span id="resend-countdown" class="hint" aria-live="off">
                        {move || match resend_in() {
                            Some(s) if s > 0 => fill(
                                tr().code_help_resend_available(),
                                &[("time", &countdown_text(lang(), s))],
                            ),
                            _ => String::new(),
                        }}
                    </span>
                </li>
                <li>{t(|c| c.code_help_contact())}</li>
                <li>{t(|c| c.code_help_support())}</li>
            </ol>
        </section>
    }
    .into_any()
}

/// The email's link opened in a browser that did not start this login: it logs nothing in
/// here, and shows the code to type on the device where the login waits.
#[component]
fn CodeForAnotherDevice(code: String) -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    focus_when_mounted(heading);
    let shown = normalize_code(&code, CODE_LENGTH);
    view! {
        <h1 tabindex="-1" node_ref=heading>{t(|c| c.other_device_heading())}</h1>
        {match shown {
            Some(code) => view! {
                <p>{t(|c| c.other_device_text())}</p>
                <p class="code-display" id="code-to-type">{code}</p>
                <p class="hint">{t(|c| c.other_device_valid())}</p>
            }
            .into_any(),
            None => view! {
                <p id="code-to-type">{t(|c| c.other_device_no_code())}</p>
            }
            .into_any(),
        }}
    }
}
