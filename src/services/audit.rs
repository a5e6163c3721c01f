//! Recording the audit log. Every write path calls [`record`] on its own
//! transaction, so an entry exists exactly when the change it describes committed;
//! the same call writes the webhook outbox for the events of SPEC §7.
//! Entries never contain secrets: callers pass ids and non-secret facts only.

use entity::audit_entry;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{access::Actor, db, error::Result, request::RequestMeta, state::AppState};

/// What an entry is about.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: &'static str,
    pub id: String,
}

impl Target {
    pub fn user(id: Uuid) -> Self {
        Self {
            kind: "user",
            id: id.to_string(),
        }
    }

    pub fn session(id: Uuid) -> Self {
        Self {
            kind: "session",
            id: id.to_string(),
        }
    }

    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }
}

/// One audit entry to record.
#[derive(Clone, Debug)]
pub struct Entry {
    pub app_id: Uuid,
    pub action: &'static str,
    pub actor: Actor,
    pub target: Option<Target>,
    pub metadata: Value,
}

impl Entry {
    pub fn new(app_id: Uuid, action: &'static str, actor: Actor) -> Self {
        Self {
            app_id,
            action,
            actor,
            target: None,
            metadata: json!({}),
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    state: &AppState,
    meta: &RequestMeta,
    entry: Entry,
) -> Result<()> {
    let now = state.now();
    // Events of SPEC §7 also go to the webhook outbox, in this same transaction.
    crate::services::webhooks::outbox::emit(conn, state, &entry, now).await?;
    audit_entry::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(entry.app_id),
        action: Set(entry.action.to_owned()),
        actor_type: Set(entry.actor.kind.to_owned()),
        actor_id: Set((!entry.actor.id.is_empty()).then_some(entry.actor.id)),
        target_type: Set(entry.target.as_ref().map(|t| t.kind.to_owned())),
        target_id: Set(entry.target.map(|t| t.id)),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.clone()),
        metadata: Set(entry.metadata),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Audit entries for events that change no row (token issuance, at thousands per
/// second), written in batches: one multi-row insert every [`FLUSH_EVERY`] or
/// [`BATCH`] entries instead of a write transaction per request. Entries are
/// stamped when they happen; a crash can lose at most the last fraction of a second.
#[derive(Clone)]
pub struct AuditBuffer {
    tx: tokio::sync::mpsc::Sender<Pending>,
    flushes: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
}

pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
pub const BATCH: usize = 500;

struct Pending {
    model: audit_entry::ActiveModel,
}

impl AuditBuffer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: crate::db::Db) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Pending>(50_000);
        let (flushes, mut flush_rx) =
            tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(16);
        tokio::spawn(async move {
            let mut batch: Vec<audit_entry::ActiveModel> = Vec::with_capacity(BATCH);
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                let mut waiter = None;
                let mut closed = false;
                tokio::select! {
                    received = rx.recv() => match received {
                        Some(p) => batch.push(p.model),
                        None => closed = true,
                    },
                    Some(w) = flush_rx.recv() => {
                        while let Ok(p) = rx.try_recv() {
                            batch.push(p.model);
                        }
                        waiter = Some(w);
                    }
                    _ = tick.tick() => {}
                }
                if !batch.is_empty()
                    && (batch.len() >= BATCH || waiter.is_some() || closed || rx.is_empty())
                {
                    write_batch(&db, std::mem::take(&mut batch)).await;
                }
                if let Some(w) = waiter {
                    let _ = w.send(());
                }
                if closed {
                    break;
                }
            }
        });
        Self { tx, flushes }
    }

    /// Queues an entry; never blocks the request for long (bounded queue).
    pub async fn push(&self, state: &AppState, meta: &RequestMeta, entry: Entry) {
        let model = audit_entry::ActiveModel {
            id: Set(db::new_id()),
            app_id: Set(entry.app_id),
            action: Set(entry.action.to_owned()),
            actor_type: Set(entry.actor.kind.to_owned()),
            actor_id: Set((!entry.actor.id.is_empty()).then_some(entry.actor.id)),
            target_type: Set(entry.target.as_ref().map(|t| t.kind.to_owned())),
            target_id: Set(entry.target.map(|t| t.id)),
            ip: Set(meta.ip.clone()),
            user_agent: Set(meta.user_agent.clone()),
            metadata: Set(entry.metadata),
            created_at: Set(state.now()),
        };
        if self.tx.send(Pending { model }).await.is_err() {
            tracing::error!("audit writer stopped; an entry was dropped");
        }
    }

    /// Writes everything queued so far (tests, shutdown).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.flushes.send(tx).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn write_batch(db: &crate::db::Db, batch: Vec<audit_entry::ActiveModel>) {
    use sea_orm::EntityTrait;
    for chunk in batch.chunks(BATCH) {
        let result = async {
            let txn = db.begin_write().await?;
            audit_entry::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Ok::<_, crate::error::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = ?e, entries = chunk.len(), "writing audit entries failed");
        }
    }
}
