//! The retention task: removes what no request can use any more, so that tables
//! stop growing with traffic. Runs on every instance a minute after start and then
//! hourly; each step is its own short transaction and deleting rows another instance
//! already removed removes nothing, so instances need no coordination.
//!
//! - audit entries older than their app's `audit_retention_days`;
//! - delivered webhook events older than 30 days;
//! - expired single-use or short-lived artefacts a day after they expired (OAuth
//!   requests, codes and tokens, hosted-page browser sessions, federation states,
//!   refresh tokens, throttle windows);
//! - sessions 30 days after they expired or were revoked, and account tokens
//!   (verification, reset) and invites 30 days after they expired.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{
    account_token, auth_throttle, federation_state, invite, oauth_code, oauth_request, oauth_token,
    refresh_token, session, web_session,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::watch;

use crate::services::worker::{self, Job, Schedule};
use crate::{error::Result, state::AppState};

/// How long expired short-lived artefacts are kept (so that a late replay still
/// meets its row and is answered as expired or reused, not as unknown).
pub const EXPIRED_GRACE: Duration = Duration::days(1);
/// How long ended sessions, used account tokens and expired invites stay visible.
pub const ENDED_GRACE: Duration = Duration::days(30);

async fn delete_before<E: EntityTrait>(
    state: &AppState,
    column: E::Column,
    cutoff: DateTime<Utc>,
) -> Result<u64> {
    let txn = state.db.begin_write().await?;
    let result = E::delete_many()
        .filter(column.lt(cutoff))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(result.rows_affected)
}

/// Removes expired artefacts and ended sessions; returns how many rows went.
pub async fn purge_expired_artifacts(state: &AppState) -> Result<u64> {
    let now = state.now();
    let expired = now - EXPIRED_GRACE;
    let ended = now - ENDED_GRACE;
    let mut removed = 0;
    removed +=
        delete_before::<oauth_request::Entity>(state, oauth_request::Column::ExpiresAt, expired)
            .await?;
    removed +=
        delete_before::<oauth_code::Entity>(state, oauth_code::Column::ExpiresAt, expired).await?;
    removed += delete_before::<oauth_token::Entity>(state, oauth_token::Column::ExpiresAt, expired)
        .await?;
    removed += delete_before::<web_session::Entity>(state, web_session::Column::ExpiresAt, expired)
        .await?;
    removed += delete_before::<federation_state::Entity>(
        state,
        federation_state::Column::ExpiresAt,
        expired,
    )
    .await?;
    removed +=
        delete_before::<refresh_token::Entity>(state, refresh_token::Column::ExpiresAt, expired)
            .await?;
    removed +=
        delete_before::<auth_throttle::Entity>(state, auth_throttle::Column::WindowStart, expired)
            .await?;
    removed +=
        delete_before::<account_token::Entity>(state, account_token::Column::ExpiresAt, ended)
            .await?;
    removed += delete_before::<invite::Entity>(state, invite::Column::ExpiresAt, ended).await?;

    // Sessions that ended a month ago, children first (the same on both databases,
    // whatever their cascade settings).
    let txn = state.db.begin_write().await?;
    let ended_sessions = Condition::any()
        .add(session::Column::ExpiresAt.lt(ended))
        .add(session::Column::RevokedAt.lt(ended));
    let ids: Vec<uuid::Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(ended_sessions)
        .limit(1000)
        .into_tuple()
        .all(&txn)
        .await?;
    if !ids.is_empty() {
        refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::SessionId.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        web_session::Entity::delete_many()
            .filter(web_session::Column::SessionId.is_in(ids.clone()))
            .exec(&txn)
            .await?;
        removed += session::Entity::delete_many()
            .filter(session::Column::Id.is_in(ids))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(removed)
}

/// How often the retention task runs.
const EVERY: StdDuration = StdDuration::from_secs(3600);

struct Retention(AppState);

impl Job for Retention {
    async fn pass(&mut self) {
        run_once(&self.0).await;
    }
}

/// Runs every retention job shortly after start and then hourly, until `stop`.
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let schedule = Schedule {
        first: StdDuration::from_secs(60),
        ..Schedule::every(EVERY)
    };
    worker::spawn(Retention(state), schedule, stop)
}

/// One pass of every job; failures are logged and retried on the next pass.
pub async fn run_once(state: &AppState) {
    match crate::services::audit_log::purge_expired(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "removed audit entries past retention"),
        Err(e) => tracing::warn!(error = %e, "audit retention failed"),
    }
    match crate::services::webhooks::purge_old_events(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, "removed old webhook events"),
        Err(e) => tracing::warn!(error = %e, "webhook event retention failed"),
    }
    match purge_expired_artifacts(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "removed expired tokens and ended sessions"),
        Err(e) => tracing::warn!(error = %e, "token retention failed"),
    }
}
