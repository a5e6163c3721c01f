//! The delivery worker: claims due deliveries (row locks: `FOR UPDATE SKIP LOCKED`
//! on PostgreSQL, the single writer on SQLite), POSTs them signed, and records every
//! attempt. A claim moves `next_attempt_at` out by a lease, so a delivery whose
//! worker died (crash, `kill -9`) becomes due again and is retried.
//!
//! Concurrency is bounded per instance (`HEIMDALL_WEBHOOK_CONCURRENCY`) and per
//! endpoint ([`PER_ENDPOINT`]), so a slow endpoint cannot take every slot.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use tokio::{
    sync::{Notify, OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};
use uuid::Uuid;

use super::{
    super::worker::{self, Job, Schedule},
    STATUS_FAILED, STATUS_PENDING, STATUS_SUCCEEDED, signature_header, signing_secrets,
};
use crate::{
    config::Config,
    db,
    error::Result,
    services::net::{self, PublicOnlyResolver},
    state::AppState,
};

/// Waits after the first attempt, with ±10 % jitter: about three days in all.
pub const SCHEDULE_SECS: [i64; 13] = [
    10, 60, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000, 36_000, 36_000, 36_000, 36_000,
];
/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i32 = SCHEDULE_SECS.len() as i32 + 1;
/// Deliveries of one endpoint in flight at once, per instance.
pub const PER_ENDPOINT: usize = 4;
/// How often an idle worker looks for due deliveries.
const POLL: Duration = Duration::from_secs(1);
/// How much of a response body is kept.
pub const EXCERPT_BYTES: usize = 1024;

/// The wait before attempt `attempts + 1`, given `attempts` made, with jitter.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let index = usize::try_from(Ord::max(attempts, 1) - 1)
        .unwrap_or(0)
        .min(SCHEDULE_SECS.len() - 1);
    let base_ms = SCHEDULE_SECS[index] * 1000;
    let random = crate::crypto::random_bytes(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .unwrap_or(u16::MAX / 2);
    // A factor in [0.9, 1.1).
    let jitter_ms = base_ms / 5 * i64::from(random) / 65_536 - base_ms / 10;
    chrono::Duration::milliseconds(base_ms + jitter_ms)
}

/// Webhook delivery: the shared HTTP client and the worker's coordination.
pub struct Webhooks {
    client: reqwest::Client,
    wake: Arc<Notify>,
    timeout: Duration,
    allow_private: bool,
    permits: Arc<Semaphore>,
    /// Deliveries in flight per endpoint (this instance).
    in_flight: Mutex<HashMap<Uuid, usize>>,
}

impl Webhooks {
    pub fn from_config(config: &Config) -> std::result::Result<Self, String> {
        let timeout = Duration::from_secs(config.webhook_timeout.clamp(1, 60));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(PublicOnlyResolver {
                allow_private: config.webhook_allow_private,
            })
            .user_agent(concat!("Heimdall-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Self {
            client,
            wake: Arc::new(Notify::new()),
            timeout,
            allow_private: config.webhook_allow_private,
            permits: Arc::new(Semaphore::new(config.webhook_concurrency.clamp(1, 256))),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// Asks the worker to look for due deliveries. Callers inside a transaction
    /// that has not committed yet may call it too: the worker waits a moment after
    /// a wake before it looks (and polls every second anyway).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A claim is held this long; after it a delivery is due again.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout * 2 + Duration::from_secs(5))
            .unwrap_or(chrono::Duration::seconds(25))
    }

    /// The shared HTTP client (Back-Channel Logout sends with it too).
    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(super) fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Delivery slots free on this instance now.
    pub(super) fn free_slots(&self) -> usize {
        self.permits.available_permits()
    }

    /// Waits for a delivery slot (`None` once the worker shuts down).
    pub(super) async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.ok()
    }

    fn saturated_endpoints(&self) -> Vec<Uuid> {
        self.in_flight
            .lock()
            .map(|m| {
                m.iter()
                    .filter(|(_, n)| **n >= PER_ENDPOINT)
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn in_flight_of(&self, endpoint: Uuid) -> usize {
        self.in_flight
            .lock()
            .map(|m| m.get(&endpoint).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn started(&self, endpoint: Uuid) {
        if let Ok(mut m) = self.in_flight.lock() {
            *m.entry(endpoint).or_default() += 1;
        }
    }

    fn finished(&self, endpoint: Uuid) {
        if let Ok(mut m) = self.in_flight.lock()
            && let Some(n) = m.get_mut(&endpoint)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&endpoint);
            }
        }
    }
}

/// A claimed delivery, ready to send.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub endpoint: webhook_endpoint::Model,
    pub body: String,
    /// The `traceparent` of the request that caused the event, if any.
    pub traceparent: Option<String>,
    /// The `tracestate` that came with it.
    pub tracestate: Option<String>,
}

/// Claims up to `limit` due deliveries: marks the attempt as started and holds it
/// for the lease. No endpoint gets more than [`PER_ENDPOINT`] in flight here.
pub async fn claim_due(state: &AppState, limit: u64) -> Result<Vec<Claimed>> {
    let now = state.now();
    let mut room: HashMap<Uuid, usize> = HashMap::new();
    let saturated = state.webhooks.saturated_endpoints();
    let due = || {
        let mut select = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(STATUS_PENDING))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now));
        if !saturated.is_empty() {
            select =
                select.filter(webhook_delivery::Column::EndpointId.is_not_in(saturated.clone()));
        }
        select
    };
    // A plain read first, so that an idle poll never takes SQLite's writer lock.
    if due().one(&*state.db).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = state.db.begin_write().await?;
    let mut select = due()
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(Ord::min(limit.saturating_mul(4), 256));
    if !state.db.is_sqlite() {
        // Other instances skip what this one claims (SQLite: the writer lock).
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let candidates = select.all(&txn).await?;
    let mut claimed = Vec::new();
    for delivery in candidates {
        if claimed.len() as u64 >= limit {
            break;
        }
        let free = room.entry(delivery.endpoint_id).or_insert_with(|| {
            PER_ENDPOINT.saturating_sub(state.webhooks.in_flight_of(delivery.endpoint_id))
        });
        if *free == 0 {
            continue;
        }
        *free -= 1;
        claimed.push(delivery);
    }
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = claimed.iter().map(|d| d.id).collect();
    let lease_until = now + state.webhooks.lease();
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(lease_until),
        )
        .col_expr(
            webhook_delivery::Column::Attempt,
            Expr::col(webhook_delivery::Column::Attempt).add(1),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    for d in &mut claimed {
        d.attempt += 1;
        d.next_attempt_at = Some(lease_until);
    }
    let endpoint_ids: Vec<Uuid> = claimed.iter().map(|d| d.endpoint_id).collect();
    let event_ids: Vec<Uuid> = claimed.iter().map(|d| d.event_id).collect();
    let endpoints: HashMap<Uuid, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(&*state.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    type Event = (String, Option<String>, Option<String>);
    let bodies: HashMap<Uuid, Event> = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(&*state.db)
        .await?
        .into_iter()
        .map(|e| (e.id, (e.body, e.traceparent, e.tracestate)))
        .collect();
    Ok(claimed
        .into_iter()
        .filter_map(|delivery| {
            let endpoint = endpoints.get(&delivery.endpoint_id)?.clone();
            let (body, traceparent, tracestate) = bodies.get(&delivery.event_id)?.clone();
            Some(Claimed {
                delivery,
                endpoint,
                body,
                traceparent,
                tracestate,
            })
        })
        .collect())
}

/// What one attempt observed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub latency_ms: i32,
    pub excerpt: Option<String>,
    pub error: Option<String>,
    /// Not attempted (endpoint disabled): fail without an attempt record.
    pub skipped: bool,
}

impl Outcome {
    fn acknowledged(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn error(message: impl Into<String>) -> Self {
        Self {
            error: Some(message.into()),
            ..Self::default()
        }
    }
}

pub(super) fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Sends one claimed delivery (no database writes).
pub async fn attempt(state: &AppState, claimed: &Claimed) -> Outcome {
    let hooks = &state.webhooks;
    let endpoint = &claimed.endpoint;
    if !endpoint.enabled {
        return Outcome {
            skipped: true,
            error: Some("the endpoint is disabled".into()),
            ..Outcome::default()
        };
    }
    let Ok(url) = url::Url::parse(&endpoint.url) else {
        return Outcome::error("the endpoint URL is not valid");
    };
    if !hooks.allow_private {
        if url.scheme() != "https" {
            return Outcome::error("the endpoint URL must use https");
        }
        if url.host().as_ref().is_none_or(net::is_refused_host) {
            return Outcome::error(
                "the endpoint address is private, loopback or link-local (refused)",
            );
        }
    }
    let secrets = match signing_secrets(state, endpoint) {
        Ok(secrets) => secrets,
        Err(_) => return Outcome::error("the endpoint's signing secret cannot be decrypted"),
    };
    let timestamp = state.now().timestamp();
    let event_id = claimed.delivery.event_id.to_string();
    let started = Instant::now();
    let mut request = hooks.client.post(url);
    // The event's trace continues: a new span of the request that caused it
    // (docs/src/production.md#tracing).
    let mut span = tracing::Span::none();
    if let Some(context) = claimed
        .traceparent
        .as_deref()
        .and_then(crate::trace::TraceContext::parse)
    {
        let (delivery_span, traceparent) =
            crate::trace::client_span("webhook delivery", &context, claimed.tracestate.as_deref());
        span = delivery_span;
        request = request.header("traceparent", traceparent);
        if let Some(state) = &claimed.tracestate {
            request = request.header("tracestate", state);
        }
    }
    let sent = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("x-heimdall-event-id", &event_id)
        .header("x-heimdall-event-type", &claimed.delivery.event_type)
        .header("x-heimdall-delivery-id", claimed.delivery.id.to_string())
        .header("x-heimdall-timestamp", timestamp.to_string())
        .header(
            "x-heimdall-signature",
            signature_header(&secrets, timestamp, &claimed.body),
        )
        .body(claimed.body.clone())
        .send();
    let sent = tracing::Instrument::instrument(sent, span).await;
    let mut outcome = match sent {
        Err(e) => Outcome::error(describe(&e, hooks.timeout)),
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut bytes: Vec<u8> = Vec::new();
            let mut error = None;
            while bytes.len() < EXCERPT_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(describe(&e, hooks.timeout));
                        break;
                    }
                }
            }
            bytes.truncate(EXCERPT_BYTES);
            let excerpt = String::from_utf8_lossy(&bytes).into_owned();
            Outcome {
                status: Some(status),
                excerpt: (!excerpt.is_empty()).then_some(excerpt),
                error,
                ..Outcome::default()
            }
        }
    };
    outcome.latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    outcome
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Records an attempt and moves the delivery on: succeeded, retried later, or
/// failed after the last attempt. A delivery re-claimed by someone else meanwhile
/// (its lease ran out) is left to them.
pub async fn record(state: &AppState, claimed: &Claimed, outcome: &Outcome) -> Result<()> {
    let now = state.now();
    let delivery = &claimed.delivery;
    let (status, next) = if outcome.acknowledged() {
        (STATUS_SUCCEEDED, None)
    } else if outcome.skipped || delivery.attempt >= MAX_ATTEMPTS {
        (STATUS_FAILED, None)
    } else {
        (STATUS_PENDING, Some(now + backoff(delivery.attempt)))
    };
    let error = outcome.error.as_deref().map(|e| truncate(e, 500));
    let txn = state.db.begin_write().await?;
    let updated = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            webhook_delivery::Column::ResponseStatus,
            Expr::value(outcome.status.map(i32::from)),
        )
        .col_expr(
            webhook_delivery::Column::LatencyMs,
            Expr::value((!outcome.skipped).then_some(outcome.latency_ms)),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(error.clone()),
        )
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Status.eq(STATUS_PENDING))
        .filter(webhook_delivery::Column::Attempt.eq(delivery.attempt))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 1 && !outcome.skipped {
        webhook_attempt::Entity::insert(webhook_attempt::ActiveModel {
            id: Set(db::new_id()),
            delivery_id: Set(delivery.id),
            attempt: Set(delivery.attempt),
            response_status: Set(outcome.status.map(i32::from)),
            latency_ms: Set(outcome.latency_ms),
            response_excerpt: Set(outcome.excerpt.clone()),
            error: Set(error),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    if updated.rows_affected == 1 {
        crate::services::observe::webhook_delivery(match (status, next) {
            (STATUS_SUCCEEDED, _) => "succeeded",
            (STATUS_PENDING, Some(_)) => "retrying",
            _ => "failed",
        });
    }
    Ok(())
}

async fn deliver(state: AppState, claimed: Claimed, _permit: OwnedSemaphorePermit) {
    let outcome = attempt(&state, &claimed).await;
    if let Err(error) = record(&state, &claimed, &outcome).await {
        tracing::warn!(%error, delivery_id = %claimed.delivery.id, "webhooks: recording an attempt failed");
    }
    state.webhooks.finished(claimed.endpoint.id);
}

/// Claims and sends what is due until nothing is, or no slot is free; returns how
/// many deliveries were started.
async fn dispatch(state: &AppState, tasks: &mut JoinSet<()>) -> usize {
    let mut started = 0;
    loop {
        let free = state.webhooks.permits.available_permits();
        if free == 0 {
            return started;
        }
        let claimed = match claim_due(state, free.min(64) as u64).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "webhooks: claiming due deliveries failed");
                return started;
            }
        };
        if claimed.is_empty() {
            return started;
        }
        for c in claimed {
            let Ok(permit) = state.webhooks.permits.clone().acquire_owned().await else {
                return started;
            };
            state.webhooks.started(c.endpoint.id);
            tasks.spawn(deliver(state.clone(), c, permit));
            started += 1;
        }
        while tasks.try_join_next().is_some() {}
    }
}

/// The delivery job: claims and sends what is due; deliveries run as tasks.
struct Delivery {
    state: AppState,
    tasks: JoinSet<()>,
}

impl Job for Delivery {
    async fn pass(&mut self) {
        dispatch(&self.state, &mut self.tasks).await;
        // Back-Channel Logout notices ride on the same worker and slots.
        super::backchannel::dispatch(&self.state, &mut self.tasks).await;
    }

    /// A delivery finishing frees a slot: look again.
    async fn event(&mut self) {
        if self.tasks.join_next().await.is_none() {
            std::future::pending::<()>().await;
        }
    }

    /// Deliveries in flight finish (bounded by the webhook timeout).
    async fn finish(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the worker; it stops claiming when `stop` turns true and lets the
/// deliveries in flight finish (bounded by the timeout).
pub fn spawn_worker(state: AppState, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let schedule = Schedule {
        first: Duration::ZERO,
        every: POLL,
        wake: Some(state.webhooks.wake.clone()),
        // Usually woken from inside a transaction: let it commit.
        settle: Duration::from_millis(50),
    };
    let job = Delivery {
        state,
        tasks: JoinSet::new(),
    };
    worker::spawn(job, schedule, stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_the_schedule_with_jitter() {
        for (i, base) in SCHEDULE_SECS.iter().enumerate() {
            let wait = backoff(i as i32 + 1).num_milliseconds();
            assert!(wait >= base * 900 && wait < base * 1100, "{i}: {wait}");
        }
        let total: i64 = SCHEDULE_SECS.iter().sum();
        assert!(
            (3 * 86_400 - 20_000..=3 * 86_400 + 30_000).contains(&total),
            "{total}"
        );
        assert!((32_400..39_600).contains(&backoff(100).num_seconds()));
    }

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        let header = signature_header(&["whsec_a".into(), "whsec_b".into()], 1_700_000_000, "{}");
        let parts: Vec<&str> = header.split(',').collect();
        assert_eq!(parts[0], "t=1700000000");
        assert_eq!(parts.len(), 3);
        let expected =
            crate::crypto::hex(&crate::crypto::hmac_sha256(b"whsec_a", b"1700000000.{}"));
        assert_eq!(parts[1], format!("v1={expected}"));
    }
}
