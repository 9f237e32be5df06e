use std::time::Duration;

use leptos::html::{Input, H1};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;
use member_login_api::passkey::{normalize_passkey_name, Passkey, RenamePasskey};
use member_login_api::session::Session;
use wasm_bindgen::JsCast;

use super::account::{load_session, log_in_again, needs_recent_login, BackToChecklist};
use super::{focus_when_mounted, FieldError, StepKit};
use crate::api_client::ClientError;
use crate::i18n::{fill, lang, t, tr, Key, Lang};
use crate::messages::{self, Said};
use crate::passkey::{self, Failure, PasskeyError};
use crate::wizard::Step;

/// Gives the focus to the element with `id` once the view shows it.
fn focus_later(id: String) {
    set_timeout(
        move || {
            if let Some(element) = document().get_element_by_id(&id) {
                let _ = element.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        },
        Duration::ZERO,
    );
}

/// A date of the server's clock (seconds), as the language writes it.
fn date(l: Lang, seconds: i64) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    js_sys::Date::new(&(seconds as f64 * 1000.0).into())
        .to_locale_date_string(l.code(), &options)
        .into()
}

/// A message with the passkey's name in it.
fn named(key: Key, name: String) -> Said {
    std::sync::Arc::new(move |l| fill(key(l.catalogue()), &[("name", &name)]))
}

/// The options, the browser's new passkey, and adding it under `name`.
async fn add(kit: StepKit, name: String) -> Result<Passkey, Failure> {
    let api = kit.api();
    let options = api.new_passkey_options().await?;
    let credential = passkey::create(&options).await?;
    Ok(api.add_passkey(&name, &credential).await?)
}

/// Passkeys: the member's list (name, when added and last used, whether synced), "Add a
/// passkey" with a name, rename in place, remove after a confirmation. Adding and removing need
/// a recent login, as a password change does: the form's button then offers "Log in again".
#[component]
pub fn PasskeysStep() -> impl IntoView {
    let kit = StepKit::new();
    let heading = NodeRef::<H1>::new();
    focus_when_mounted(heading);
    let field = NodeRef::<Input>::new();
    let list = RwSignal::new(None::<Vec<Passkey>>);
    let session = RwSignal::new(None::<Session>);
    load_session(kit, session, true);
    let reauth = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    // What changed, for the live region.
    let status = RwSignal::new(None::<Said>);
    // The passkey being renamed (its id), the name typed, and that form's error.
    let editing = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let rename_error = RwSignal::new(None::<Said>);
    // The passkey whose removal is being confirmed.
    let confirming = RwSignal::new(None::<String>);

    spawn_local(async move {
        match kit.api().passkeys().await {
            Ok(p) => list.set(Some(p.passkeys)),
            Err(ClientError::Cancelled) => {}
            Err(err) => kit.say(messages::of_error(err)),
        }
    });

    let needs_login = move || {
        reauth.set(true);
        kit.say(messages::key(|c| c.log_in_again_passkeys()));
        if session.with_untracked(Option::is_none) {
            load_session(kit, session, true);
        }
    };
    let invalid_name = || messages::key(|c| c.problem_invalid_passkey_name());

    let on_add = move |ev: SubmitEvent| {
        ev.prevent_default();
        if kit.blocked() {
            return;
        }
        if reauth.get_untracked() {
            log_in_again(kit, session.get_untracked());
            return;
        }
        let Some(chosen) = normalize_passkey_name(&name.get_untracked()) else {
            kit.refuse(invalid_name());
            if let Some(input) = field.get_untracked() {
                let _ = input.focus();
            }
            return;
        };
        if !passkey::supported() {
            kit.say(messages::key(messages::passkey_adding(
                PasskeyError::Unsupported,
            )));
            return;
        }
        kit.busy.set(true);
        kit.error.set(None);
        status.set(None);
        spawn_local(async move {
            let result = add(kit, chosen).await;
            kit.busy.set(false);
            match result {
                Ok(added) => {
                    status.set(Some(named(|c| c.passkey_added(), added.name.clone())));
                    list.update(|l| l.get_or_insert_with(Vec::new).push(added));
                    name.set(String::new());
                }
                Err(Failure::Api(ClientError::Cancelled))
                | Err(Failure::Browser(PasskeyError::Aborted)) => {}
                Err(Failure::Api(err)) if needs_recent_login(&err) => needs_login(),
                Err(Failure::Api(err)) => kit.fail(err, Step::Done),
                Err(Failure::Browser(err)) => kit.say(messages::key(messages::passkey_adding(err))),
            }
        });
    };

    let close = move |focus: String| {
        editing.set(None);
        confirming.set(None);
        rename_error.set(None);
        focus_later(focus);
    };
    // A refusal of a change to one passkey: a recent login needed goes to the form's button.
    let refused = move |err: ClientError, id: &str| {
        if needs_recent_login(&err) {
            close("add-passkey".into());
            needs_login();
        } else if err != ClientError::Cancelled {
            rename_error.set(Some(messages::of_error(err)));
            focus_later(id.to_owned());
        }
    };
    let on_rename = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(id) = editing.get_untracked() else {
            return;
        };
        if kit.blocked() {
            return;
        }
        let Some(chosen) = normalize_passkey_name(&new_name.get_untracked()) else {
            rename_error.set(Some(invalid_name()));
            focus_later("rename-field".into());
            return;
        };
        kit.busy.set(true);
        spawn_local(async move {
            let result = kit
                .api()
                .rename_passkey(&id, &RenamePasskey { name: chosen })
                .await;
            kit.busy.set(false);
            match result {
                Ok(renamed) => {
                    status.set(Some(named(|c| c.passkey_renamed(), renamed.name.clone())));
                    list.update(|l| {
                        for p in l.iter_mut().flatten() {
                            if p.id == renamed.id {
                                *p = renamed.clone();
                            }
                        }
                    });
                    close(format!("rename-{id}"));
                }
                Err(err) => refused(err, "rename-field"),
            }
        });
    };
    let remove = move |_| {
        let Some(id) = confirming.get_untracked() else {
            return;
        };
        if kit.blocked() {
            return;
        }
        kit.busy.set(true);
        spawn_local(async move {
            let result = kit.api().remove_passkey(&id).await;
            kit.busy.set(false);
            match result {
                Ok(()) => {
                    let gone = list.with_untracked(|l| {
                        l.iter()
                            .flatten()
                            .find(|p| p.id == id)
                            .map(|p| p.name.clone())
                    });
                    status.set(Some(named(
                        |c| c.passkey_removed(),
                        gone.unwrap_or_default(),
                    )));
                    list.update(|l| {
                        if let Some(l) = l {
                            l.retain(|p| p.id != id);
                        }
                    });
                    close("passkeys-heading".into());
                }
                Err(err) => refused(err, "confirm-remove"),
            }
        });
    };

    let item = move |p: Passkey| {
        let Passkey {
            id,
            name: shown,
            created_at,
            last_used_at,
            synced,
        } = p;
        let when = move || {
            let l = lang();
            let c = l.catalogue();
            let added = fill(c.passkey_added_on(), &[("date", &date(l, created_at))]);
            let used = match last_used_at {
                Some(at) => fill(c.passkey_last_used(), &[("date", &date(l, at))]),
                None => c.passkey_never_used().to_owned(),
            };
            format!("{added} · {used}")
        };
        let (this, this_too) = (id.clone(), id.clone());
        let is_editing = move || editing.with(|e| e.as_deref() == Some(&this));
        let is_confirming = move || confirming.with(|e| e.as_deref() == Some(&this_too));
        let error_line = move || {
            let l = lang();
            rename_error.with(|e| e.as_ref().map(|said| said(l)))
        };
        let (rename_id, remove_id) = (format!("rename-{id}"), format!("remove-{id}"));
        let label = shown.clone();
        view! {
            <li class="passkey-item">
                <strong class="passkey-name">{shown.clone()}</strong>
                <span class="hint">{when}</span>
                {synced.then(|| view! { <span class="hint">{t(|c| c.passkey_synced())}</span> })}
                {move || {
                    if is_editing() {
                        view! {
                            <form class="rename" on:submit=on_rename novalidate>
                                <label for="rename-field">{t(|c| c.passkey_rename_label())}</label>
                                <input
                                    id="rename-field"
                                    type="text"
                                    autocomplete="off"
                                    prop:value=move || new_name.get()
                                    on:input=move |ev| {
                                        let typed = event_target_value(&ev);
                                        rename_error.set(
                                            (!typed.is_empty() && normalize_passkey_name(&typed).is_none())
                                                .then(invalid_name),
                                        );
                                        new_name.set(typed);
                                    }
                                    aria-invalid=move || rename_error.with(Option::is_some).then_some("true")
                                    aria-describedby="rename-error"
                                />
                                <p id="rename-error" class="field-error" role="alert">{error_line}</p>
                                <div class="actions">
                                    <button type="submit" class="button primary">{t(|c| c.passkey_save())}</button>
                                    <button
                                        type="button"
                                        class="button secondary"
                                        on:click={
                                            let id = rename_id.clone();
                                            move |_| close(id.clone())
                                        }
                                    >
                                        {t(|c| c.passkey_cancel())}
                                    </button>
                                </div>
                            </form>
                        }
                        .into_any()
                    } else if is_confirming() {
                        let question = {
                            let name = label.clone();
                            move || fill(tr().passkey_remove_confirm(), &[("name", &name)])
                        };
                        view! {
                            <div class="confirm" role="group" aria-labelledby="confirm-text">
                                <p id="confirm-text">{question}</p>
                                <p class="field-error" role="alert">{error_line}</p>
                                <div class="actions">
                                    <button type="button" class="button primary" id="confirm-remove" on:click=remove>
                                        {t(|c| c.passkey_remove_yes())}
                                    </button>
                                    <button
                                        type="button"
                                        class="button secondary"
                                        id="cancel-remove"
                                        on:click={
                                            let id = remove_id.clone();
                                            move |_| close(id.clone())
                                        }
                                    >
                                        {t(|c| c.passkey_cancel())}
                                    </button>
                                </div>
                            </div>
                        }
                        .into_any()
                    } else {
                        let (to_edit, to_confirm, current) = (id.clone(), id.clone(), label.clone());
                        view! {
                            <div class="actions">
                                <button
                                    type="button"
                                    class="link-button"
                                    id=rename_id.clone()
                                    on:click=move |_| {
                                        rename_error.set(None);
                                        confirming.set(None);
                                        new_name.set(current.clone());
                                        editing.set(Some(to_edit.clone()));
                                        focus_later("rename-field".into());
                                    }
                                >
                                    {t(|c| c.passkey_rename())}
                                    <span class="visually-hidden">" " {label.clone()}</span>
                                </button>
                                <button
                                    type="button"
                                    class="link-button"
                                    id=remove_id.clone()
                                    on:click=move |_| {
                                        rename_error.set(None);
                                        editing.set(None);
                                        confirming.set(Some(to_confirm.clone()));
                                        focus_later("confirm-remove".into());
                                    }
                                >
                                    {t(|c| c.passkey_remove())}
                                    <span class="visually-hidden">" " {label.clone()}</span>
                                </button>
                            </div>
                        }
                        .into_any()
                    }
                }}
            </li>
        }
    };

    let has_error = move || kit.input_invalid();
    view! {
        <h1 tabindex="-1" node_ref=heading>{t(|c| c.passkeys_heading())}</h1>
        <p>{t(|c| c.passkeys_intro())}</p>
        <p class="status-line" role="status" id="passkeys-status">
            {move || status.with(|s| s.as_ref().map(|said| said(lang())))}
        </p>
        <h2 id="passkeys-heading" tabindex="-1">{t(|c| c.passkeys_list_label())}</h2>
        {move || match list.get() {
            None => view! { <p class="hint" aria-busy="true">{t(|c| c.passkeys_loading())}</p> }.into_any(),
            Some(l) if l.is_empty() => view! { <p id="no-passkeys">{t(|c| c.passkeys_none())}</p> }.into_any(),
            Some(l) => view! {
                <ul class="passkeys" aria-labelledby="passkeys-heading">
                    {l.into_iter().map(item).collect_view()}
                </ul>
            }
            .into_any(),
        }}
        <form on:submit=on_add novalidate>
            <label for="passkey-name">{t(|c| c.passkey_name_label())}</label>
            <p id="passkey-name-hint" class="hint">{t(|c| c.passkey_name_hint())}</p>
            <input
                id="passkey-name"
                name="passkey-name"
                type="text"
                autocomplete="off"
                node_ref=field
                prop:value=move || name.get()
                on:input=move |ev| {
                    let typed = event_target_value(&ev);
                    // Checked as typed, with the rule the server applies.
                    if !reauth.get_untracked() {
                        if !typed.is_empty() && normalize_passkey_name(&typed).is_none() {
                            kit.refuse(invalid_name());
                        } else {
                            kit.error.set(None);
                        }
                    }
                    name.set(typed);
                }
                aria-invalid=move || has_error().then_some("true")
                aria-describedby=move || {
                    if has_error() { "passkey-name-hint passkey-name-error" } else { "passkey-name-hint" }
                }
            />
            <FieldError id="passkey-name-error" kit=kit />
            <AddButton busy=kit.busy log_in_again=reauth />
        </form>
        <BackToChecklist />
    }
}

/// "Add a passkey", "Waiting for your passkey…" while adding, "Log in again" once a recent
/// login is needed.
#[component]
fn AddButton(busy: RwSignal<bool>, log_in_again: RwSignal<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="button primary"
            id="add-passkey"
            aria-disabled=move || busy.get().then_some("true")
        >
            {move || {
                let c = tr();
                if busy.get() {
                    c.passkey_waiting()
                } else if log_in_again.get() {
                    c.log_in_again()
                } else {
                    c.passkey_add()
                }
            }}
        </button>
    }
}
