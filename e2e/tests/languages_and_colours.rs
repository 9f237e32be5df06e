//! The app in French, in dark mode and in forced colours. A member logs in by email code, and
//! meets the Organization's requirements (update password, enable MFA, then the second
//! factor), in French in each of the three browser engines, and in English in Chromium's dark
//! mode: every heading, label, button and title is checked against the catalogue the app is
//! built from (`locales/*.toml`, read here), axe-core checks every step, and every step is
//! photographed; the code email is in the member's language, and its link names it. The
//! language switch keeps what was typed and the focus. In Chromium's forced colours
//! (Windows high contrast) every control keeps an edge, the pressed state and the focus ring.

use std::time::{Duration, Instant};

use member_login_e2e::{as_str, in_every_browser, workspace, Browser, Server, Session, WAIT};
use member_login_server::mail_text::{self, Language};
use member_login_server::totp;
use serde_json::{json, Value};

const ALEX_EMAIL: &str = "alex@demo.example";
const FIRST_PASSWORD: &str = "violet-harbor-lantern";
const NEW_PASSWORD: &str = "amber-river-telescope";

/// One language's catalogue, as the app is built from it.
struct Words {
    lang: &'static str,
    table: toml::Table,
}

impl Words {
    fn of(lang: &'static str) -> Words {
        let path = workspace().join(format!("locales/{lang}.toml"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let table = text
            .parse()
            .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
        Words { lang, table }
    }

    /// The text of `key`.
    fn text(&self, key: &str) -> &str {
        self.table
            .get(key)
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("{}.toml has no text {key}", self.lang))
    }

    /// The plural form of `key` for a count of more than one, with `{n}` filled in.
    fn many(&self, key: &str, n: u64) -> String {
        assert!(n > 1, "the `other` form is for counts above one");
        self.table
            .get(key)
            .and_then(|v| v.get("other"))
            .and_then(toml::Value::as_str)
            .unwrap_or_else(|| panic!("{}.toml has no plural {key}", self.lang))
            .replace("{n}", &n.to_string())
    }

    /// The text of `key` before its first `{placeholder}`, trimmed of spaces and brackets.
    fn lead(&self, key: &str) -> &str {
        let text = self.text(key);
        text[..text.find('{').unwrap_or(text.len())].trim_matches([' ', '(', '\u{a0}'])
    }
}

/// Text as WebDriver reads it: no-break spaces as spaces, runs of white space as one.
fn plain(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn wait_for_words(session: &Session, css: &str, expected: &str) {
    let want = plain(expected);
    session
        .wait_for_text_where(css, &format!("read {want:?}"), |t| plain(t) == want)
        .await;
}

async fn wait_for_words_containing(session: &Session, css: &str, part: &str) {
    let want = plain(part);
    session
        .wait_for_text_where(css, &format!("contained {want:?}"), |t| {
            plain(t).contains(&want)
        })
        .await;
}

async fn run(session: &Session, script: &str) -> Value {
    session
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

async fn focused_id(session: &Session) -> String {
    as_str(&run(session, "return document.activeElement.id").await).to_owned()
}

async fn value_of(session: &Session, css: &str) -> String {
    session
        .element(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// How the journey looks: the language, and Chromium's emulated dark mode.
#[derive(Clone, Copy)]
enum Look {
    French,
    EnglishDark,
}

impl Look {
    fn lang(self) -> &'static str {
        match self {
            Look::French => "fr",
            Look::EnglishDark => "en",
        }
    }

    /// What the screenshots' names say: `chromium-fr-5-email-code.png`.
    fn name(self) -> &'static str {
        match self {
            Look::French => "fr",
            Look::EnglishDark => "dark",
        }
    }
}

/// A browser on the real server, in one look, checking each step against its catalogue.
struct Journey {
    server: Server,
    session: Session,
    browser: Browser,
    look: Look,
    words: Words,
}

impl Journey {
    async fn start(browser: Browser, look: Look) -> Journey {
        let server = Server::start().await;
        let session = Session::start(browser).await;
        if let Look::EnglishDark = look {
            session
                .emulate_media(&[("prefers-color-scheme", "dark")])
                .await;
        }
        Journey {
            server,
            session,
            browser,
            look,
            words: Words::of(look.lang()),
        }
    }

    fn text(&self, key: &str) -> &str {
        self.words.text(key)
    }

    async fn goto(&self, path: &str) {
        self.session
            .client
            .goto(&format!("{}{path}", self.server.base))
            .await
            .unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    /// Waits for the step whose heading is `heading` and whose title is `title`, with the
    /// page's language, the switch's pressed button and the look as they should be.
    async fn on_step(&self, heading: &str, title: &str) {
        wait_for_words(&self.session, "h1", self.text(heading)).await;
        let expected = json!([self.text(title), self.look.lang(), "true", true]);
        let deadline = Instant::now() + WAIT;
        loop {
            let seen = self
                .session
                .client
                .execute(
                    "const pressed = document.querySelector(
                         `nav.languages button[lang=\"${arguments[0]}\"]`);
                     return [document.title, document.documentElement.lang,
                             pressed && pressed.getAttribute('aria-pressed'),
                             matchMedia(arguments[1]).matches];",
                    vec![
                        json!(self.look.lang()),
                        json!(match self.look {
                            Look::French => "all",
                            Look::EnglishDark => "(prefers-color-scheme: dark)",
                        }),
                    ],
                )
                .await
                .unwrap();
            if seen == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "on the step headed {heading}: title, <html lang>, the switch and the look \
                 are {seen}, not {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Photographs the step (`{browser}-{look}-{name}.png`) and checks it with axe-core.
    async fn record(&self, name: &str) {
        let name = format!("{}-{name}", self.look.name());
        self.session.screenshot(self.browser, &name).await;
        self.session.assert_accessible(&name).await;
    }

    /// The administrator's direct link, on to the method step as `username`.
    async fn to_method_step(&self, username: &str) {
        self.goto("/login/organization?organization=demo").await;
        self.on_step("username_heading", "title_username").await;
        let field = self.session.element("#username").await;
        field.clear().await.unwrap();
        field.send_keys(username).await.unwrap();
        self.session.submit().await;
        self.on_step("method_heading", "title_method").await;
    }

    async fn log_in_with_password(&self, password: &str) {
        self.to_method_step("alex").await;
        self.session.click("#enter-password").await;
        self.on_step("password_heading", "title_password").await;
        self.session.type_into("#password", password).await;
        self.session.submit().await;
    }

    async fn logged_in(&self) {
        self.on_step("done_logged_in", "title_done").await;
        self.session
            .wait_for_text("#session-username", "alex")
            .await;
    }

    async fn log_out(&self) {
        self.session.click("#logout").await;
        wait_for_words(&self.session, ".notice", self.text("logged_out")).await;
    }
}

/// Organization → username → method → code → done, every step in the catalogue's words.
async fn code_login_in(browser: Browser, look: Look) {
    let j = Journey::start(browser, look).await;
    let s = &j.session;
    // The language from the address (`?lang=`).
    j.goto(&format!("/?lang={}", look.lang())).await;
    s.element("nav.languages").await;
    j.on_step("landing_heading", "title_landing").await;
    let nav = s.element("nav.languages").await;
    assert_eq!(
        nav.attr("aria-label").await.unwrap().as_deref(),
        Some(j.text("language_switch_label"))
    );
    wait_for_words(
        s,
        "main:not(#shell) a.button.primary",
        j.text("landing_member_button"),
    )
    .await;
    wait_for_words(s, "main:not(#shell) h2", j.text("landing_owner_heading")).await;
    j.record("1-landing").await;

    s.click("main:not(#shell) a.button.primary").await;
    j.on_step("organization_heading", "title_organization")
        .await;
    wait_for_words(s, "label[for=organization]", j.text("organization_label")).await;
    wait_for_words(s, "label[for=remember]", j.text("organization_remember")).await;
    wait_for_words(s, "#remember-hint", j.text("organization_remember_hint")).await;
    wait_for_words(s, "button[type=submit]", j.text("continue_button")).await;
    j.record("2-organization").await;
    s.submit().await;
    wait_for_words(s, "#organization-error", j.text("organization_empty")).await;
    s.type_into("#organization", "demo").await;
    s.submit().await;

    j.on_step("username_heading", "title_username").await;
    s.wait_for_text("#current-organization", "Demo Organization")
        .await;
    wait_for_words(s, "label[for=username]", j.text("username_label")).await;
    wait_for_words(s, "#username-hint", j.text("username_hint")).await;
    assert_eq!(focused_id(s).await, "username");
    j.record("3-username").await;
    s.type_into("#username", "alex").await;
    s.submit().await;

    j.on_step("method_heading", "title_method").await;
    s.wait_for_text("#current-username", "alex").await;
    wait_for_words(s, "#send-code", j.text("method_send_code")).await;
    wait_for_words(s, "#send-code-hint", j.text("method_send_code_hint")).await;
    wait_for_words(s, "#enter-password", j.text("method_enter_password")).await;
    j.record("4-method").await;
    s.click("#send-code").await;

    j.on_step("code_heading", "title_code").await;
    assert_eq!(focused_id(s).await, "code");
    wait_for_words(s, ".status", j.text("code_sent")).await;
    wait_for_words(s, "label[for=code]", j.text("code_label")).await;
    wait_for_words(s, "#help-heading", j.text("code_help_heading")).await;
    wait_for_words(s, "#resend", j.text("code_help_resend")).await;
    wait_for_words_containing(s, "ol.help", j.text("code_help_spam")).await;
    wait_for_words_containing(
        s,
        "#resend-countdown",
        j.words.lead("code_help_resend_available"),
    )
    .await;
    j.record("5-email-code").await;
    let code = j.server.latest_code(ALEX_EMAIL, 1).await;
    // The email is in the member's language too, as the server writes it, and its link names
    // the language.
    let email = j.server.email_message(ALEX_EMAIL, 1).await;
    let body = as_str(&email["body"]);
    let link = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}/login/code?", j.server.base)))
        .unwrap_or_else(|| panic!("no link in {body}"));
    let language = match look {
        Look::French => Language::Fr,
        Look::EnglishDark => Language::En,
    };
    let expected = mail_text::code_email(language, "alex", "Demo Organization", &code, link);
    assert_eq!(as_str(&email["subject"]), expected.subject);
    assert_eq!(body, expected.body);
    assert!(link.ends_with(&format!("&lang={}", look.lang())), "{link}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    s.type_into("#code", wrong).await;
    wait_for_words(s, "#code-error", &j.words.many("code_wrong", 4)).await;
    j.record("5-email-code-wrong").await;
    let field = s.element("#code").await;
    field.clear().await.unwrap();
    field.send_keys(&code).await.unwrap();
    j.logged_in().await;
    s.wait_for_text("#session-organization", "Demo Organization")
        .await;
    wait_for_words(s, "#logout", j.text("done_log_out")).await;
    j.record("9-done").await;
    j.log_out().await;
    s.element("nav.languages").await;
    let lang = run(s, "return document.documentElement.lang").await;
    assert_eq!(as_str(&lang), look.lang());
    j.session.close().await;
}

/// Password → checklist → update password → enable MFA → recovery codes, then password and
/// the second factor, every step in the catalogue's words. The language is chosen with the
/// switch, which the account page (another page load) reads too.
async fn requirements_in(browser: Browser, look: Look) {
    let j = Journey::start(browser, look).await;
    let s = &j.session;
    j.goto("/").await;
    s.click(&format!("nav.languages button[lang={}]", look.lang()))
        .await;
    j.on_step("landing_heading", "title_landing").await;

    j.to_method_step("alex").await;
    s.click("#enter-password").await;
    j.on_step("password_heading", "title_password").await;
    assert_eq!(focused_id(s).await, "password");
    wait_for_words(s, "label[for=password]", j.text("password_label")).await;
    wait_for_words(s, "#toggle-password", j.text("show_password")).await;
    s.type_into("#password", "not-the-password").await;
    s.submit().await;
    wait_for_words(s, "#password-error", j.text("problem_invalid_credentials")).await;
    let field = s.element("#password").await;
    field.clear().await.unwrap();
    field.send_keys(FIRST_PASSWORD).await.unwrap();
    s.click("#toggle-password").await;
    j.record("6-password").await;
    s.submit().await;

    j.logged_in().await;
    wait_for_words(
        s,
        "#requirements-heading",
        j.text("done_requirements_heading"),
    )
    .await;
    let left = j.words.many("time_left_days", 3);
    for requirement in ["requirement_update_password", "requirement_enable_mfa"] {
        wait_for_words_containing(
            s,
            ".requirements",
            &format!("{} — {left}", j.text(requirement)),
        )
        .await;
    }
    j.record("8-checklist").await;

    s.click("a[href='/account/password']").await;
    j.on_step("update_password_heading", "title_update_password")
        .await;
    wait_for_words(
        s,
        "label[for=new-password-field]",
        j.text("update_password_label"),
    )
    .await;
    s.type_into("#new-password-field", "1qaz2wsx3edc").await;
    s.submit().await;
    wait_for_words(
        s,
        "#new-password-error",
        j.text("problem_password_rejected"),
    )
    .await;
    wait_for_words_containing(s, "#password-rules .unmet", j.text("rule_common")).await;
    let field = s.element("#new-password-field").await;
    field.clear().await.unwrap();
    field.send_keys(NEW_PASSWORD).await.unwrap();
    j.record("8-update-password").await;
    s.submit().await;
    s.wait_for_text("#new-password", NEW_PASSWORD).await;
    wait_for_words(s, ".status", j.text("update_password_changed")).await;
    wait_for_words(s, "#copy-password", j.text("update_password_copy")).await;
    wait_for_words(s, "#back-to-checklist", j.text("back_to_checklist")).await;
    j.record("8-update-password-done").await;
    s.click("#back-to-checklist").await;

    j.logged_in().await;
    wait_for_words_containing(s, ".requirements", j.text("requirement_enable_mfa")).await;
    s.click("a[href='/account/mfa']").await;
    j.on_step("enable_mfa_heading", "title_enable_mfa").await;
    let qr = s.element(".qr").await;
    assert_eq!(
        qr.attr("aria-label").await.unwrap().as_deref(),
        Some(j.text("enable_mfa_qr_label"))
    );
    wait_for_words(s, "details summary", j.text("enable_mfa_cant_scan")).await;
    s.click("details summary").await;
    // The key shows once the details have opened.
    s.wait_for_text_where("#mfa-key", "showed the key", |t| !t.trim().is_empty())
        .await;
    let key = s.element("#mfa-key").await.text().await.unwrap();
    let secret = totp::base32_decode(&key).expect("the key is base32");
    assert_eq!(secret.len(), 20, "the key {key:?}");
    wait_for_words(s, "label[for=mfa-code]", j.text("enable_mfa_code_label")).await;
    j.record("8-enable-mfa").await;
    let now = run(s, "return Math.floor(Date.now() / 1000)")
        .await
        .as_i64()
        .unwrap();
    let code = totp::code_at(&secret, totp::step_at(now), totp::DIGITS);
    s.type_into("#mfa-code", &code).await;
    s.submit().await;
    s.wait_for_text_containing("#recovery-codes", "-").await;
    wait_for_words(s, ".status", j.text("enable_mfa_on")).await;
    wait_for_words(s, "#copy-codes", j.text("enable_mfa_copy_codes")).await;
    wait_for_words(s, "#download-codes", j.text("enable_mfa_download_codes")).await;
    j.record("8-recovery-codes").await;
    s.click("#back-to-checklist").await;
    j.logged_in().await;
    wait_for_words(s, "#all-done", j.text("done_all_done")).await;
    j.log_out().await;

    // From now on: password, then the authenticator.
    j.log_in_with_password(NEW_PASSWORD).await;
    j.on_step("second_factor_heading", "title_second_factor")
        .await;
    wait_for_words(
        s,
        "label[for=second-factor]",
        j.text("second_factor_totp_label"),
    )
    .await;
    wait_for_words(s, "#switch-factor", j.text("second_factor_use_recovery")).await;
    j.record("7-second-factor").await;
    let next = totp::code_at(&secret, totp::step_at(now) + 1, totp::DIGITS);
    s.type_into("#second-factor", &next).await;
    s.submit().await;
    j.logged_in().await;
    j.log_out().await;
    j.session.close().await;
}

async fn french_code_login(browser: Browser) {
    code_login_in(browser, Look::French).await;
}

async fn french_requirements(browser: Browser) {
    requirements_in(browser, Look::French).await;
}

#[tokio::test]
async fn dark_code_login_chromium() {
    code_login_in(Browser::Chromium, Look::EnglishDark).await;
}

#[tokio::test]
async fn dark_requirements_chromium() {
    requirements_in(Browser::Chromium, Look::EnglishDark).await;
}

/// On the username step, switching the language changes every word in place: what was typed
/// stays, the focus stays on the switch, and the choice outlasts a reload.
async fn switch_keeps_what_was_typed(browser: Browser) {
    let server = Server::start().await;
    let session = Session::start(browser).await;
    let s = &session;
    let (en, fr) = (Words::of("en"), Words::of("fr"));
    s.client
        .goto(&format!(
            "{}/login/organization?organization=demo&lang=en",
            server.base
        ))
        .await
        .unwrap();
    wait_for_words(s, "h1", en.text("username_heading")).await;
    s.type_into("#username", "alex").await;

    let state = || async {
        run(
            s,
            "const a = document.activeElement;
             const pressed = l => document.querySelector(`nav.languages button[lang=\"${l}\"]`)
                 .getAttribute('aria-pressed');
             return { html: document.documentElement.lang, title: document.title,
                      focused: a.tagName + ' ' + (a.getAttribute('lang') || ''),
                      in_switch: !!a.closest('nav.languages'),
                      en: pressed('en'), fr: pressed('fr'),
                      stored: localStorage.getItem('member-login.lang') };",
        )
        .await
    };
    for words in [&fr, &en] {
        s.click(&format!("nav.languages button[lang={}]", words.lang))
            .await;
        wait_for_words(s, "h1", words.text("username_heading")).await;
        wait_for_words(s, "label[for=username]", words.text("username_label")).await;
        assert_eq!(
            value_of(s, "#username").await,
            "alex",
            "what was typed stays"
        );
        let seen = state().await;
        let other = if words.lang == "fr" { "en" } else { "fr" };
        assert_eq!(
            seen,
            json!({ "html": words.lang, "title": words.text("title_username"),
                    "focused": format!("BUTTON {}", words.lang), "in_switch": true,
                    words.lang: "true", other: "false", "stored": words.lang }),
        );
    }

    // The choice on this device outlasts a reload, and wins over the address's `?lang=en`.
    s.click("nav.languages button[lang=fr]").await;
    wait_for_words(s, "h1", fr.text("username_heading")).await;
    s.client.refresh().await.unwrap();
    s.element("nav.languages").await;
    wait_for_words(s, "h1", fr.text("username_heading")).await;
    let html = run(s, "return document.documentElement.lang").await;
    assert_eq!(as_str(&html), "fr");
    session.close().await;
}

in_every_browser!(
    french_code_login,
    french_requirements,
    switch_keeps_what_was_typed
);

/// The code email's link (`&lang=fr`) opens the app in the member's language: on another
/// device, whose browser speaks English (it shows the code to type where the login waits),
/// and in the browser that asked for the code (which the link logs in).
#[tokio::test]
async fn the_code_emails_link_opens_the_app_in_its_language() {
    let server = Server::start().await;
    let session = Session::start(Browser::Chromium).await;
    let s = &session;
    let fr = Words::of("fr");
    s.client
        .goto(&format!(
            "{}/login/organization?organization=demo&lang=fr",
            server.base
        ))
        .await
        .unwrap();
    wait_for_words(s, "h1", fr.text("username_heading")).await;
    s.type_into("#username", "alex").await;
    s.submit().await;
    wait_for_words(s, "h1", fr.text("method_heading")).await;
    s.click("#send-code").await;
    wait_for_words(s, "h1", fr.text("code_heading")).await;
    let code = server.latest_code(ALEX_EMAIL, 1).await;
    let body = server.email(ALEX_EMAIL, 1).await;
    let link = body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{}/login/code?", server.base)))
        .unwrap_or_else(|| panic!("no link in {body}"))
        .to_owned();

    let phone = Session::start(Browser::Chromium).await;
    phone.client.goto(&link).await.unwrap();
    phone.wait_for_text("#code-to-type", &code).await;
    wait_for_words(&phone, "h1", fr.text("other_device_heading")).await;
    let lang = run(&phone, "return document.documentElement.lang").await;
    assert_eq!(as_str(&lang), "fr");
    phone.close().await;

    s.client.goto(&link).await.unwrap();
    s.wait_for_text("#session-username", "alex").await;
    wait_for_words(s, "h1", fr.text("done_logged_in")).await;
    let lang = run(s, "return document.documentElement.lang").await;
    assert_eq!(as_str(&lang), "fr");
    session.close().await;
}

/// The controls on the page that show no edge in forced colours: each button, field and
/// button-styled link needs a border or an outline; a link-styled button is underlined
/// instead, or filled (the language in use, marked in the system's Highlight colour).
async fn controls_without_an_edge(session: &Session) -> Vec<Value> {
    let bare = run(
        session,
        "const bare = [];
         for (const el of document.querySelectorAll('button, input, a.button')) {
           const box = el.getBoundingClientRect();
           if (box.width < 2 || box.height < 2) continue; // visually hidden
           const s = getComputedStyle(el);
           const border = ['top', 'right', 'bottom', 'left'].every(side =>
             parseFloat(s.getPropertyValue(`border-${side}-width`)) > 0 &&
             s.getPropertyValue(`border-${side}-style`) !== 'none');
           const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
           const linkStyled = el.classList.contains('link-button') &&
             (s.textDecorationLine.includes('underline') ||
              s.backgroundColor !== getComputedStyle(document.body).backgroundColor);
           if (!border && !outline && !linkStyled) bare.push(el.outerHTML.slice(0, 160));
         }
         return bare;",
    )
    .await;
    bare.as_array().cloned().unwrap_or_default()
}

/// Presses Tab until the element with `id` has the focus, and returns its focus ring's
/// computed style and width (in px).
async fn focus_ring_when_tabbed_to(session: &Session, id: &str) -> (String, f64) {
    for _ in 0..12 {
        if focused_id(session).await == id {
            let ring = run(
                session,
                "const s = getComputedStyle(document.activeElement);
                 return [s.outlineStyle, parseFloat(s.outlineWidth),
                         document.activeElement.matches(':focus-visible')];",
            )
            .await;
            assert_eq!(ring[2], json!(true), "#{id} is focused from the keyboard");
            return (as_str(&ring[0]).to_owned(), ring[1].as_f64().unwrap());
        }
        let active = session.client.active_element().await.unwrap();
        active.send_keys("\u{E004}").await.unwrap(); // Tab
    }
    panic!("Tab never reached #{id}");
}

async fn colours_of(session: &Session, css: &str) -> Value {
    session
        .client
        .execute(
            "const s = getComputedStyle(document.querySelector(arguments[0]));
             return [s.backgroundColor, s.color];",
            vec![json!(css)],
        )
        .await
        .unwrap()
}

/// Windows high contrast, as Chromium emulates it: the method and password steps keep an
/// edge on every control, the pressed Show-password toggle looks pressed, the focus ring
/// shows, and axe-core finds nothing.
#[tokio::test]
async fn forced_colours_keep_edges_pressed_states_and_the_focus_ring() {
    let server = Server::start().await;
    let session = Session::start(Browser::Chromium).await;
    let s = &session;
    let en = Words::of("en");
    s.emulate_media(&[("forced-colors", "active")]).await;
    s.follow_demo_link(&server).await;
    s.type_into("#username", "sam").await;
    s.submit().await;
    wait_for_words(s, "h1", en.text("method_heading")).await;
    let forced = run(s, "return matchMedia('(forced-colors: active)').matches").await;
    assert_eq!(forced, json!(true));

    let bare = controls_without_an_edge(s).await;
    assert!(bare.is_empty(), "no edge on the method step: {bare:#?}");
    let (style, width) = focus_ring_when_tabbed_to(s, "send-code").await;
    assert!(
        style != "none" && width >= 2.0,
        "the focus ring on Send code: {style} {width}px"
    );
    s.screenshot(Browser::Chromium, "forced-colors-4-method")
        .await;
    s.assert_accessible("forced-colors-4-method").await;

    s.click("#enter-password").await;
    wait_for_words(s, "h1", en.text("password_heading")).await;
    s.type_into("#password", "quiet-meadow-compass").await;
    let unpressed = colours_of(s, "#toggle-password").await;
    let (style, width) = focus_ring_when_tabbed_to(s, "toggle-password").await;
    assert!(
        style != "none" && width >= 2.0,
        "the focus ring on Show password: {style} {width}px"
    );
    let active = s.client.active_element().await.unwrap();
    active.send_keys("\u{E00D}").await.unwrap(); // Space presses the toggle
    let toggle = s.element("#toggle-password").await;
    assert_eq!(
        toggle.attr("aria-pressed").await.unwrap().as_deref(),
        Some("true")
    );
    // Away from the toggle, so its own colours show rather than its focus.
    s.element("#password").await.click().await.unwrap();
    let pressed = colours_of(s, "#toggle-password").await;
    assert!(
        unpressed[0] != pressed[0] && unpressed[1] != pressed[1],
        "pressed {pressed} looks like unpressed {unpressed}"
    );
    let bare = controls_without_an_edge(s).await;
    assert!(bare.is_empty(), "no edge on the password step: {bare:#?}");
    s.screenshot(Browser::Chromium, "forced-colors-6-password")
        .await;
    s.assert_accessible("forced-colors-6-password").await;
    session.close().await;
}
