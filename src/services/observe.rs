//! Prometheus metrics (docs/src/production.md#metrics): the series Heimdall keeps,
//! recorded through the `metrics` facade (a no-op until a recorder is installed, so
//! the counting sites cost nothing when metrics are off), and the scrape, which also
//! samples what is cheapest read at scrape time (queue depths, the pool).
//!
//! Sign-ins and token issuance are counted from the audit entries that record them,
//! in one place ([`audit`]): every path that signs a user in or issues a token
//! already writes exactly one entry, so the counts cannot miss a path.

use std::{sync::OnceLock, time::Duration};

use chrono::Utc;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{services::audit::Entry, state::AppState};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds): sub-millisecond cache hits up to slow argon2 and
/// upstream calls.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder once (later calls return the same handle).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets(BUCKETS).ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics: cannot install the recorder");
                    None
                }
            }
        })
        .clone()
}

/// Drains the recorder's pending histogram samples every few seconds. The recorder
/// only folds samples into its buckets on upkeep, which nothing else runs between
/// scrapes: without this, a server whose metrics nobody scrapes (Prometheus down,
/// metrics switched on and never collected) would keep every request's sample in
/// memory.
pub fn spawn_upkeep() {
    if let Some(handle) = install() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

/// Whether a recorder is installed. Series with labels built per call (a route, an
/// app id) skip building them when nobody records: the facade alone would still
/// allocate the labels on every request.
pub fn on() -> bool {
    matches!(HANDLE.get(), Some(Some(_)))
}

/// `2xx`, `4xx`, …: the status class, as the label of request series.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One HTTP request, by matched route (never the raw path: ids would explode the
/// series), method and status class.
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    if !on() {
        return;
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status_class(status).to_owned()),
    ];
    counter!("heimdall_http_requests_total", &labels).increment(1);
    histogram!("heimdall_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
}

/// Sign-ins and issued tokens, from the audit entry that records them.
pub fn audit(entry: &Entry) {
    let grant = match entry.action {
        "user.signed_in" => {
            counter!("heimdall_signins_total", "outcome" => "success").increment(1);
            "sign_in"
        }
        "user.signin_failed" => {
            counter!("heimdall_signins_total", "outcome" => "failure").increment(1);
            return;
        }
        "mfa.challenge_failed" => {
            mfa_challenge("failure");
            return;
        }
        "session.refreshed" | "oauth.token_refreshed" => "refresh_token",
        "oauth.token_issued" => "authorization_code",
        "m2m.token_issued" => "client_credentials",
        _ => return,
    };
    if !on() {
        return;
    }
    counter!(
        "heimdall_tokens_issued_total",
        "grant_type" => grant,
        "app" => entry.app_id.to_string()
    )
    .increment(1);
}

/// A second-factor check: `success` or `failure`.
pub fn mfa_challenge(outcome: &'static str) {
    counter!("heimdall_mfa_challenges_total", "outcome" => outcome).increment(1);
}

/// A webhook delivery attempt: `succeeded`, `retrying` or `failed` (given up).
pub fn webhook_delivery(outcome: &'static str) {
    counter!("heimdall_webhook_deliveries_total", "outcome" => outcome).increment(1);
}

/// A database statement's latency (every statement through the pool).
pub fn db_query(elapsed: Duration) {
    histogram!("heimdall_db_query_duration_seconds").record(elapsed.as_secs_f64());
}

/// A cache lookup; the hit ratio is `hit / (hit + miss)`.
pub fn cache(cache: &'static str, hit: bool) {
    counter!(
        "heimdall_cache_requests_total",
        "cache" => cache,
        "result" => if hit { "hit" } else { "miss" }
    )
    .increment(1);
}

/// Samples what is read at scrape time, then renders every series. Database
/// errors leave the sampled gauges at their last values (the scrape still answers).
pub async fn render(state: &AppState, handle: &PrometheusHandle) -> String {
    use entity::{mail_outbox, webhook_delivery};
    let db = &*state.db;
    if let Ok(pending) = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(crate::services::webhooks::STATUS_PENDING))
        .count(db)
        .await
    {
        gauge!("heimdall_webhook_queue_depth").set(pending as f64);
    }
    if let Ok(oldest) = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::CreatedAt)
        .filter(webhook_delivery::Column::Status.eq(crate::services::webhooks::STATUS_PENDING))
        .order_by_asc(webhook_delivery::Column::CreatedAt)
        .into_tuple::<chrono::DateTime<Utc>>()
        .one(db)
        .await
    {
        let age = oldest.map_or(0.0, |t| {
            (state.now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        gauge!("heimdall_webhook_oldest_pending_seconds").set(age);
    }
    if let Ok(pending) = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::Status.eq("pending"))
        .count(db)
        .await
    {
        gauge!("heimdall_mail_queue_depth").set(pending as f64);
    }
    let (size, idle) = state.db.pool_usage();
    gauge!("heimdall_db_pool_connections", "state" => "in_use")
        .set((size as usize).saturating_sub(idle) as f64);
    gauge!("heimdall_db_pool_connections", "state" => "idle").set(idle as f64);
    gauge!("heimdall_argon2_queue_depth").set(state.passwords.queue_depth() as f64);
    handle.run_upkeep();
    handle.render()
}
