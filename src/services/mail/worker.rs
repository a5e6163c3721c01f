//! The delivery worker: claims due mail from the outbox, sends it and records the
//! outcome (sent; or retried with [`super::backoff`], logged and audited; abandoned
//! after [`super::MAX_ATTEMPTS`]).

use std::time::Duration as StdDuration;

use chrono::Duration;
use entity::mail_outbox;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    MAX_ATTEMPTS, Rendered, STATUS_FAILED, STATUS_PENDING, STATUS_SENT, backoff, outbox::aad,
};
use crate::services::worker::{self, Job, Schedule};
use crate::{
    access::Actor,
    error::Result,
    request::RequestMeta,
    services::audit::{self, Entry, Target},
    state::AppState,
};

/// How long a claimed mail stays invisible to other workers while it is being sent.
const LEASE: Duration = Duration::minutes(5);
/// How often the worker looks for due mail without being woken.
const POLL: StdDuration = StdDuration::from_secs(5);
/// Mails claimed per round.
const BATCH: u64 = 10;

/// The delivery job: sends what is due, claim after claim, until nothing is.
struct Delivery {
    state: AppState,
    stop: watch::Receiver<bool>,
}

impl Job for Delivery {
    async fn pass(&mut self) {
        loop {
            match deliver_due(&self.state).await {
                Ok(0) => break,
                Ok(_) if *self.stop.borrow() => break,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "mail outbox: claiming due mail failed");
                    break;
                }
            }
        }
    }
}

/// Starts the delivery worker (when SMTP is configured); it stops when `stop` turns
/// true, after the mail in hand.
pub fn spawn_worker(
    state: AppState,
    stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    state.mail.mailer.as_ref()?;
    let schedule = Schedule {
        wake: Some(state.mail.wake.clone()),
        ..Schedule::every(POLL)
    };
    let job = Delivery {
        state,
        stop: stop.clone(),
    };
    Some(worker::spawn(job, schedule, stop))
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
