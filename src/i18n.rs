//! The app's words: one catalogue per language (`locales/*.toml`, turned into [`Catalogue`] by
//! build.rs, which fails the build when a language misses a key or a text asks for other
//! placeholders), the language in use, and how it is chosen.
//!
//! Views show texts through [`t`] (a reactive text of one key) or read [`tr`] inside a
//! reactive closure, so switching the language changes every word in place: the step, what
//! was typed and the focus all stay.

use leptos::prelude::*;

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// One text of the catalogue, named by the field that holds it: `|c| c.landing_heading()`.
pub type Key = fn(&Catalogue) -> &'static str;

/// A text for a count, in the forms the language's plural rule chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plural {
    pub one: &'static str,
    pub other: &'static str,
}

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// Every language, in the order the language switch lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The language's code, as `<html lang>`, `?lang=` and the API take it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language a tag such as `fr`, `fr-CA` or `EN-gb` names, if the app speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.code()))
    }

    pub fn catalogue(self) -> &'static Catalogue {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
        }
    }

    /// The form of `text` for `n`: English says "1 day" and "0 days", French "0 jour".
    pub fn plural(self, text: &Plural, n: u64) -> &'static str {
        let one = match self {
            Lang::En => n == 1,
            Lang::Fr => n <= 1,
        };
        if one {
            text.one
        } else {
            text.other
        }
    }

    /// `text`'s form for `n`, with `{n}` filled in.
    pub fn count(self, text: &Plural, n: u64) -> String {
        fill(self.plural(text, n), &[("n", &n.to_string())])
    }
}

/// The language to speak: the member's choice on this device, else `?lang=` (this tab's, once
/// given), else the first of the browser's languages the app speaks, else English.
pub fn choose(stored: Option<&str>, query: Option<&str>, browser: &[String]) -> Lang {
    stored
        .and_then(Lang::from_tag)
        .or_else(|| query.and_then(Lang::from_tag))
        .or_else(|| browser.iter().find_map(|tag| Lang::from_tag(tag)))
        .unwrap_or(Lang::En)
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

thread_local! {
    static CURRENT: ArcRwSignal<Lang> = ArcRwSignal::new(initial());
}

/// The language in use (a reactive read: a view that calls it follows a switch).
pub fn lang() -> Lang {
    CURRENT.with(|current| current.get())
}

/// The language in use, read without following it (in handlers and tasks).
pub fn lang_untracked() -> Lang {
    CURRENT.with(|current| current.get_untracked())
}

/// The catalogue of the language in use (a reactive read).
pub fn tr() -> &'static Catalogue {
    lang().catalogue()
}

/// The text of one key in the language in use, as a view: `{t(|c| c.landing_heading())}`. One
/// closure type for every key, so each text costs the app a function pointer, not new code.
pub fn t(key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync {
    move || key(tr())
}

/// Switches the language: every text follows, `<html lang>` too, and the choice is kept on
/// this device.
pub fn set_lang(lang: Lang) {
    CURRENT.with(|current| current.set(lang));
    show_lang(lang);
    crate::device::remember_language(lang.code());
}

/// Says the language in `<html lang>`, so screen readers pronounce the page right.
fn show_lang(lang: Lang) {
    if let Some(html) = document().document_element() {
        let _ = html.set_attribute("lang", lang.code());
    }
}

#[cfg(target_arch = "wasm32")]
fn initial() -> Lang {
    let window = window();
    let query = window.location().search().ok().and_then(|search| {
        search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang=").map(str::to_owned))
    });
    let browser: Vec<String> = window
        .navigator()
        .languages()
        .iter()
        .filter_map(|tag| tag.as_string())
        .collect();
    // A `?lang=` (the email's link, a console's link) holds for the rest of this tab's visit:
    // the steps' own addresses do not carry it, and a reload or the account page must not
    // fall back to the browser's language.
    let query = match query.as_deref().and_then(Lang::from_tag) {
        Some(lang) => {
            crate::device::keep_tab_language(lang.code());
            Some(lang.code().to_owned())
        }
        None => crate::device::tab_language(),
    };
    let lang = choose(
        crate::device::remembered_language().as_deref(),
        query.as_deref(),
        &browser,
    );
    show_lang(lang);
    lang
}

#[cfg(not(target_arch = "wasm32"))]
fn initial() -> Lang {
    Lang::En
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_on_this_device_wins_then_the_address_then_the_browser() {
        let browser = vec!["de-DE".to_owned(), "fr-CA".to_owned(), "en".to_owned()];
        assert_eq!(choose(Some("en"), Some("fr"), &browser), Lang::En);
        assert_eq!(choose(None, Some("fr"), &[]), Lang::Fr);
        assert_eq!(choose(None, Some("xx"), &browser), Lang::Fr);
        assert_eq!(choose(None, None, &browser), Lang::Fr);
        assert_eq!(choose(None, None, &["de".to_owned()]), Lang::En);
        assert_eq!(choose(Some("klingon"), None, &[]), Lang::En);
    }

    #[test]
    fn counts_follow_each_languages_plural_rule() {
        assert_eq!(Lang::En.count(&EN.time_left_days(), 1), "1 day left");
        assert_eq!(Lang::En.count(&EN.time_left_days(), 0), "0 days left");
        assert_eq!(Lang::Fr.count(&FR.time_left_days(), 0), "0 jour restant");
        assert_eq!(Lang::Fr.count(&FR.time_left_days(), 3), "3 jours restants");
        assert_eq!(
            Lang::Fr.count(&FR.code_wrong(), 1),
            "Ce code n'est pas le bon. Il vous reste 1 essai."
        );
    }

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            fill(FR.wait(), &[("time", "30\u{a0}s")]),
            "Vous pourrez réessayer dans 30\u{a0}s."
        );
    }

    #[test]
    fn the_static_first_paint_says_what_the_catalogues_say() {
        // index.html holds the landing and the Organization form in both languages, each text
        // marked with its key (`data-key`) inside an element of its language (`lang`).
        let pages = [
            include_str!("../index.html"),
            include_str!("../account/index.html"),
        ];
        let mut checked = 0;
        for part in pages
            .iter()
            .flat_map(|html| html.split("data-key=\"").skip(1))
        {
            let (key, rest) = part.split_once('"').unwrap();
            let lang_attr = rest.split_once("lang=\"").map(|(_, r)| &r[..2]).unwrap();
            let text = rest.split_once('>').unwrap().1.split_once('<').unwrap().0;
            let lang = Lang::from_tag(lang_attr).unwrap();
            let expected = text_of(lang.catalogue(), key)
                .unwrap_or_else(|| panic!("index.html names a key {key} the catalogues lack"));
            let normalized = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(normalized, expected, "{key} in {lang_attr}");
            checked += 1;
        }
        assert!(checked >= 2 * 15, "the pages mark only {checked} texts");
    }
}
