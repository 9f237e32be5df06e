//! Turns the word catalogues (`locales/en.toml`, `locales/fr.toml`) into Rust: a `Catalogue`
//! with one method per key, and one static value per language (`src/i18n.rs` includes it).
//! The build fails when a key is missing in a language, or when a text's `{placeholders}` do
//! not match across languages, so no language can be incomplete or ask for another argument.
//!
//! A value is a text, or a table `{ one = "…", other = "…" }` for a count (each language's
//! plural rule picks the form; `other` carries every placeholder, `one` may spell the count).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

const LANGUAGES: [(&str, &str); 2] = [("EN", "en"), ("FR", "fr")];

#[derive(Debug, PartialEq)]
enum Entry {
    Text(String),
    Plural { one: String, other: String },
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        found.insert(rest[start + 1..start + len].to_owned());
        rest = &rest[start + len + 1..];
    }
    found
}

fn load(path: &Path) -> BTreeMap<String, Entry> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()));
    table
        .into_iter()
        .map(|(key, value)| {
            let entry = match value {
                toml::Value::String(s) => Entry::Text(s),
                toml::Value::Table(t) => {
                    let form = |name: &str| match t.get(name) {
                        Some(toml::Value::String(s)) => s.clone(),
                        _ => panic!("{}: {key}.{name} must be a text", path.display()),
                    };
                    assert!(
                        t.len() == 2,
                        "{}: {key} must have exactly the forms one and other",
                        path.display()
                    );
                    Entry::Plural {
                        one: form("one"),
                        other: form("other"),
                    }
                }
                _ => panic!(
                    "{}: {key} must be a text or a table of plural forms",
                    path.display()
                ),
            };
            (key, entry)
        })
        .collect()
}

fn literal(text: &str) -> String {
    format!("{text:?}")
}

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("locales");
    let catalogues: Vec<_> = LANGUAGES
        .iter()
        .map(|(_, code)| {
            let path = dir.join(format!("{code}.toml"));
            println!("cargo::rerun-if-changed={}", path.display());
            (code, load(&path))
        })
        .collect();
    let (first_code, first) = &catalogues[0];
    let mut problems = Vec::new();
    for (code, catalogue) in &catalogues[1..] {
        for key in first.keys().filter(|k| !catalogue.contains_key(*k)) {
            problems.push(format!("{key} is missing in {code}.toml"));
        }
        for key in catalogue.keys().filter(|k| !first.contains_key(*k)) {
            problems.push(format!(
                "{key} is in {code}.toml but not in {first_code}.toml"
            ));
        }
    }
    for (code, catalogue) in &catalogues {
        for (key, entry) in catalogue {
            let reference = &first[key];
            let (mine, theirs) = match (entry, reference) {
                (Entry::Text(a), Entry::Text(b)) => (placeholders(a), placeholders(b)),
                (Entry::Plural { one, other }, Entry::Plural { other: b, .. }) => {
                    if !placeholders(one).is_subset(&placeholders(other)) {
                        problems.push(format!(
                            "{code}.toml: {key}.one has a placeholder its other form lacks"
                        ));
                    }
                    (placeholders(other), placeholders(b))
                }
                _ => {
                    problems.push(format!(
                        "{key} is a plural in one language and a text in another"
                    ));
                    continue;
                }
            };
            if mine != theirs {
                problems.push(format!(
                    "{code}.toml: {key} has placeholders {mine:?}, {first_code}.toml has {theirs:?}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the word catalogues do not match:\n  {}",
        problems.join("\n  ")
    );

    // One accessor per key, each with its own texts: a page keeps only the texts it shows
    // (the linker drops the rest), so the login page carries no account screen's words.
    let mut out = String::new();
    out.push_str("/// Every text of the app, in one language (generated from `locales/*.toml`).\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub struct Catalogue {\n    index: usize,\n}\n\n");
    for (i, (name, code)) in LANGUAGES.iter().enumerate() {
        writeln!(out, "/// The `{code}` catalogue.\npub static {name}: Catalogue = Catalogue {{ index: {i} }};").unwrap();
    }
    out.push_str("\nimpl Catalogue {\n");
    for (key, entry) in first {
        let forms = |pick: &dyn Fn(&Entry) -> String| {
            catalogues
                .iter()
                .map(|(_, c)| pick(&c[key]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match entry {
            Entry::Text(t) => {
                let texts = forms(&|e| match e {
                    Entry::Text(t) => literal(t),
                    _ => unreachable!(),
                });
                writeln!(
                    out,
                    "    /// {}\n    pub fn {key}(&self) -> &'static str {{\n        [{texts}][self.index]\n    }}",
                    t.replace('\n', " ")
                )
                .unwrap();
            }
            Entry::Plural { other, .. } => {
                let texts = forms(&|e| match e {
                    Entry::Plural { one, other } => {
                        format!(
                            "Plural {{ one: {}, other: {} }}",
                            literal(one),
                            literal(other)
                        )
                    }
                    _ => unreachable!(),
                });
                writeln!(
                    out,
                    "    /// {}\n    pub fn {key}(&self) -> Plural {{\n        [{texts}][self.index]\n    }}",
                    other.replace('\n', " ")
                )
                .unwrap();
            }
        }
    }
    out.push_str("}\n\n");
    // By key, for checks that read texts named elsewhere (index.html's static first paint).
    out.push_str(
        "/// The text of `key` (its `other` form for a plural), if there is such a key.\n",
    );
    out.push_str("pub fn text_of(catalogue: &Catalogue, key: &str) -> Option<&'static str> {\n    Some(match key {\n");
    for (key, entry) in first {
        let field = match entry {
            Entry::Text(_) => format!("catalogue.{key}()"),
            Entry::Plural { .. } => format!("catalogue.{key}().other"),
        };
        writeln!(out, "        {key:?} => {field},").unwrap();
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalogue.rs");
    std::fs::write(target, out).unwrap();
}
