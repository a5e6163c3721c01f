//! Mail bodies. Each mail has a subject, a plain-text and an HTML body, from the
//! built-in templates (`templates/mail/{kind}.subject.txt`, `{kind}.txt`,
//! `{kind}.html`; an operator overrides them from `HEIMDALL_TEMPLATES_DIR`) unless
//! the app's `mail_templates` setting has its own (README "Heimdall-sent mail
//! (SMTP)": `{{link}}`, `{{app_name}}` and `{{display_name}}` placeholders, values
//! HTML-escaped in `html`). An app's templates are data from the API, so they are
//! filled by plain placeholder substitution, never run by the template engine.

use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    templates::{self, TemplateError, Templates, context},
};

/// One mail's template; unset parts use the built-in default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailTemplate {
    pub subject: Option<String>,
    /// The plain-text body.
    pub text: Option<String>,
    /// The HTML body; substituted values are HTML-escaped.
    pub html: Option<String>,
}

/// The app setting `mail_templates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailTemplates {
    pub password_reset: MailTemplate,
    pub email_verification: MailTemplate,
    pub invite: MailTemplate,
}

/// Refuses unknown keys in a `mail_templates` settings value (the stored form is
/// read leniently, so that a setting written by another version never breaks an app).
pub fn check_template_keys(field: &str, value: &serde_json::Value) -> Result<()> {
    let Some(mails) = value.as_object() else {
        return Ok(()); // the type check reports it
    };
    for (mail, template) in mails {
        if !["password_reset", "email_verification", "invite"].contains(&mail.as_str()) {
            return Err(Error::invalid_field(
                &format!("{field}.{mail}"),
                "is not a mail (password_reset, email_verification, invite)",
            ));
        }
        for part in template.as_object().into_iter().flat_map(|t| t.keys()) {
            if !["subject", "text", "html"].contains(&part.as_str()) {
                return Err(Error::invalid_field(
                    &format!("{field}.{mail}.{part}"),
                    "is not a template part (subject, text, html)",
                ));
            }
        }
    }
    Ok(())
}

const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 50_000;

impl MailTemplates {
    pub fn validate(&self, field: &str) -> Result<()> {
        for (name, template) in [
            ("password_reset", &self.password_reset),
            ("email_verification", &self.email_verification),
            ("invite", &self.invite),
        ] {
            if let Some(subject) = &template.subject
                && (subject.trim().is_empty()
                    || subject.chars().count() > MAX_SUBJECT
                    || subject.chars().any(char::is_control))
            {
                return Err(Error::invalid_field(
                    &format!("{field}.{name}.subject"),
                    format!("must be 1-{MAX_SUBJECT} characters on one line"),
                ));
            }
            for (part, body) in [("text", &template.text), ("html", &template.html)] {
                if let Some(body) = body
                    && (body.trim().is_empty() || body.len() > MAX_BODY || body.contains('\0'))
                {
                    return Err(Error::invalid_field(
                        &format!("{field}.{name}.{part}"),
                        format!("must be 1-{MAX_BODY} bytes without NUL"),
                    ));
                }
                if let Some(body) = body
                    && !body.contains("{{link}}")
                {
                    return Err(Error::invalid_field(
                        &format!("{field}.{name}.{part}"),
                        "must contain {{link}}",
                    ));
                }
            }
        }
        Ok(())
    }
}

static NO_TEMPLATE: MailTemplate = MailTemplate {
    subject: None,
    text: None,
    html: None,
};

/// Which mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    PasswordReset,
    EmailVerification,
    Invite,
    /// To the owner of an address someone tried to sign up with again (the app's
    /// `signup_conceals_existing`); built-in templates only.
    AccountExists,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::Invite => "invite",
            Self::AccountExists => "account_exists",
        }
    }

    fn template(self, templates: &MailTemplates) -> &MailTemplate {
        match self {
            Self::PasswordReset => &templates.password_reset,
            Self::EmailVerification => &templates.email_verification,
            Self::Invite => &templates.invite,
            Self::AccountExists => &NO_TEMPLATE,
        }
    }
}

/// A rendered mail, as sealed in the outbox.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rendered {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A mail ready to render: its recipient, its values and the app's own templates.
/// [`super::enqueue`] renders it with the configured templates.
#[derive(Clone, Debug)]
pub struct MailDraft {
    kind: MailKind,
    to: String,
    link: String,
    app_name: String,
    display_name: String,
    custom: MailTemplate,
    /// The language of the built-in templates: the recipient's, else the app's
    /// `default_locale`, else English.
    locale: String,
}

/// The mail `kind` for `app` to `to`, greeting `display_name` (else the address),
/// with `link`; rendered when it is queued ([`MailDraft::render`]).
pub fn render(
    app: &entity::app::Model,
    kind: MailKind,
    to: &str,
    display_name: Option<&str>,
    link: &str,
) -> MailDraft {
    let settings = crate::services::apps::AppSettings::from_stored(&app.settings);
    let name = display_name.filter(|n| !n.trim().is_empty()).unwrap_or(to);
    MailDraft {
        kind,
        to: to.to_owned(),
        link: link.to_owned(),
        app_name: settings
            .branding
            .product_name
            .clone()
            .unwrap_or_else(|| app.display_name.clone()),
        display_name: name.to_owned(),
        custom: kind.template(&settings.mail_templates).clone(),
        locale: settings
            .default_locale
            .clone()
            .unwrap_or_else(|| crate::i18n::DEFAULT.to_owned()),
    }
}

/// An app template with its `{{name}}` placeholders replaced.
fn substitute(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |out, (name, value)| {
            out.replace(&format!("{{{{{name}}}}}"), value)
        })
}

impl MailDraft {
    /// In the recipient's language (`users.locale`), when they have chosen one.
    pub fn in_language(mut self, locale: Option<&str>) -> Self {
        if let Some(locale) = locale {
            self.locale = locale.to_owned();
        }
        self
    }

    /// The subject and bodies: the app's own template where it has one, else the
    /// built-in template of `templates`.
    pub fn render(&self, templates: &Templates) -> std::result::Result<Rendered, TemplateError> {
        let plain = [
            ("link", self.link.as_str()),
            ("app_name", self.app_name.as_str()),
            ("display_name", self.display_name.as_str()),
        ];
        let built_in = |part: &str| {
            templates.render(
                &format!("mail/{}.{part}", self.kind.as_str()),
                context! {
                    lang => templates.language(&self.locale),
                    link => &self.link,
                    app_name => &self.app_name,
                    display_name => &self.display_name,
                },
            )
        };
        let subject = match &self.custom.subject {
            Some(subject) => substitute(subject, &plain),
            // The file's line ending is not part of the subject.
            None => built_in("subject.txt")?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        };
        let text = match &self.custom.text {
            Some(text) => substitute(text, &plain),
            None => built_in("txt")?,
        };
        let html = match &self.custom.html {
            Some(html) => {
                let (link, app_name, display_name) = (
                    templates::escape(&self.link),
                    templates::escape(&self.app_name),
                    templates::escape(&self.display_name),
                );
                substitute(
                    html,
                    &[
                        ("link", link.as_str()),
                        ("app_name", app_name.as_str()),
                        ("display_name", display_name.as_str()),
                    ],
                )
            }
            None => built_in("html")?,
        };
        Ok(Rendered {
            to: self.to.clone(),
            subject: subject
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
            text,
            html,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn app(settings: serde_json::Value) -> entity::app::Model {
        entity::app::Model {
            id: Uuid::nil(),
            name: "acme".into(),
            display_name: "Acme <&> Co".into(),
            settings,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn templates_escape_html_only_in_html() {
        let mail = render(
            &app(json!({})),
            MailKind::PasswordReset,
            "a@b.io",
            Some("<b>Al</b>"),
            "https://x/reset?token=hm_pr_1&x=2",
        )
        .render(Templates::embedded())
        .unwrap();
        assert_eq!(mail.subject, "Reset your Acme <&> Co password");
        assert!(mail.text.starts_with("Hi <b>Al</b>,\n\n"));
        assert!(
            mail.text
                .contains("\n\nhttps://x/reset?token=hm_pr_1&x=2\n\n")
        );
        assert!(mail.text.ends_with("your password stays as it is.\n"));
        assert!(mail.html.contains("Hi &lt;b&gt;Al&lt;/b&gt;,"));
        assert!(mail.html.contains("your Acme &lt;&amp;&gt; Co account"));
        assert!(
            mail.html
                .contains("href=\"https://x/reset?token=hm_pr_1&amp;x=2\"")
        );
    }

    #[test]
    fn an_apps_templates_are_substituted_not_run() {
        let mail = render(
            &app(json!({"mail_templates": {"invite": {
                "subject": "Join {{app_name}} {{ app_name }}",
                "html": "<a href=\"{{link}}\">{% if x %}{{display_name}}</a>",
            }}})),
            MailKind::Invite,
            "a@b.io",
            None,
            "https://x/?a=1&b=2",
        )
        .render(Templates::embedded())
        .unwrap();
        assert_eq!(mail.subject, "Join Acme <&> Co {{ app_name }}");
        assert_eq!(
            mail.html,
            "<a href=\"https://x/?a=1&amp;b=2\">{% if x %}a@b.io</a>"
        );
        // The unset part is the built-in one.
        assert!(
            mail.text
                .contains("You have been invited to join Acme <&> Co.")
        );
    }
}
