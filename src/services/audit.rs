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
    crate::services::observe::audit(&entry);
    // Webhook events also go to the outbox, in this same transaction.
    crate::services::webhooks::outbox::emit(conn, state, &entry, now).await?;
    audit_entry::ActiveModel {
        id: Set(db::new_id_at(now)),
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
/// second), written by group commit: a request queues its entry and waits; the
/// writer inserts everything queued in one multi-row statement and then answers
/// every request in the batch. Under load one write serves many requests, and no
/// request is answered before its entry is in the database.
#[derive(Clone)]
pub struct AuditBuffer {
    tx: tokio::sync::mpsc::Sender<Pending>,
    flushes: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
    stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    writer: std::sync::Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// At the latest, queued entries are written this often (the writer also writes
/// whenever its queue is drained, which under light load is at once).
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Rows per insert statement.
pub const BATCH: usize = 500;
struct Pending {
    model: audit_entry::ActiveModel,
    /// Told whether the entry was written.
    written: tokio::sync::oneshot::Sender<bool>,
}

/// The writer: collects entries and writes a batch when it is full, when the queue
/// is drained, on a flush request, and at the latest every [`FLUSH_EVERY`].
struct Writer {
    db: crate::db::Db,
    rx: tokio::sync::mpsc::Receiver<Pending>,
    flush_rx: tokio::sync::mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
    batch: Vec<Pending>,
    waiters: Vec<tokio::sync::oneshot::Sender<()>>,
    closed: bool,
    /// Entries in the last batch written: more than one means requests are arriving
    /// concurrently, and the next batch waits a scheduler round for them.
    last_batch: usize,
}

/// Scheduler rounds the writer yields under load before writing, so that the
/// requests already runnable queue their entries first. Each commit writes every
/// b-tree page it touches (the table and its indexes: six pages of the log) whether
/// it holds one entry or fifty; measured on one core under client_credentials load,
/// batches grew from a few entries to dozens and the writer's share of the core
/// fell by half. No timer: a yield costs microseconds, never a millisecond tick.
const LINGER_ROUNDS: usize = 2;

impl Writer {
    fn drain(&mut self) {
        while let Ok(p) = self.rx.try_recv() {
            self.batch.push(p);
        }
    }

    async fn write(&mut self) {
        if self.last_batch > 1 && !self.closed {
            for _ in 0..LINGER_ROUNDS {
                if self.batch.len() >= BATCH {
                    break;
                }
                tokio::task::yield_now().await;
                self.drain();
            }
        }
        let batch = std::mem::take(&mut self.batch);
        self.last_batch = batch.len();
        let mut pending = batch.into_iter().peekable();
        while pending.peek().is_some() {
            let (models, answers): (Vec<_>, Vec<_>) = pending
                .by_ref()
                .take(BATCH)
                .map(|p| (p.model, p.written))
                .unzip();
            let written = write_batch(&self.db, models).await;
            for answer in answers {
                let _ = answer.send(written);
            }
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
        if due && (!self.batch.is_empty() || !self.waiters.is_empty()) {
            self.write().await;
        }
    }

    async fn event(&mut self) {
        if self.closed {
            return std::future::pending().await;
        }
        tokio::select! {
            received = self.rx.recv() => match received {
                Some(p) => {
                    self.batch.push(p);
                    // Group commit: whatever arrived while the previous batch was
                    // being written joins this one (and, under load, what arrives
                    // within LINGER_ROUNDS scheduler rounds).
                    self.drain();
                }
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
            last_batch: 0,
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
    /// Entries pushed afterwards are refused (503).
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
    }

    /// Records an entry and returns once it is written (with the others of its
    /// batch). 503 `unavailable` when it could not be written: the request that
    /// caused it must not be answered as a success.
    pub async fn push(&self, state: &AppState, meta: &RequestMeta, entry: Entry) -> Result<()> {
        let now = state.now();
        crate::services::observe::audit(&entry);
        let model = audit_entry::ActiveModel {
            id: Set(db::new_id_at(now)),
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
        };
        let unavailable =
            || crate::error::Error::Unavailable("the audit log cannot be written".into());
        let (written, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send(Pending { model, written })
            .await
            .map_err(|_| unavailable())?;
        match answer.await {
            Ok(true) => Ok(()),
            _ => Err(unavailable()),
        }
    }

    /// Waits until everything queued so far is written (tests, shutdown).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.flushes.send(tx).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// One multi-row insert, atomic as a single statement (one round trip to the
/// database, none for `BEGIN`/`COMMIT`); whether it was written.
async fn write_batch(db: &crate::db::Db, batch: Vec<audit_entry::ActiveModel>) -> bool {
    use sea_orm::EntityTrait;
    let entries = batch.len();
    let result = async {
        let (_lock, conn) = db.writer().await;
        audit_entry::Entity::insert_many(batch)
            .exec_without_returning(conn)
            .await?;
        Ok::<_, crate::error::Error>(())
    }
    .await;
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = ?e, entries, "writing audit entries failed");
            false
        }
    }
}
