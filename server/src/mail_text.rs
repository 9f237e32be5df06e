//! What the server's emails say, in every language it writes: the one place for their words.
//! The API itself stays language-neutral (stable problem codes; the app owns its wording); only
//! emails leave the server as text, so they are written in the language the member is using —
//! the one the app named when it started the flow (`CreateFlow::language`), kept by the flow,
//! its replacement and the session it opens.
//!
//! Each language is one [`Texts`] value, so a language missing an email does not compile, and
//! a unit test holds every language to English's `{placeholders}`.

use crate::error::{Error, Result};

/// A language the server writes emails in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Fr];

    /// The language's code, as stored, as the app sends it in `CreateFlow` and reads it in
    /// `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }

    /// The language a tag from the app names: its primary subtag, in any case (`fr`, `fr-CA`
    /// and `FR_fr` are French). Absent, or a language the server does not write: English.
    pub fn from_tag(tag: Option<&str>) -> Self {
        let primary = tag
            .and_then(|tag| tag.trim().split(['-', '_']).next())
            .unwrap_or_default();
        Language::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.code()))
            .unwrap_or_default()
    }

    /// The language stored under `code`; any other text is an error, never a guess.
    pub fn parse_stored(code: &str) -> Result<Self> {
        Language::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| Error::Corrupt {
                what: "language",
                value: code.into(),
            })
    }

    /// Every email, in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Language::En => &EN,
            Language::Fr => &FR,
        }
    }
}

/// Every text of every email, in one language. `{name}` is a placeholder; each language uses
/// the same ones in each text (the order may differ).
#[derive(Debug)]
pub struct Texts {
    /// `{org}`.
    pub code_subject: &'static str,
    /// `{username}`, `{org}`, `{code}` (on a line of its own), `{link}`.
    pub code_body: &'static str,
    /// `{org}`.
    pub locked_subject: &'static str,
    /// `{username}`, `{failures}`, `{org}`, `{how_long}`: [`Texts::locked_for`] or
    /// [`Texts::locked_until_unlocked`].
    pub locked_body: &'static str,
    /// `{minutes}`.
    pub locked_for: &'static str,
    pub locked_until_unlocked: &'static str,
    pub password_changed_subject: &'static str,
    /// `{username}`, `{org}`.
    pub password_changed_body: &'static str,
    pub mfa_enabled_subject: &'static str,
    /// `{username}`, `{org}`.
    pub mfa_enabled_body: &'static str,
    /// `{passkey}`.
    pub passkey_added_subject: &'static str,
    /// `{username}`, `{org}`, `{passkey}`.
    pub passkey_added_body: &'static str,
    /// `{passkey}`.
    pub passkey_removed_subject: &'static str,
    /// `{username}`, `{org}`, `{passkey}`.
    pub passkey_removed_body: &'static str,
}

impl Texts {
    /// Each text with the name of its field, for the checks that every language is complete.
    pub fn all(&self) -> [(&'static str, &'static str); 14] {
        [
            ("code_subject", self.code_subject),
            ("code_body", self.code_body),
            ("locked_subject", self.locked_subject),
            ("locked_body", self.locked_body),
            ("locked_for", self.locked_for),
            ("locked_until_unlocked", self.locked_until_unlocked),
            ("password_changed_subject", self.password_changed_subject),
            ("password_changed_body", self.password_changed_body),
            ("mfa_enabled_subject", self.mfa_enabled_subject),
            ("mfa_enabled_body", self.mfa_enabled_body),
            ("passkey_added_subject", self.passkey_added_subject),
            ("passkey_added_body", self.passkey_added_body),
            ("passkey_removed_subject", self.passkey_removed_subject),
            ("passkey_removed_body", self.passkey_removed_body),
        ]
    }
}

const EN: Texts = Texts {
    code_subject: "Your login code for {org}",
    code_body: "Hello {username},\n\nYour code to log into {org} is:\n\n    {code}\n\n\
        It is valid for 10 minutes. You can also open this link to enter it:\n{link}\n\n\
        If you did not try to log in, you can ignore this email.\n",
    locked_subject: "Your {org} account is locked",
    locked_body: "Hello {username},\n\nAfter {failures} failed logins, your account in {org} is \
        locked {how_long}.\n\nIf these were not you, someone may be guessing your password: \
        once you are back in, change it, and turn on MFA if you have not.\n",
    locked_for: "for {minutes} minutes",
    locked_until_unlocked: "until an administrator of your Organization unlocks it",
    password_changed_subject: "Your password was changed",
    password_changed_body: "Hello {username},\n\nIn {org}, the password of your account was \
        changed, and every other session of yours was logged out.\n\nIf this was not you, \
        contact an administrator of your Organization at once.\n",
    mfa_enabled_subject: "MFA was turned on",
    mfa_enabled_body: "Hello {username},\n\nIn {org}, an authenticator app was set up as the \
        second factor of your account, with new recovery codes.\n\nIf this was not you, \
        contact an administrator of your Organization at once.\n",
    passkey_added_subject: "A passkey was added: {passkey}",
    passkey_added_body: "Hello {username},\n\nIn {org}, the passkey \"{passkey}\" was added to \
        your account: it can now log you in.\n\nIf this was not you, contact an administrator \
        of your Organization at once.\n",
    passkey_removed_subject: "A passkey was removed: {passkey}",
    passkey_removed_body: "Hello {username},\n\nIn {org}, the passkey \"{passkey}\" was removed \
        from your account: it can no longer log you in.\n\nIf this was not you, contact an \
        administrator of your Organization at once.\n",
};

// French typography, as in the app's locales/fr.toml: a no-break space (U+00A0) before « : ».
const FR: Texts = Texts {
    code_subject: "Votre code de connexion pour {org}",
    code_body: "Bonjour {username},\n\nVotre code pour vous connecter à {org} est\u{a0}:\n\n    \
        {code}\n\nIl est valable 10 minutes. Vous pouvez aussi ouvrir ce lien pour le \
        saisir\u{a0}:\n{link}\n\nSi vous n'avez pas essayé de vous connecter, vous pouvez \
        ignorer cet e-mail.\n",
    locked_subject: "Votre compte {org} est verrouillé",
    locked_body: "Bonjour {username},\n\nAprès {failures} connexions échouées, votre compte \
        dans {org} est verrouillé {how_long}.\n\nSi ce n'était pas vous, quelqu'un essaie \
        peut-être de deviner votre mot de passe\u{a0}: dès que vous pourrez vous reconnecter, \
        changez-le, et activez la MFA si ce n'est pas déjà fait.\n",
    locked_for: "pendant {minutes} minutes",
    locked_until_unlocked: "jusqu'à ce qu'un administrateur de votre Organisation le \
        déverrouille",
    password_changed_subject: "Votre mot de passe a été changé",
    password_changed_body: "Bonjour {username},\n\nLe mot de passe de votre compte dans {org} \
        a été changé, et toutes vos autres sessions ont été déconnectées.\n\nSi ce n'était \
        pas vous, contactez immédiatement un administrateur de votre Organisation.\n",
    mfa_enabled_subject: "La MFA a été activée",
    mfa_enabled_body: "Bonjour {username},\n\nUne application d'authentification a été \
        configurée comme deuxième facteur de votre compte dans {org}, avec de nouveaux codes \
        de récupération.\n\nSi ce n'était pas vous, contactez immédiatement un administrateur \
        de votre Organisation.\n",
    passkey_added_subject: "Une clé d'accès a été ajoutée\u{a0}: {passkey}",
    passkey_added_body: "Bonjour {username},\n\nLa clé d'accès «\u{a0}{passkey}\u{a0}» a été \
        ajoutée à votre compte dans {org}\u{a0}: elle peut désormais vous connecter.\n\nSi ce \
        n'était pas vous, contactez immédiatement un administrateur de votre Organisation.\n",
    passkey_removed_subject: "Une clé d'accès a été supprimée\u{a0}: {passkey}",
    passkey_removed_body: "Bonjour {username},\n\nLa clé d'accès «\u{a0}{passkey}\u{a0}» a été \
        supprimée de votre compte dans {org}\u{a0}: elle ne peut plus vous connecter.\n\nSi ce \
        n'était pas vous, contactez immédiatement un administrateur de votre Organisation.\n",
};

/// An email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

/// The app's code step with the code filled in, opened in the member's language (named in the
/// link for every language, so a browser whose own languages differ still opens it in the
/// one the member used).
pub fn code_link(
    app_url: &str,
    organization_alias: &str,
    flow_id: &str,
    code: &str,
    language: Language,
) -> String {
    let mut link = format!(
        "{app_url}/login/code?organization={organization_alias}&flow={flow_id}&code={code}"
    );
    link.push_str("&lang=");
    link.push_str(language.code());
    link
}

/// The login code, with a link to enter it.
pub fn code_email(language: Language, username: &str, org: &str, code: &str, link: &str) -> Email {
    let texts = language.texts();
    Email {
        subject: fill(texts.code_subject, &[("org", org)]),
        body: fill(
            texts.code_body,
            &[
                ("username", username),
                ("org", org),
                ("code", code),
                ("link", link),
            ],
        ),
    }
}

/// The member was locked after `failures` failed logins: for `minutes`, or with `None` until an
/// administrator unlocks.
pub fn locked_email(
    language: Language,
    username: &str,
    org: &str,
    failures: i64,
    minutes: Option<i64>,
) -> Email {
    let texts = language.texts();
    let how_long = match minutes {
        Some(minutes) => fill(texts.locked_for, &[("minutes", &minutes.to_string())]),
        None => texts.locked_until_unlocked.to_owned(),
    };
    Email {
        subject: fill(texts.locked_subject, &[("org", org)]),
        body: fill(
            texts.locked_body,
            &[
                ("username", username),
                ("failures", &failures.to_string()),
                ("org", org),
                ("how_long", &how_long),
            ],
        ),
    }
}

/// The member chose a new password (their other sessions ended).
pub fn password_changed_email(language: Language, username: &str, org: &str) -> Email {
    let texts = language.texts();
    Email {
        subject: texts.password_changed_subject.to_owned(),
        body: fill(
            texts.password_changed_body,
            &[("username", username), ("org", org)],
        ),
    }
}

/// The member set up an authenticator, with new recovery codes.
pub fn mfa_enabled_email(language: Language, username: &str, org: &str) -> Email {
    let texts = language.texts();
    Email {
        subject: texts.mfa_enabled_subject.to_owned(),
        body: fill(
            texts.mfa_enabled_body,
            &[("username", username), ("org", org)],
        ),
    }
}

/// The email telling a member that the passkey named `passkey` was added to their account.
pub fn passkey_added_email(language: Language, username: &str, org: &str, passkey: &str) -> Email {
    let texts = language.texts();
    let values = [("username", username), ("org", org), ("passkey", passkey)];
    Email {
        subject: fill(texts.passkey_added_subject, &values),
        body: fill(texts.passkey_added_body, &values),
    }
}

/// The email telling a member that the passkey named `passkey` was removed from their account.
pub fn passkey_removed_email(
    language: Language,
    username: &str,
    org: &str,
    passkey: &str,
) -> Email {
    let texts = language.texts();
    let values = [("username", username), ("org", org), ("passkey", passkey)];
    Email {
        subject: fill(texts.passkey_removed_subject, &values),
        body: fill(texts.passkey_removed_body, &values),
    }
}

/// `template` with each `{name}` replaced by its value, in one pass: a value is never read for
/// placeholders (a username may hold braces). A `{` that starts no known placeholder stays.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, end))
        });
        match value {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `{placeholders}` of a text.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_language_has_every_email_with_the_same_placeholders() {
        let english = Language::En.texts().all();
        for language in Language::ALL {
            for ((name, text), (_, en)) in language.texts().all().into_iter().zip(english) {
                assert!(!text.trim().is_empty(), "{name} is missing in {language:?}");
                assert_eq!(
                    placeholders(text),
                    placeholders(en),
                    "{name} in {language:?} has other placeholders than in English"
                );
                if language != Language::En {
                    assert_ne!(text, en, "{name} is not translated into {language:?}");
                }
            }
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_every_language() {
        for language in Language::ALL {
            let link = code_link("https://app", "acme", "f", "123456", language);
            for email in [
                code_email(language, "kim", "Acme", "123456", &link),
                locked_email(language, "kim", "Acme", 5, Some(15)),
                locked_email(language, "kim", "Acme", 5, None),
                password_changed_email(language, "kim", "Acme"),
                mfa_enabled_email(language, "kim", "Acme"),
                passkey_added_email(language, "kim", "Acme", "Work laptop"),
                passkey_removed_email(language, "kim", "Acme", "Work laptop"),
            ] {
                for text in [&email.subject, &email.body] {
                    assert!(!text.contains(['{', '}']), "{language:?}: {text}");
                }
                assert!(email.body.contains("kim"), "{language:?}: {}", email.body);
            }
        }
    }

    #[test]
    fn english_emails_read_as_they_always_did() {
        let en = Language::En;
        let link = code_link("https://app", "acme", "f", "123456", en);
        assert_eq!(
            link,
            "https://app/login/code?organization=acme&flow=f&code=123456&lang=en"
        );
        assert_eq!(
            code_email(en, "kim", "Acme", "123456", &link),
            Email {
                subject: "Your login code for Acme".into(),
                body: format!(
                    "Hello kim,\n\nYour code to log into Acme is:\n\n    123456\n\n\
                     It is valid for 10 minutes. You can also open this link to enter it:\n\
                     {link}\n\nIf you did not try to log in, you can ignore this email.\n"
                ),
            }
        );
        let locked = locked_email(en, "kim", "Acme", 5, Some(15));
        assert_eq!(locked.subject, "Your Acme account is locked");
        assert_eq!(
            locked.body,
            "Hello kim,\n\nAfter 5 failed logins, your account in Acme is locked for 15 \
             minutes.\n\nIf these were not you, someone may be guessing your password: once \
             you are back in, change it, and turn on MFA if you have not.\n"
        );
        assert!(locked_email(en, "kim", "Acme", 5, None)
            .body
            .contains("is locked until an administrator of your Organization unlocks it.\n"));
        assert_eq!(
            password_changed_email(en, "kim", "Acme"),
            Email {
                subject: "Your password was changed".into(),
                body: "Hello kim,\n\nIn Acme, the password of your account was changed, and \
                       every other session of yours was logged out.\n\nIf this was not you, \
                       contact an administrator of your Organization at once.\n"
                    .into(),
            }
        );
        assert_eq!(
            mfa_enabled_email(en, "kim", "Acme"),
            Email {
                subject: "MFA was turned on".into(),
                body: "Hello kim,\n\nIn Acme, an authenticator app was set up as the second \
                       factor of your account, with new recovery codes.\n\nIf this was not \
                       you, contact an administrator of your Organization at once.\n"
                    .into(),
            }
        );
    }

    #[test]
    fn french_code_emails_link_to_the_french_code_step() {
        let link = code_link("https://app", "acme", "f", "123456", Language::Fr);
        assert_eq!(
            link,
            "https://app/login/code?organization=acme&flow=f&code=123456&lang=fr"
        );
        let email = code_email(Language::Fr, "kim", "Acme", "123456", &link);
        assert_eq!(email.subject, "Votre code de connexion pour Acme");
        assert!(email.body.starts_with("Bonjour kim,\n"), "{}", email.body);
        assert!(email.body.contains("\n    123456\n"), "{}", email.body);
        assert!(
            email.body.contains(&format!("\n{link}\n")),
            "{}",
            email.body
        );
    }

    #[test]
    fn a_tag_names_its_language_by_its_primary_subtag() {
        for (tag, language) in [
            (Some("fr"), Language::Fr),
            (Some("fr-CA"), Language::Fr),
            (Some(" FR_fr "), Language::Fr),
            (Some("Fr"), Language::Fr),
            (Some("en"), Language::En),
            (Some("en-GB"), Language::En),
            (Some("de"), Language::En),
            (Some("fra"), Language::En),
            (Some("frisian"), Language::En),
            (Some(""), Language::En),
            (Some("-fr"), Language::En),
            (None, Language::En),
        ] {
            assert_eq!(Language::from_tag(tag), language, "{tag:?}");
        }
    }

    #[test]
    fn stored_languages_are_read_exactly() {
        for language in Language::ALL {
            assert_eq!(Language::parse_stored(language.code()).unwrap(), language);
        }
        for other in ["", "FR", "de", "fr-CA"] {
            assert!(matches!(
                Language::parse_stored(other),
                Err(Error::Corrupt {
                    what: "language",
                    ..
                })
            ));
        }
    }

    #[test]
    fn values_are_not_read_for_placeholders() {
        assert_eq!(
            fill("{a} and {b} {c", &[("a", "{b}"), ("b", "x")]),
            "{b} and x {c"
        );
    }
}
