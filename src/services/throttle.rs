//! Brute-force throttling: failure counters in fixed windows, kept in the database so
//! that every instance behind a load balancer sees the same counts.

use chrono::{DateTime, Duration, Utc};
use entity::auth_throttle;
use sea_orm::{
    ActiveValue::Set,
    EntityTrait,
    sea_query::{Alias, Expr, OnConflict},
};

use crate::{
    error::{Error, Result},
    state::AppState,
};

/// A limit: at most `max_failures` within `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: i32,
    pub window: Duration,
}

/// Failed sign-ins per account (app + email).
pub const SIGNIN_ACCOUNT: Limit = Limit {
    max_failures: 10,
    window: Duration::minutes(15),
};
/// Failed sign-ins per client IP (per app).
pub const SIGNIN_IP: Limit = Limit {
    max_failures: 50,
    window: Duration::minutes(15),
};
/// Failed client authentications per client id (M2M and OAuth clients).
pub const CLIENT_AUTH: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
};
/// Failed client authentications per client IP (per app).
pub const CLIENT_AUTH_IP: Limit = Limit {
    max_failures: 100,
    window: Duration::minutes(15),
};

/// Keys that failed recently on this instance. Hot paths (the token endpoint, at
/// thousands of requests per second) consult the database counters only for such
/// keys: an attacker hitting several instances produces failures, and hints, on each.
#[derive(Clone)]
pub struct Hints {
    recent: moka::future::Cache<String, ()>,
}

impl Default for Hints {
    fn default() -> Self {
        Self::new()
    }
}

impl Hints {
    pub fn new() -> Self {
        Self {
            recent: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(15 * 60))
                .build(),
        }
    }
}

/// [`check`] for hot paths: free unless this instance saw a failure for `key`.
pub async fn check_hinted(state: &AppState, key: &str, limit: Limit) -> Result<()> {
    if state.throttle_hints.recent.contains_key(key) {
        check(state, key, limit).await?;
    }
    Ok(())
}

/// [`fail`] for hot paths: counts the failure and remembers the key locally.
pub async fn fail_hinted(state: &AppState, key: &str, limit: Limit) -> Result<()> {
    state.throttle_hints.recent.insert(key.to_owned(), ()).await;
    fail(state, key, limit).await
}

fn retry_after(window_start: DateTime<Utc>, limit: Limit, now: DateTime<Utc>) -> u64 {
    ((window_start + limit.window) - now).num_seconds().max(1) as u64
}

/// 429 when `key` has reached its limit in the current window. Returns whether
/// failures are on record, so that a success knows whether there is anything to clear.
pub async fn check(state: &AppState, key: &str, limit: Limit) -> Result<bool> {
    let now = state.now();
    let row = auth_throttle::Entity::find_by_id(key.to_owned())
        .one(&*state.db)
        .await?;
    if let Some(row) = &row
        && row.window_start + limit.window > now
        && row.failures >= limit.max_failures
    {
        return Err(Error::RateLimited {
            retry_after: retry_after(row.window_start, limit, now),
        });
    }
    Ok(row.is_some())
}

/// Counts one failure against `key`, in one atomic upsert: concurrent failures for
/// a key with no row yet neither collide on the primary key nor undercount. A row
/// whose window has passed starts a new window at one failure.
pub async fn fail(state: &AppState, key: &str, limit: Limit) -> Result<()> {
    use sea_orm::sea_query::ExprTrait;
    let now = state.now();
    let cutoff = now - limit.window;
    let current =
        || Expr::col((auth_throttle::Entity, auth_throttle::Column::WindowStart)).gt(cutoff);
    let failures = Expr::case(
        current(),
        Expr::col((auth_throttle::Entity, auth_throttle::Column::Failures)).add(1),
    )
    .finally(1);
    let window_start = Expr::case(
        current(),
        Expr::col((auth_throttle::Entity, auth_throttle::Column::WindowStart)),
    )
    .finally(Expr::col((
        Alias::new("excluded"),
        auth_throttle::Column::WindowStart,
    )));
    let txn = state.db.begin_write().await?;
    auth_throttle::Entity::insert(auth_throttle::ActiveModel {
        key: Set(key.to_owned()),
        window_start: Set(now),
        failures: Set(1),
    })
    .on_conflict(
        OnConflict::column(auth_throttle::Column::Key)
            // `failures` first: both CASEs read the row as it was before the update.
            .value(auth_throttle::Column::Failures, failures)
            .value(auth_throttle::Column::WindowStart, window_start)
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Clears `key` (after a success).
pub async fn clear(state: &AppState, key: &str) -> Result<()> {
    let txn = state.db.begin_write().await?;
    auth_throttle::Entity::delete_by_id(key.to_owned())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
