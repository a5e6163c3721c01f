//! Recording the audit log. Every write path calls [`record`] on its own
//! transaction, so an entry exists exactly when the change it describes committed;
//! the same call writes the webhook outbox for the webhook events
//! (docs/src/webhooks-and-audit-log.md).
//! Entries never contain secrets: callers pass ids and non-secret facts only.

use entity::audit_entry;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    access::Actor,
    db,
    error::Result,
    request::RequestMeta,
    services::worker::{self, Job, Schedule},
    state::AppState,
};

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
    // Webhook events also go to the outbox, in this same transaction.
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

/// Records `entry` in `txn` and commits: a change, its audit entry and its webhook
/// event land together or not at all.
pub async fn commit(
    txn: crate::db::WriteTxn,
    state: &AppState,
    meta: &RequestMeta,
    entry: Entry,
) -> Result<()> {
    record(&txn, state, meta, entry).await?;
    txn.commit().await?;
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
    stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    writer: std::sync::Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
pub const BATCH: usize = 500;

struct Pending {
    model: audit_entry::ActiveModel,
}

/// The writer: collects entries and writes a batch when it is full, when the queue
/// is drained, on a flush request, and at the latest every [`FLUSH_EVERY`].
struct Writer {
    db: crate::db::Db,
    rx: tokio::sync::mpsc::Receiver<Pending>,
    flush_rx: tokio::sync::mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
    batch: Vec<audit_entry::ActiveModel>,
    waiters: Vec<tokio::sync::oneshot::Sender<()>>,
    closed: bool,
}

impl Writer {
    fn drain(&mut self) {
        while let Ok(p) = self.rx.try_recv() {
            self.batch.push(p.model);
        }
    }

    async fn write(&mut self) {
        if !self.batch.is_empty() {
            write_batch(&self.db, std::mem::take(&mut self.batch)).await;
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(());
        }
    }
}

impl Job for Writer {
    async fn pass(&mut self) {
        let due = self.batch.len() >= BATCH
            || !self.waiters.is_empty()
            || self.closed
            || self.rx.is_empty();
        if due {
            self.write().await;
        }
    }

    async fn event(&mut self) {
        if self.closed {
            return std::future::pending().await;
        }
        tokio::select! {
            received = self.rx.recv() => match received {
                Some(p) => self.batch.push(p.model),
                None => self.closed = true,
            },
            Some(waiter) = self.flush_rx.recv() => {
                self.drain();
                self.waiters.push(waiter);
            }
        }
    }

    /// Shutdown: everything queued is written.
    async fn finish(&mut self) {
        self.drain();
        while let Ok(waiter) = self.flush_rx.try_recv() {
            self.waiters.push(waiter);
        }
        self.write().await;
    }
}

impl AuditBuffer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: crate::db::Db) -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel::<Pending>(50_000);
        let (flushes, flush_rx) =
            tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(16);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let writer = Writer {
            db,
            rx,
            flush_rx,
            batch: Vec::with_capacity(BATCH),
            waiters: Vec::new(),
            closed: false,
        };
        let handle = worker::spawn(writer, Schedule::every(FLUSH_EVERY), stopped);
        Self {
            tx,
            flushes,
            stop: std::sync::Arc::new(stop),
            writer: std::sync::Arc::new(tokio::sync::Mutex::new(Some(handle))),
        }
    }

    /// Stops the writer after it has written everything queued (graceful shutdown).
    /// Entries pushed afterwards are dropped with an error in the log.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
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
