//! The template engine of Heimdall's hosted pages and mail bodies (minijinja).
//!
//! Templates are files under `templates/` in the repository, embedded in the binary.
//! An operator can replace any of them without forking: a file with the same
//! relative name in `HEIMDALL_TEMPLATES_DIR` (e.g. `pages/base.html`) is used
//! instead, and further files there (partials an override includes) can be loaded
//! by name. Every template is read and compiled at start, so a broken override stops
//! Heimdall with its name and line rather than failing a request later (README
//! "Hosted pages").
//!
//! Values are escaped by the engine, never by hand: templates whose name ends in
//! `.html` escape every `{{ value }}` for HTML element content and double- or
//! single-quoted attribute values ([`escape`]); `.txt` and `.css` templates insert
//! values as they are. A value marked safe (`Value::from_safe_string`) is inserted
//! unescaped; only code that built it from escaped parts may mark it.
//!
//! Text comes from the message catalogs ([`crate::i18n`]): `{{ t("login-title",
//! app=app_name) }}` is message `login-title` in the language of the context's
//! `lang` (English when unset), with `$app` set; the result is escaped like any
//! value.
//!
//! This module is at the bottom of the layers: it knows nothing of HTTP, GraphQL or
//! the services.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, LazyLock},
};

use minijinja::{AutoEscape, Environment, Output, State, syntax::SyntaxConfig, value::Kwargs};
pub use minijinja::{Value, context};

use crate::i18n::{self, Arg, Catalogs};

/// Every template Heimdall ships, by the relative name it is rendered and
/// overridden under.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "pages/base.html",
        include_str!("../templates/pages/base.html"),
    ),
    (
        "pages/style.css",
        include_str!("../templates/pages/style.css"),
    ),
    (
        "pages/forms.html",
        include_str!("../templates/pages/forms.html"),
    ),
    (
        "pages/message.html",
        include_str!("../templates/pages/message.html"),
    ),
    (
        "pages/mfa.html",
        include_str!("../templates/pages/mfa.html"),
    ),
    (
        "pages/login.html",
        include_str!("../templates/pages/login.html"),
    ),
    (
        "pages/consent.html",
        include_str!("../templates/pages/consent.html"),
    ),
    (
        "pages/reset_password.html",
        include_str!("../templates/pages/reset_password.html"),
    ),
    (
        "pages/verify_email.html",
        include_str!("../templates/pages/verify_email.html"),
    ),
    (
        "pages/accept_invite.html",
        include_str!("../templates/pages/accept_invite.html"),
    ),
    (
        "pages/device.html",
        include_str!("../templates/pages/device.html"),
    ),
    (
        "mail/password_reset.subject.txt",
        include_str!("../templates/mail/password_reset.subject.txt"),
    ),
    (
        "mail/password_reset.txt",
        include_str!("../templates/mail/password_reset.txt"),
    ),
    (
        "mail/password_reset.html",
        include_str!("../templates/mail/password_reset.html"),
    ),
    (
        "mail/email_verification.subject.txt",
        include_str!("../templates/mail/email_verification.subject.txt"),
    ),
    (
        "mail/email_verification.txt",
        include_str!("../templates/mail/email_verification.txt"),
    ),
    (
        "mail/email_verification.html",
        include_str!("../templates/mail/email_verification.html"),
    ),
    (
        "mail/invite.subject.txt",
        include_str!("../templates/mail/invite.subject.txt"),
    ),
    (
        "mail/invite.txt",
        include_str!("../templates/mail/invite.txt"),
    ),
    (
        "mail/invite.html",
        include_str!("../templates/mail/invite.html"),
    ),
    (
        "mail/account_exists.subject.txt",
        include_str!("../templates/mail/account_exists.subject.txt"),
    ),
    (
        "mail/account_exists.txt",
        include_str!("../templates/mail/account_exists.txt"),
    ),
    (
        "mail/account_exists.html",
        include_str!("../templates/mail/account_exists.html"),
    ),
    (
        "pages/signup.html",
        include_str!("../templates/pages/signup.html"),
    ),
    (
        "pages/forgot_password.html",
        include_str!("../templates/pages/forgot_password.html"),
    ),
    (
        "pages/mfa_enroll.html",
        include_str!("../templates/pages/mfa_enroll.html"),
    ),
    (
        "pages/recovery_codes.html",
        include_str!("../templates/pages/recovery_codes.html"),
    ),
    (
        "pages/account.html",
        include_str!("../templates/pages/account.html"),
    ),
    (
        "pages/account_totp.html",
        include_str!("../templates/pages/account_totp.html"),
    ),
    (
        "pages/logout.html",
        include_str!("../templates/pages/logout.html"),
    ),
];

/// A template that could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct TemplateError {
    pub name: String,
    message: String,
}

impl TemplateError {
    fn new(name: &str, error: &minijinja::Error) -> Self {
        // minijinja's errors name the line; its causes (e.g. an included template's
        // error) are chained.
        let mut message = error.to_string();
        let mut cause = std::error::Error::source(error);
        while let Some(inner) = cause {
            message.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        Self {
            name: name.to_owned(),
            message,
        }
    }
}

/// The loaded templates: the embedded ones, with the operator's overrides, and
/// the message catalogs they take their text from.
pub struct Templates {
    env: Environment<'static>,
    overridden: Vec<String>,
    catalogs: Arc<Catalogs>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("overridden", &self.overridden)
            .finish_non_exhaustive()
    }
}

static EMBEDDED_ONLY: LazyLock<Templates> = LazyLock::new(|| {
    // The embedded templates compile (a unit test checks); should one ever not, it
    // renders as an error rather than taking the process down.
    Templates::load(None).unwrap_or_else(|error| {
        tracing::error!(%error, "the embedded templates do not compile");
        let catalogs = Arc::new(Catalogs::load(None).unwrap_or_else(|_| Catalogs::empty()));
        Templates {
            env: environment(catalogs.clone()),
            overridden: Vec::new(),
            catalogs,
        }
    })
});

/// `t(key, name=value, …)`: message `key` in the context's `lang`.
fn translate(
    catalogs: &Catalogs,
    state: &State,
    key: &str,
    kwargs: Kwargs,
) -> Result<String, minijinja::Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| i18n::DEFAULT.to_owned());
    let mut args: Vec<(String, Arg<'static>)> = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let arg = match value.as_i64() {
            #[allow(clippy::cast_precision_loss)]
            Some(n) if value.kind() == minijinja::value::ValueKind::Number => Arg::Number(n as f64),
            _ => Arg::from(
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned),
            ),
        };
        args.push((name.to_owned(), arg));
    }
    let args: Vec<(&str, Arg<'_>)> = args.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
    Ok(catalogs.text(&lang, key, &args))
}

fn environment(catalogs: Arc<Catalogs>) -> Environment<'static> {
    let mut env = Environment::new();
    env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| {
        translate(&catalogs, state, key, kwargs)
    });
    // Tags on lines of their own leave no blank lines behind; a file's last newline
    // is kept (mail bodies end with one).
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_formatter(format_value);
    env
}

/// Writes `{{ value }}`: HTML-escaped with [`escape`] in `.html` templates (the
/// engine's own HTML escaping also rewrites `/`, which would change every URL in
/// an `href` or `action` for nothing), as is elsewhere.
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
        let escaped = match value.as_str() {
            Some(text) => escape(text),
            None => escape(&value.to_string()),
        };
        return out.write_str(&escaped).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

impl Templates {
    /// The embedded templates with the files of `dir` (`HEIMDALL_TEMPLATES_DIR`)
    /// in their place. Fails, naming the file, when `dir` is not a directory or a
    /// template does not compile.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        if let Some(dir) = dir
            && !dir.is_dir()
        {
            return Err(format!(
                "HEIMDALL_TEMPLATES_DIR: {} is not a directory",
                dir.display()
            ));
        }
        let catalogs = Arc::new(Catalogs::load(dir)?);
        let mut env = environment(catalogs.clone());
        let mut overridden: Vec<String> = Vec::new();
        for (name, embedded) in EMBEDDED {
            let replacement = match dir {
                Some(dir) => read_override(dir, name)?,
                None => None,
            };
            let added = match replacement {
                Some(source) => {
                    overridden.push((*name).to_owned());
                    env.add_template_owned(*name, source)
                }
                None => env.add_template(name, embedded),
            };
            added.map_err(|e| TemplateError::new(name, &e).to_string())?;
        }
        if let Some(dir) = dir {
            // Further files of the directory (partials of an override), by name;
            // read once, like the rest.
            env.set_loader(minijinja::path_loader(dir));
            env.set_auto_reload(false);
            overridden.extend(catalogs.overridden().iter().cloned());
            tracing::info!(
                dir = %dir.display(),
                overridden = ?overridden,
                "templates: using the operator's templates"
            );
        }
        Ok(Self {
            env,
            overridden,
            catalogs,
        })
    }

    /// The embedded templates alone.
    pub fn embedded() -> &'static Self {
        &EMBEDDED_ONLY
    }

    /// The names of the embedded templates and catalogs the operator's directory
    /// replaces or extends.
    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// The message catalogs.
    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Message `key` in `lang` (English where `lang` lacks it).
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.catalogs.text(lang, key, args)
    }

    /// The supported language for `tag` (`de-AT` → `de`), else English.
    pub fn language(&self, tag: &str) -> String {
        self.catalogs
            .supported(tag)
            .unwrap_or(i18n::DEFAULT)
            .to_owned()
    }

    /// Renders template `name` with `context` (a [`context!`] or any [`Value`]).
    pub fn render(&self, name: &str, context: Value) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(context))
            .map_err(|e| TemplateError::new(name, &e))
    }
}

/// The operator's file for template `name`, if there is one.
fn read_override(dir: &Path, name: &str) -> Result<Option<String>, String> {
    let path: PathBuf = name.split('/').fold(dir.to_path_buf(), |p, s| p.join(s));
    match std::fs::read_to_string(&path) {
        Ok(source) => Ok(Some(source)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "HEIMDALL_TEMPLATES_DIR: cannot read {}: {e}",
            path.display()
        )),
    }
}

/// Escapes text for HTML element content and double- or single-quoted attribute
/// values: `& < > " '`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_embedded_template_compiles_and_every_file_is_embedded() {
        let templates = Templates::load(None).unwrap();
        assert!(templates.overridden().is_empty());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        for folder in std::fs::read_dir(&root).unwrap() {
            let folder = folder.unwrap();
            if folder.file_name() == "locales" {
                continue; // the catalogs, i18n's
            }
            for file in std::fs::read_dir(folder.path()).unwrap() {
                on_disk.push(format!(
                    "{}/{}",
                    folder.file_name().to_string_lossy(),
                    file.unwrap().file_name().to_string_lossy()
                ));
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| (*n).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "templates/ and EMBEDDED differ");
    }

    #[test]
    fn html_templates_escape_and_text_templates_do_not() {
        let mut env = environment(Arc::new(Catalogs::load(None).unwrap()));
        env.add_template("a.html", "<a href=\"{{ v }}\">{{ v }}</a>")
            .unwrap();
        env.add_template("a.txt", "{{ v }}").unwrap();
        let v = "https://x/?a=1&b='<2>'\"";
        let html = env
            .get_template("a.html")
            .unwrap()
            .render(context! { v })
            .unwrap();
        assert_eq!(
            html,
            "<a href=\"https://x/?a=1&amp;b=&#x27;&lt;2&gt;&#x27;&quot;\">https://x/?a=1&amp;b=&#x27;&lt;2&gt;&#x27;&quot;</a>"
        );
        let text = env
            .get_template("a.txt")
            .unwrap()
            .render(context! { v })
            .unwrap();
        assert_eq!(text, v);
        let safe = env
            .get_template("a.html")
            .unwrap()
            .render(context! { v => Value::from_safe_string("<b>".into()) })
            .unwrap();
        assert_eq!(safe, "<a href=\"<b>\"><b></a>");
    }

    #[test]
    fn a_file_in_the_directory_replaces_the_embedded_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pages")).unwrap();
        std::fs::write(
            dir.path().join("pages/message.html"),
            "{% include \"pages/extra.html\" %}: {{ title }}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("pages/extra.html"), "Branded").unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        assert_eq!(templates.overridden(), ["pages/message.html"]);
        let page = templates
            .render("pages/message.html", context! { title => "<Hi>" })
            .unwrap();
        assert_eq!(page, "Branded: &lt;Hi&gt;\n");
        // The rest stay embedded.
        let mail = templates
            .render("mail/invite.subject.txt", context! { app_name => "A&B" })
            .unwrap();
        assert_eq!(mail, "You have been invited to A&B\n");

        std::fs::write(dir.path().join("pages/login.html"), "{% if %}").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err();
        assert!(err.contains("pages/login.html"), "{err}");
        assert!(Templates::load(Some(&dir.path().join("missing"))).is_err());
    }
}
