//! Heimdall-sent mail: the SMTP transport (`HEIMDALL_SMTP_URL`), per-app templates,
//! the outbox and its delivery worker.
//!
//! Mail is written to the outbox in the same transaction as the token it carries,
//! sealed with the master key (the link holds a secret), and delivered after the
//! commit by a background worker: a slow or failing SMTP server never slows or
//! breaks the request, and a failed send is retried with backoff, logged and
//! audited. Several instances never send the same mail twice: a worker claims due
//! rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer) and
//! pushes their `next_attempt_at` forward as a lease before it sends.

use std::time::Duration as StdDuration;

use chrono::Duration;
use entity::mail_outbox;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::{
    access::Actor,
    config::Config,
    db,
    error::{Error, Result},
    http::pages::escape,
    request::RequestMeta,
    services::audit::{self, Entry, Target},
    state::AppState,
};

/// Delivery attempts before a mail is abandoned.
pub const MAX_ATTEMPTS: i32 = 6;
/// How long a claimed mail stays invisible to other workers while it is being sent.
const LEASE: Duration = Duration::minutes(5);
/// How often the worker looks for due mail without being woken.
const POLL: StdDuration = StdDuration::from_secs(5);
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(20);
/// Mails claimed per round.
const BATCH: u64 = 10;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_FAILED: &str = "failed";

/// Seconds to wait before attempt `attempt + 1`: 30 s, 1, 2, 4, 8 min (… bounded).
pub fn backoff(attempt: i32) -> Duration {
    let exponent = attempt.clamp(1, 10) - 1;
    Duration::seconds(30 * (1_i64 << exponent)).min(Duration::hours(1))
}

// ---------------------------------------------------------------------------------
// Transport

/// How the SMTP connection is secured, from the URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: no TLS (development and tests).
    Plain,
    /// `smtp+starttls://`: STARTTLS required (port 587 by default).
    StartTls,
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Tls,
}

/// A parsed `HEIMDALL_SMTP_URL` (the password stays out of `Debug`).
#[derive(Clone)]
pub struct SmtpUrl {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl SmtpUrl {
    /// Parses `smtp://`, `smtp+starttls://` or `smtps://[user:pass@]host[:port]`.
    /// Errors never repeat the URL (it may hold a password).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let url = url::Url::parse(text.trim())
            .map_err(|e| format!("HEIMDALL_SMTP_URL is not a URL ({e})"))?;
        let (security, default_port) = match url.scheme() {
            "smtp" => (SmtpSecurity::Plain, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => {
                return Err(format!(
                    "HEIMDALL_SMTP_URL: unsupported scheme '{other}' (use smtp://, smtp+starttls:// or smtps://)"
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("HEIMDALL_SMTP_URL has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode =
            |s: &str| percent_decode(s).ok_or("HEIMDALL_SMTP_URL: credentials are not valid UTF-8");
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        Ok(Self {
            security,
            host,
            port: url.port().unwrap_or(default_port),
            credentials,
        })
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (Some(hi), Some(lo)) if bytes[i] == b'%' => {
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The configured SMTP transport and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Builds the transport from `HEIMDALL_SMTP_URL` and `HEIMDALL_SMTP_FROM`; `None`
    /// when neither is set (no mail), an error when only one is or either is invalid.
    pub fn from_config(config: &Config) -> std::result::Result<Option<Self>, String> {
        // An empty variable counts as unset.
        let url = config
            .smtp_url
            .as_ref()
            .filter(|u| !u.expose().trim().is_empty());
        let from = config.smtp_from.as_ref().filter(|f| !f.trim().is_empty());
        let (url, from) = match (url, from) {
            (None, None) => return Ok(None),
            (Some(url), Some(from)) => (url, from),
            (Some(_), None) => {
                return Err("HEIMDALL_SMTP_URL is set but HEIMDALL_SMTP_FROM is not".into());
            }
            _ => return Err("HEIMDALL_SMTP_FROM is set but HEIMDALL_SMTP_URL is not".into()),
        };
        let from: Mailbox = from.trim().parse().map_err(|e| {
            format!("HEIMDALL_SMTP_FROM is not a mail address (e.g. 'Acme <no-reply@acme.example>'): {e}")
        })?;
        let url = SmtpUrl::parse(url.expose())?;
        type Smtp = AsyncSmtpTransport<Tokio1Executor>;
        let tls_error = |e: lettre::transport::smtp::Error| format!("HEIMDALL_SMTP_URL: {e}");
        let mut builder = match url.security {
            SmtpSecurity::Plain => Smtp::builder_dangerous(&url.host),
            SmtpSecurity::StartTls => Smtp::starttls_relay(&url.host).map_err(tls_error)?,
            SmtpSecurity::Tls => Smtp::relay(&url.host).map_err(tls_error)?,
        }
        .port(url.port)
        .timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = url.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Some(Self {
            transport: builder.build(),
            from,
        }))
    }

    async fn send(&self, mail: &Rendered) -> std::result::Result<(), String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The mail service held in the application state.
pub struct MailService {
    mailer: Option<Mailer>,
    wake: Notify,
}

impl MailService {
    pub fn from_config(config: &Config) -> std::result::Result<Self, String> {
        Ok(Self {
            mailer: Mailer::from_config(config)?,
            wake: Notify::new(),
        })
    }

    /// Whether Heimdall sends mail (SMTP configured).
    pub fn enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Wakes the worker (after a commit that queued mail).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

// ---------------------------------------------------------------------------------
// Templates

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

/// Which mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    PasswordReset,
    EmailVerification,
    Invite,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::Invite => "invite",
        }
    }

    fn template(self, templates: &MailTemplates) -> &MailTemplate {
        match self {
            Self::PasswordReset => &templates.password_reset,
            Self::EmailVerification => &templates.email_verification,
            Self::Invite => &templates.invite,
        }
    }

    fn defaults(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::PasswordReset => (
                "Reset your {{app_name}} password",
                "Hi {{display_name}},\n\nSomeone asked to reset the password of your {{app_name}} account. \
                 To choose a new password, open this link:\n\n{{link}}\n\n\
                 The link works once and expires soon. If you did not ask for this, ignore this mail: \
                 your password stays as it is.\n",
                "<p>Hi {{display_name}},</p>\n<p>Someone asked to reset the password of your \
                 {{app_name}} account. To choose a new password, open this link:</p>\n\
                 <p><a href=\"{{link}}\">Reset my password</a></p>\n<p>The link works once and \
                 expires soon. If you did not ask for this, ignore this mail: your password stays \
                 as it is.</p>\n",
            ),
            Self::EmailVerification => (
                "Verify your email for {{app_name}}",
                "Hi {{display_name}},\n\nPlease confirm that this is your email address for \
                 {{app_name}} by opening this link:\n\n{{link}}\n\n\
                 If you did not create an account, ignore this mail.\n",
                "<p>Hi {{display_name}},</p>\n<p>Please confirm that this is your email address \
                 for {{app_name}}:</p>\n<p><a href=\"{{link}}\">Verify my email</a></p>\n\
                 <p>If you did not create an account, ignore this mail.</p>\n",
            ),
            Self::Invite => (
                "You have been invited to {{app_name}}",
                "Hi {{display_name}},\n\nYou have been invited to join {{app_name}}. \
                 To accept, open this link:\n\n{{link}}\n",
                "<p>Hi {{display_name}},</p>\n<p>You have been invited to join \
                 {{app_name}}.</p>\n<p><a href=\"{{link}}\">Accept the invitation</a></p>\n",
            ),
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

fn substitute(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |out, (name, value)| {
            out.replace(&format!("{{{{{name}}}}}", name = name), value)
        })
}

/// Renders `kind` for `app` with the app's templates (or the defaults).
pub fn render(
    app: &entity::app::Model,
    kind: MailKind,
    to: &str,
    display_name: Option<&str>,
    link: &str,
) -> Rendered {
    let settings = crate::services::apps::AppSettings::from_stored(&app.settings);
    let custom = kind.template(&settings.mail_templates);
    let (subject, text, html) = kind.defaults();
    let name = display_name.filter(|n| !n.trim().is_empty()).unwrap_or(to);
    let plain = [
        ("link", link),
        ("app_name", app.display_name.as_str()),
        ("display_name", name),
    ];
    let (link_html, app_html, name_html) = (escape(link), escape(&app.display_name), escape(name));
    let escaped = [
        ("link", link_html.as_str()),
        ("app_name", app_html.as_str()),
        ("display_name", name_html.as_str()),
    ];
    let subject = substitute(custom.subject.as_deref().unwrap_or(subject), &plain)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    Rendered {
        to: to.to_owned(),
        subject,
        text: substitute(custom.text.as_deref().unwrap_or(text), &plain),
        html: substitute(custom.html.as_deref().unwrap_or(html), &escaped),
    }
}

// ---------------------------------------------------------------------------------
// Outbox

fn aad(id: Uuid) -> String {
    format!("heimdall/mail/{id}")
}

/// Queues a rendered mail in the caller's transaction. Call
/// [`MailService::wake`] after the commit. Does nothing when SMTP is not configured.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    kind: MailKind,
    user_id: Option<Uuid>,
    mail: &Rendered,
) -> Result<Option<Uuid>> {
    if !state.mail.enabled() {
        return Ok(None);
    }
    let id = db::new_id();
    let plaintext = serde_json::to_vec(mail).map_err(Error::internal)?;
    let now = state.now();
    mail_outbox::ActiveModel {
        id: Set(id),
        app_id: Set(app_id),
        kind: Set(kind.as_str().to_owned()),
        user_id: Set(user_id),
        payload: Set(state.vault.seal(&plaintext, &aad(id))?),
        status: Set(STATUS_PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(Some(id))
}

/// Starts the delivery worker (when SMTP is configured); it stops when `stop` turns
/// true, after the mail in hand.
pub fn spawn_worker(
    state: AppState,
    mut stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    state.mail.mailer.as_ref()?;
    Some(tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            loop {
                match deliver_due(&state).await {
                    Ok(0) => break,
                    Ok(_) if *stop.borrow() => return,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "mail outbox: claiming due mail failed");
                        break;
                    }
                }
            }
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = state.mail.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }))
}

/// Claims the mail that is due and tries to send it; returns how many were claimed.
pub async fn deliver_due(state: &AppState) -> Result<usize> {
    let Some(mailer) = &state.mail.mailer else {
        return Ok(0);
    };
    let now = state.now();
    // A plain read first, so that an idle poll never takes SQLite's writer lock.
    let any_due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(STATUS_PENDING))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .one(&*state.db)
        .await?
        .is_some();
    if !any_due {
        return Ok(0);
    }
    let txn = state.db.begin_write().await?;
    let mut due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::Status.eq(STATUS_PENDING))
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(BATCH);
    if !state.db.is_sqlite() {
        // Other instances skip what this one claims (SQLite: the writer lock).
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let due = due.all(&txn).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = due.iter().map(|m| m.id).collect();
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(now + LEASE))
        .col_expr(
            mail_outbox::Column::Attempts,
            Expr::col(mail_outbox::Column::Attempts).add(1),
        )
        .filter(mail_outbox::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let claimed = due.len();
    for mail in due {
        let attempt = mail.attempts + 1;
        let outcome = match state
            .vault
            .open(&mail.payload, &aad(mail.id))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Rendered>(&bytes).ok())
        {
            Some(rendered) => mailer.send(&rendered).await,
            None => Err("the queued message cannot be decrypted".to_owned()),
        };
        if let Err(error) = record_outcome(state, &mail, attempt, outcome).await {
            tracing::warn!(%error, mail_id = %mail.id, "mail outbox: recording a delivery failed");
        }
    }
    Ok(claimed)
}

async fn record_outcome(
    state: &AppState,
    mail: &mail_outbox::Model,
    attempt: i32,
    outcome: std::result::Result<(), String>,
) -> Result<()> {
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let update = mail_outbox::Entity::update_many().filter(mail_outbox::Column::Id.eq(mail.id));
    match outcome {
        Ok(()) => {
            update
                .col_expr(mail_outbox::Column::Status, Expr::value(STATUS_SENT))
                .col_expr(mail_outbox::Column::SentAt, Expr::value(now))
                .col_expr(mail_outbox::Column::Payload, Expr::value(""))
                .col_expr(
                    mail_outbox::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .exec(&txn)
                .await?;
            tracing::info!(mail_id = %mail.id, kind = %mail.kind, attempt, "mail sent");
        }
        Err(error) => {
            let error: String = error.chars().take(500).collect();
            let abandon = attempt >= MAX_ATTEMPTS;
            let mut update =
                update.col_expr(mail_outbox::Column::LastError, Expr::value(error.clone()));
            if abandon {
                update = update
                    .col_expr(mail_outbox::Column::Status, Expr::value(STATUS_FAILED))
                    .col_expr(mail_outbox::Column::Payload, Expr::value(""));
            } else {
                update = update.col_expr(
                    mail_outbox::Column::NextAttemptAt,
                    Expr::value(now + backoff(attempt)),
                );
            }
            update.exec(&txn).await?;
            tracing::warn!(
                mail_id = %mail.id, kind = %mail.kind, attempt, abandon, %error,
                "mail delivery failed"
            );
            let action = if abandon {
                "mail.abandoned"
            } else {
                "mail.send_failed"
            };
            let mut entry = Entry::new(
                mail.app_id,
                action,
                Actor {
                    kind: "system",
                    id: "mailer".into(),
                },
            )
            .metadata(json!({
                "mail_id": mail.id,
                "kind": mail.kind,
                "attempt": attempt,
                "error": error,
                "next_attempt_at": (!abandon).then(|| now + backoff(attempt)),
            }));
            if let Some(user_id) = mail.user_id {
                entry = entry.target(Target::user(user_id));
            }
            audit::record(&txn, state, &RequestMeta::default(), entry).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        let url = SmtpUrl::parse("smtp+starttls://me%40x.io:p%3Ass@mail.example.com").unwrap();
        assert_eq!(url.security, SmtpSecurity::StartTls);
        assert_eq!(url.port, 587);
        assert_eq!(
            url.credentials,
            Some(("me@x.io".to_owned(), "p:ss".to_owned()))
        );
        assert!(!format!("{url:?}").contains("p:ss"));
        let url = SmtpUrl::parse("smtps://mail.example.com:2465").unwrap();
        assert_eq!((url.security, url.port), (SmtpSecurity::Tls, 2465));
        let url = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((url.security, url.port), (SmtpSecurity::Plain, 2525));
        assert!(url.credentials.is_none());
        let err = SmtpUrl::parse("http://user:secret@x").unwrap_err();
        assert!(!err.contains("secret"));
        assert!(SmtpUrl::parse("smtp://").is_err());
    }

    #[test]
    fn smtp_configuration_is_both_or_neither() {
        let config = |url: Option<&str>, from: Option<&str>| Config {
            smtp_url: url.map(Into::into),
            smtp_from: from.map(Into::into),
            ..Config::default()
        };
        assert!(Mailer::from_config(&config(None, None)).unwrap().is_none());
        assert!(
            Mailer::from_config(&config(Some(" "), Some("")))
                .unwrap()
                .is_none()
        );
        assert!(
            Mailer::from_config(&config(Some("smtp://127.0.0.1:2525"), Some("a@b.io")))
                .unwrap()
                .is_some()
        );
        assert!(
            Mailer::from_config(&config(
                Some("smtp+starttls://u:p@mail.example.com"),
                Some("Acme <no-reply@acme.example>")
            ))
            .unwrap()
            .is_some()
        );
        for (url, from) in [
            (Some("smtp://127.0.0.1:2525"), None),
            (None, Some("a@b.io")),
            (Some("smtp://127.0.0.1:2525"), Some("not an address")),
            (Some("ftp://u:hunter2@x"), Some("a@b.io")),
        ] {
            let err = Mailer::from_config(&config(url, from)).err().unwrap();
            assert!(err.contains("HEIMDALL_SMTP"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(50), Duration::hours(1));
    }

    #[test]
    fn templates_escape_html_only_in_html() {
        let app = entity::app::Model {
            id: Uuid::nil(),
            name: "acme".into(),
            display_name: "Acme <&> Co".into(),
            settings: json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let mail = render(
            &app,
            MailKind::PasswordReset,
            "a@b.io",
            Some("<b>Al</b>"),
            "https://x/reset?token=hm_pr_1&x=2",
        );
        assert_eq!(mail.subject, "Reset your Acme <&> Co password");
        assert!(mail.text.contains("Hi <b>Al</b>,"));
        assert!(mail.text.contains("https://x/reset?token=hm_pr_1&x=2"));
        assert!(mail.html.contains("Hi &lt;b&gt;Al&lt;/b&gt;,"));
        assert!(
            mail.html
                .contains("href=\"https://x/reset?token=hm_pr_1&amp;x=2\"")
        );
    }
}
