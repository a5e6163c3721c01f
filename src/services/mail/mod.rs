//! Heimdall-sent mail (README "Heimdall-sent mail (SMTP)"): the SMTP transport
//! ([`transport`], `HEIMDALL_SMTP_URL`), the bodies ([`templates`]: built-in
//! templates and the app's own), the outbox ([`outbox`]) and its delivery worker
//! ([`worker`]).
//!
//! Mail is written to the outbox in the same transaction as the token it carries,
//! sealed with the master key (the link holds a secret), and delivered after the
//! commit by a background worker: a slow or failing SMTP server never slows or
//! breaks the request, and a failed send is retried with backoff, logged and
//! audited. Several instances never send the same mail twice: a worker claims due
//! rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has one writer) and
//! pushes their `next_attempt_at` forward as a lease before it sends.

pub mod outbox;
pub mod templates;
pub mod transport;
pub mod worker;

use tokio::sync::Notify;

use crate::config::Config;

pub use outbox::{MAX_ATTEMPTS, STATUS_FAILED, STATUS_PENDING, STATUS_SENT, backoff, enqueue};
pub use templates::{
    MailDraft, MailKind, MailTemplate, MailTemplates, Rendered, check_template_keys, render,
};
pub use transport::Mailer;
pub use worker::{deliver_due, spawn_worker};

/// The mail service held in the application state.
pub struct MailService {
    mailer: Option<Mailer>,
    wake: std::sync::Arc<Notify>,
}

impl MailService {
    pub fn from_config(config: &Config) -> std::result::Result<Self, String> {
        Ok(Self {
            mailer: Mailer::from_config(config)?,
            wake: std::sync::Arc::new(Notify::new()),
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
