//! Cache invalidation across instances. Every per-instance cache drops an entry on
//! this instance's own writes and publishes what changed; on PostgreSQL the change
//! goes out with `NOTIFY` on one channel and every other instance drops the same
//! entries when it hears it (within milliseconds). A listener that loses its
//! connection flushes every cache once it listens again, since it may have missed
//! changes meanwhile. SQLite is single-instance: publishing is a no-op there.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::{db::Db, state::AppState};

/// The `NOTIFY` channel.
pub const CHANNEL: &str = "heimdall_cache";
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_PAYLOAD: usize = 7_500;

/// What changed, as far as caches are concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// An app's row (settings, name) or its existence.
    App { id: Uuid, name: String },
    /// A machine client (secret rotation, scopes, deletion).
    M2mClient { client_id: String },
    /// Sessions revoked or changed (their user deactivated, their tenant cleared).
    Sessions { ids: Vec<Uuid> },
    /// Roles, role assignments or memberships of an app.
    Authz { app_id: Uuid },
    /// An app's signing keys (rotation, deletion).
    SigningKeys { app_id: Uuid, kids: Vec<String> },
}

#[derive(Serialize, Deserialize)]
struct Message {
    from: Uuid,
    changes: Vec<Change>,
}

/// The publishing side, held by every cache.
#[derive(Clone, Debug)]
pub struct Bus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    instance: Uuid,
    tx: Option<mpsc::UnboundedSender<Change>>,
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Change>>>,
}

impl Bus {
    /// A bus for `db`: it publishes on PostgreSQL and does nothing on SQLite.
    pub fn new(db: &Db) -> Self {
        let (tx, rx) = if db.is_sqlite() {
            (None, None)
        } else {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        };
        Self {
            inner: Arc::new(Inner {
                instance: Uuid::new_v4(),
                tx,
                rx: std::sync::Mutex::new(rx),
            }),
        }
    }

    /// A bus that never publishes (tools that build a state without serving).
    pub fn local() -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: Uuid::new_v4(),
                tx: None,
                rx: std::sync::Mutex::new(None),
            }),
        }
    }

    /// Tells the other instances (after this instance has applied it itself).
    pub fn publish(&self, change: Change) {
        if let Some(tx) = &self.inner.tx {
            let _ = tx.send(change);
        }
    }

    fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Change>> {
        match self.inner.rx.lock() {
            Ok(mut rx) => rx.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// Drops what `change` names from this instance's caches (without publishing).
pub async fn apply(state: &AppState, change: &Change) {
    match change {
        Change::App { id, name } => state.apps.apply(*id, name).await,
        Change::M2mClient { client_id } => state.m2m.apply(client_id).await,
        Change::Sessions { ids } => state.sessions.apply(ids).await,
        Change::Authz { app_id } => state.authz.apply(*app_id),
        Change::SigningKeys { app_id, kids } => state.signing.apply(*app_id, kids).await,
    }
}

/// Drops everything every cache holds (after a gap in listening).
pub fn flush_all(state: &AppState) {
    state.apps.flush();
    state.m2m.flush();
    state.sessions.flush();
    state.authz.flush();
    state.signing.flush();
}

/// Starts the publisher and the listener (PostgreSQL only); both end with `stop`.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let Some(rx) = state.bus.take_receiver() else {
        return Vec::new();
    };
    vec![
        tokio::spawn(publish_loop(state.clone(), rx, stop.clone())),
        tokio::spawn(listen_loop(state, stop)),
    ]
}

fn payloads(from: Uuid, changes: Vec<Change>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<Change> = Vec::new();
    for change in changes {
        current.push(change);
        let text = serde_json::to_string(&Message {
            from,
            changes: current.clone(),
        })
        .unwrap_or_default();
        if text.len() > MAX_PAYLOAD {
            match current.len() {
                // One change too large on its own (thousands of sessions): everyone
                // flushes that kind instead.
                1 => {
                    out.push(String::new());
                    current.clear();
                }
                _ => {
                    let last = current.pop();
                    out.push(
                        serde_json::to_string(&Message {
                            from,
                            changes: std::mem::take(&mut current),
                        })
                        .unwrap_or_default(),
                    );
                    current.extend(last);
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(
            serde_json::to_string(&Message {
                from,
                changes: current,
            })
            .unwrap_or_default(),
        );
    }
    out
}

async fn publish_loop(
    state: AppState,
    mut rx: mpsc::UnboundedReceiver<Change>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            change = rx.recv() => change,
            _ = stop.changed() => None,
        };
        let Some(first) = first else { break };
        let mut changes = vec![first];
        while let Ok(more) = rx.try_recv() {
            changes.push(more);
        }
        notify(&state, changes).await;
    }
}

async fn notify(state: &AppState, changes: Vec<Change>) {
    use sea_orm::{ConnectionTrait, Statement};
    for payload in payloads(state.bus.inner.instance, changes) {
        // An empty payload asks every listener for a full flush.
        let statement = Statement::from_sql_and_values(
            state.db.backend(),
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        if let Err(error) = state.db.execute_raw(statement).await {
            tracing::warn!(%error, "cache invalidation: NOTIFY failed; other instances catch up when their caches expire");
        }
    }
}

/// Sends what this process published and has not sent yet, without the publisher
/// loop: for a command-line process that ends right after its change, so that the
/// running instances drop what it changed (PostgreSQL; nothing on SQLite).
pub async fn publish_pending(state: &AppState) {
    let Some(mut rx) = state.bus.take_receiver() else {
        return;
    };
    let mut changes = Vec::new();
    while let Ok(change) = rx.try_recv() {
        changes.push(change);
    }
    if !changes.is_empty() {
        notify(state, changes).await;
    }
}

async fn listen_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    use sqlx::postgres::PgListener;
    let pool = state.db.get_postgres_connection_pool().clone();
    loop {
        if *stop.borrow() {
            return;
        }
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        match listening {
            Ok(mut listener) => {
                // Whatever was cached before this point may have missed changes.
                flush_all(&state);
                loop {
                    let received = tokio::select! {
                        received = listener.try_recv() => received,
                        _ = stop.changed() => return,
                    };
                    match received {
                        Ok(Some(notification)) => handle(&state, notification.payload()).await,
                        Ok(None) | Err(_) => {
                            tracing::warn!(
                                "cache invalidation: lost the LISTEN connection; reconnecting"
                            );
                            flush_all(&state);
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, "cache invalidation: cannot LISTEN yet");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn handle(state: &AppState, payload: &str) {
    if payload.is_empty() {
        flush_all(state);
        return;
    }
    match serde_json::from_str::<Message>(payload) {
        Ok(message) if message.from == state.bus.inner.instance => {}
        Ok(message) => {
            for change in &message.changes {
                apply(state, change).await;
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cache invalidation: unreadable notification; flushing");
            flush_all(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_keep_every_change() {
        let from = Uuid::new_v4();
        let changes: Vec<Change> = (0..500)
            .map(|i| Change::M2mClient {
                client_id: format!("m2m_{i:040}"),
            })
            .collect();
        let out = payloads(from, changes.clone());
        assert!(out.len() > 1);
        let mut seen = Vec::new();
        for payload in &out {
            assert!(payload.len() <= MAX_PAYLOAD, "{}", payload.len());
            let message: Message = serde_json::from_str(payload).unwrap();
            seen.extend(message.changes);
        }
        assert_eq!(seen, changes);
        let huge = Change::Sessions {
            ids: (0..1000).map(|_| Uuid::new_v4()).collect(),
        };
        assert_eq!(payloads(from, vec![huge]), vec![String::new()]);
    }
}
