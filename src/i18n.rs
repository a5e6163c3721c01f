//! Message catalogs of the hosted pages and mail (Project Fluent), one file per
//! language: `templates/locales/{lang}.ftl`, embedded in the binary.
//!
//! Fluent rather than a flat key/value file because translators need plural and
//! other selectors ("1 recovery code left" / "3 recovery codes left" differ by
//! language, not only by number), and because it is the format translation tools
//! (Pontoon, Weblate) already speak. The `fluent-bundle` crate formats them.
//!
//! An operator's `HEIMDALL_TEMPLATES_DIR/locales/{lang}.ftl` is laid over the
//! embedded catalog of that language (its messages win, the rest stay), and a file
//! for a language Heimdall does not ship adds that language. A message missing in a
//! language falls back to English, message by message.
//!
//! The language of a request ([`Catalogs::negotiate`]): OpenID Connect `ui_locales`,
//! then the language cookie, then `Accept-Language`, then the app's
//! `default_locale`, then English.
//!
//! This module is at the bottom of the layers, beside [`crate::templates`].

use std::{borrow::Cow, path::Path, sync::LazyLock};

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use unic_langid::LanguageIdentifier;

/// The language every message exists in, and the last fallback.
pub const DEFAULT: &str = "en";

/// The catalogs Heimdall ships: English first.
const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../templates/locales/en.ftl")),
    ("de", include_str!("../templates/locales/de.ftl")),
    ("fr", include_str!("../templates/locales/fr.ftl")),
    ("es", include_str!("../templates/locales/es.ftl")),
];

/// A value of a message's placeable (`{ $name }`).
#[derive(Clone, Debug)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Number(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(Cow::Borrowed(text.as_str()))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Self::Text(Cow::Owned(text))
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Self::Number(f64::from(n))
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        Self::Number(n as f64)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        #[allow(clippy::cast_precision_loss)]
        Self::Number(n as f64)
    }
}

struct Catalog {
    /// The language tag, lower case (`de`, `pt-br`).
    tag: String,
    /// The language's own name for itself (`language-name`), for the picker.
    name: String,
    bundle: FluentBundle<FluentResource>,
    /// The message ids of this language's files (for the completeness test).
    #[cfg_attr(not(test), allow(dead_code))]
    ids: Vec<String>,
}

/// All languages' catalogs.
pub struct Catalogs {
    /// English first.
    catalogs: Vec<Catalog>,
    overridden: Vec<String>,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogs")
            .field("languages", &self.tags().collect::<Vec<_>>())
            .field("overridden", &self.overridden)
            .finish()
    }
}

static EMBEDDED_ONLY: LazyLock<Catalogs> = LazyLock::new(|| {
    Catalogs::load(None).unwrap_or_else(|error| {
        // A unit test parses the embedded catalogs; should one ever not parse, the
        // pages show message ids rather than the process going down.
        tracing::error!(%error, "the embedded message catalogs do not parse");
        Catalogs::empty()
    })
});

/// The message ids a resource defines.
fn ids_of(resource: &FluentResource) -> Vec<String> {
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

fn parse(name: &str, source: String) -> Result<FluentResource, String> {
    FluentResource::try_new(source).map_err(|(_, errors)| {
        let first = errors
            .first()
            .map(|e| format!("{:?} at bytes {:?}", e.kind, e.pos))
            .unwrap_or_default();
        format!(
            "message catalog {name}: {} syntax error(s), first: {first}",
            errors.len()
        )
    })
}

fn new_catalog(tag: &str, resources: Vec<FluentResource>) -> Result<Catalog, String> {
    let langid: LanguageIdentifier = tag
        .parse()
        .map_err(|_| format!("message catalog locales/{tag}.ftl: not a language tag"))?;
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // The pages are HTML and mail subjects plain text: no Unicode isolation marks
    // around values.
    bundle.set_use_isolating(false);
    let mut ids = Vec::new();
    for resource in resources {
        ids.extend(ids_of(&resource));
        // Later files (the operator's) override earlier ones message by message.
        bundle.add_resource_overriding(resource);
    }
    ids.sort();
    ids.dedup();
    let mut catalog = Catalog {
        tag: tag.to_ascii_lowercase(),
        name: tag.to_owned(),
        bundle,
        ids,
    };
    if let Some(name) = catalog.format("language-name", &[]) {
        catalog.name = name;
    }
    Ok(catalog)
}

impl Catalog {
    fn format(&self, key: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
        let pattern = self.bundle.get_message(key)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(text.as_ref())),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, lang = %self.tag, ?errors, "a message did not format cleanly");
        }
        Some(text.into_owned())
    }
}

impl Catalogs {
    /// No catalog at all: every message is its id.
    pub fn empty() -> Self {
        Self {
            catalogs: Vec::new(),
            overridden: Vec::new(),
        }
    }

    /// The embedded catalogs, with the operator's `dir/locales/*.ftl` laid over them.
    /// Fails, naming the file, when one does not parse.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut extra: Vec<(String, String)> = Vec::new();
        if let Some(dir) = dir.map(|d| d.join("locales")).filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(&dir).map_err(|e| {
                format!("HEIMDALL_TEMPLATES_DIR: cannot read {}: {e}", dir.display())
            })?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(tag) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".ftl"))
                else {
                    continue;
                };
                let source = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "HEIMDALL_TEMPLATES_DIR: cannot read {}: {e}",
                        path.display()
                    )
                })?;
                extra.push((tag.to_ascii_lowercase(), source));
            }
        }
        extra.sort();
        let mut catalogs = Vec::new();
        let mut overridden = Vec::new();
        for (tag, source) in EMBEDDED {
            let mut resources = vec![parse(&format!("locales/{tag}.ftl"), (*source).to_owned())?];
            if let Some(index) = extra.iter().position(|(t, _)| t == tag) {
                let (_, source) = extra.remove(index);
                resources.push(parse(&format!("locales/{tag}.ftl"), source)?);
                overridden.push(format!("locales/{tag}.ftl"));
            }
            catalogs.push(new_catalog(tag, resources)?);
        }
        for (tag, source) in extra {
            let resource = parse(&format!("locales/{tag}.ftl"), source)?;
            overridden.push(format!("locales/{tag}.ftl"));
            catalogs.push(new_catalog(&tag, vec![resource])?);
        }
        Ok(Self {
            catalogs,
            overridden,
        })
    }

    /// The embedded catalogs alone.
    pub fn embedded() -> &'static Self {
        &EMBEDDED_ONLY
    }

    /// The catalog files of the operator's directory (`locales/de.ftl`).
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// The language tags, English first.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.catalogs.iter().map(|c| c.tag.as_str())
    }

    /// `(tag, the language's name for itself)` of every language, for the picker.
    pub fn languages(&self) -> impl Iterator<Item = (&str, &str)> {
        self.catalogs
            .iter()
            .map(|c| (c.tag.as_str(), c.name.as_str()))
    }

    /// The supported language a BCP 47 tag asks for: the same tag, else its
    /// primary language (`de-CH` → `de`).
    pub fn supported(&self, tag: &str) -> Option<&str> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        if tag.is_empty() {
            return None;
        }
        if let Some(c) = self.catalogs.iter().find(|c| c.tag == tag) {
            return Some(&c.tag);
        }
        let primary = tag.split('-').next().unwrap_or_default();
        self.catalogs
            .iter()
            .find(|c| c.tag == primary)
            .map(|c| c.tag.as_str())
    }

    /// The message `key` in `lang` with `args`; English when `lang` lacks it; the key
    /// itself when English lacks it too (a typo shows, rather than an empty text).
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.catalogs
            .iter()
            .find(|c| c.tag == lang)
            .and_then(|c| c.format(key, args))
            .or_else(|| self.catalogs.first().and_then(|c| c.format(key, args)))
            .unwrap_or_else(|| {
                tracing::warn!(key, "no such message");
                key.to_owned()
            })
    }

    /// The language of a request, from the first of these that names a supported
    /// one: `ui_locales` (space-separated, in order of preference), the language
    /// cookie, `Accept-Language` (by quality), the app's default; else English.
    pub fn negotiate(&self, prefs: &Preferences<'_>) -> (String, Source) {
        let from_list = |list: Option<&str>| {
            list.into_iter()
                .flat_map(str::split_whitespace)
                .find_map(|tag| self.supported(tag))
        };
        if let Some(lang) = from_list(prefs.ui_locales) {
            return (lang.to_owned(), Source::UiLocales);
        }
        if let Some(lang) = prefs.cookie.and_then(|c| self.supported(c)) {
            return (lang.to_owned(), Source::Cookie);
        }
        if let Some(lang) = prefs
            .accept_language
            .map(accept_language)
            .unwrap_or_default()
            .iter()
            .find_map(|tag| self.supported(tag))
        {
            return (lang.to_owned(), Source::AcceptLanguage);
        }
        if let Some(lang) = prefs.default.and_then(|d| self.supported(d)) {
            return (lang.to_owned(), Source::Default);
        }
        (DEFAULT.to_owned(), Source::Default)
    }
}

/// What a request says about its language.
#[derive(Clone, Copy, Debug, Default)]
pub struct Preferences<'a> {
    pub ui_locales: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub accept_language: Option<&'a str>,
    /// The app's `default_locale`.
    pub default: Option<&'a str>,
}

/// Which preference chose the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    UiLocales,
    Cookie,
    AcceptLanguage,
    Default,
}

/// The tags of an `Accept-Language` header (RFC 9110 §12.5.4) by descending
/// quality, ties in the order given; `q=0` and `*` left out.
pub fn accept_language(header: &str) -> Vec<&str> {
    let mut tags: Vec<(&str, f32)> = header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((tag, q))
        })
        .collect();
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    tags.into_iter().map(|(tag, _)| tag).collect()
}

/// Whether `tag` looks like a BCP 47 language tag (letters, digits and `-`, at
/// most 35 characters): what a stored `locale` may be.
pub fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag.parse::<LanguageIdentifier>().is_ok()
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The shipped languages are complete: every message English has exists in
    /// each (so "complete" cannot rot as pages gain text), none has a message
    /// English lacks (a typo'd id), and each uses only the variables English uses.
    #[test]
    fn every_catalog_has_every_message_english_has() {
        let catalogs = Catalogs::load(None).unwrap();
        assert_eq!(
            catalogs.tags().collect::<Vec<_>>(),
            ["en", "de", "fr", "es"]
        );
        let english = &catalogs.catalogs[0];
        assert!(english.ids.len() > 100, "{}", english.ids.len());
        let en: BTreeSet<&String> = english.ids.iter().collect();
        for catalog in &catalogs.catalogs[1..] {
            let ids: BTreeSet<&String> = catalog.ids.iter().collect();
            let missing: Vec<_> = en.difference(&ids).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", catalog.tag);
            let extra: Vec<_> = ids.difference(&en).collect();
            assert!(extra.is_empty(), "{} has unknown {extra:?}", catalog.tag);
            let (_, source) = EMBEDDED
                .iter()
                .find(|(tag, _)| *tag == catalog.tag)
                .unwrap();
            for id in &english.ids {
                let (ours, english) = (variables_of(source, id), variables_of(EMBEDDED[0].1, id));
                assert!(
                    ours.is_subset(&english),
                    "{}: {id} uses {ours:?}, English gives {english:?}",
                    catalog.tag
                );
            }
            assert_ne!(
                catalog.name, catalog.tag,
                "{} has no language-name",
                catalog.tag
            );
        }
    }

    /// The `$variables` message `id` of `source` uses.
    fn variables_of(source: &str, id: &str) -> BTreeSet<String> {
        let mut vars = BTreeSet::new();
        let mut inside = false;
        for line in source.lines() {
            if line.starts_with(&format!("{id} =")) {
                inside = true;
            } else if inside && !line.starts_with(' ') && !line.is_empty() {
                break;
            }
            if inside {
                for part in line.split('$').skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    vars.insert(name);
                }
            }
        }
        vars
    }

    #[test]
    fn messages_fall_back_to_english_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locales")).unwrap();
        std::fs::write(
            dir.path().join("locales/de.ftl"),
            "login-submit = Rein da\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("locales/it.ftl"),
            "language-name = Italiano\nlogin-submit = Accedi\n",
        )
        .unwrap();
        let catalogs = Catalogs::load(Some(dir.path())).unwrap();
        assert_eq!(catalogs.overridden(), ["locales/de.ftl", "locales/it.ftl"]);
        // The operator's message wins; the others stay German.
        assert_eq!(catalogs.text("de", "login-submit", &[]), "Rein da");
        assert_eq!(catalogs.text("de", "field-email", &[]), "E-Mail");
        // A language of the operator's: its messages, English for the rest.
        assert_eq!(catalogs.supported("it-IT"), Some("it"));
        assert_eq!(catalogs.text("it", "login-submit", &[]), "Accedi");
        assert_eq!(catalogs.text("it", "field-email", &[]), "Email");
        assert_eq!(catalogs.text("xx", "field-email", &[]), "Email");
        assert_eq!(catalogs.text("de", "no-such-key", &[]), "no-such-key");
        std::fs::write(dir.path().join("locales/fr.ftl"), "login-submit = {").unwrap();
        let err = Catalogs::load(Some(dir.path())).unwrap_err();
        assert!(err.contains("locales/fr.ftl"), "{err}");
    }

    #[test]
    fn values_and_plurals() {
        let c = Catalogs::embedded();
        assert_eq!(
            c.text("de", "login-title", &[("app", "Acme".into())]),
            "Bei Acme anmelden"
        );
        assert_eq!(
            c.text("en", "account-recovery-left", &[("count", 1u32.into())]),
            "1 recovery code left."
        );
        assert_eq!(
            c.text("en", "account-recovery-left", &[("count", 3u32.into())]),
            "3 recovery codes left."
        );
    }

    #[test]
    fn negotiation_order() {
        let c = Catalogs::embedded();
        let pick = |ui, cookie, accept, default| {
            c.negotiate(&Preferences {
                ui_locales: ui,
                cookie,
                accept_language: accept,
                default,
            })
        };
        assert_eq!(
            pick(Some("xx fr-CA"), Some("de"), Some("es"), None),
            ("fr".to_owned(), Source::UiLocales)
        );
        assert_eq!(
            pick(Some("xx"), Some("de"), Some("es"), None),
            ("de".to_owned(), Source::Cookie)
        );
        assert_eq!(
            pick(None, Some("zz"), Some("it, es;q=0.5, fr;q=0.8"), None),
            ("fr".to_owned(), Source::AcceptLanguage)
        );
        assert_eq!(
            pick(None, None, Some("fr;q=0, *"), Some("es")),
            ("es".to_owned(), Source::Default)
        );
        assert_eq!(pick(None, None, None, None).0, "en");
        assert_eq!(accept_language("de-CH, en;q=0.9 , fr;q=x"), ["de-CH", "en"]);
        assert!(is_language_tag("pt-BR") && !is_language_tag("de;x") && !is_language_tag(""));
    }
}
