//! Delivery of OpenID Connect Back-Channel Logout notices (queued by
//! `services::oauth::backchannel::queue`) by the webhook worker: the same claim
//! with a lease (a notice whose sender died is due again), the same HTTP client
//! (no private addresses unless `HEIMDALL_WEBHOOK_ALLOW_PRIVATE`, no redirects, the
//! webhook timeout), the same retry schedule and the same concurrency bound.
//! Each attempt POSTs a freshly signed `logout_token` as a form.

use entity::backchannel_logout;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde_json::json;
use tokio::{sync::OwnedSemaphorePermit, task::JoinSet};
use uuid::Uuid;

use super::{
    STATUS_FAILED, STATUS_PENDING, STATUS_SUCCEEDED,
    worker::{MAX_ATTEMPTS, backoff, describe},
};
use crate::{
    access::Actor,
    error::Result,
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        net,
        oauth::backchannel,
    },
    state::AppState,
};

/// A claimed notice with where it goes.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub notice: backchannel_logout::Model,
    pub uri: Option<String>,
}

/// Claims up to `limit` due notices (marks the attempt started and holds it for the
/// webhook lease).
pub async fn claim_due(state: &AppState, limit: u64) -> Result<Vec<Claimed>> {
    let now = state.now();
    let due = || {
        backchannel_logout::Entity::find()
            .filter(backchannel_logout::Column::Status.eq(STATUS_PENDING))
            .filter(backchannel_logout::Column::NextAttemptAt.lte(now))
    };
    // A plain read first, so that an idle poll never takes SQLite's writer lock.
    if due().one(&*state.db).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = state.db.begin_write().await?;
    let mut select = due()
        .order_by_asc(backchannel_logout::Column::NextAttemptAt)
        .order_by_asc(backchannel_logout::Column::Id)
        .limit(limit.clamp(1, 64));
    if !state.db.is_sqlite() {
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut claimed = select.all(&txn).await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = claimed.iter().map(|n| n.id).collect();
    let lease_until = now + state.webhooks.lease();
    backchannel_logout::Entity::update_many()
        .col_expr(
            backchannel_logout::Column::NextAttemptAt,
            Expr::value(lease_until),
        )
        .col_expr(
            backchannel_logout::Column::Attempt,
            Expr::col(backchannel_logout::Column::Attempt).add(1),
        )
        .col_expr(backchannel_logout::Column::UpdatedAt, Expr::value(now))
        .filter(backchannel_logout::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let client_ids: Vec<Uuid> = claimed.iter().map(|n| n.client_id).collect();
    let clients = entity::oauth_client::Entity::find()
        .filter(entity::oauth_client::Column::Id.is_in(client_ids))
        .all(&*state.db)
        .await?;
    Ok(claimed
        .drain(..)
        .map(|mut notice| {
            notice.attempt += 1;
            notice.next_attempt_at = Some(lease_until);
            let uri = clients
                .iter()
                .find(|c| c.id == notice.client_id && c.is_active)
                .and_then(|c| c.backchannel_logout_uri.clone());
            Claimed { notice, uri }
        })
        .collect())
}

/// What one attempt observed.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Not attempted (the client is gone, inactive or has no URI any more).
    pub skipped: bool,
}

/// Sends one claimed notice (no database writes).
pub async fn attempt(state: &AppState, claimed: &Claimed) -> Outcome {
    let hooks = &state.webhooks;
    let error = |message: &str| Outcome {
        error: Some(message.to_owned()),
        ..Outcome::default()
    };
    let Some(uri) = &claimed.uri else {
        return Outcome {
            skipped: true,
            error: Some("the client is inactive or has no backchannel_logout_uri".into()),
            ..Outcome::default()
        };
    };
    let Ok(url) = url::Url::parse(uri) else {
        return error("the backchannel_logout_uri is not valid");
    };
    if !hooks.allows_private() {
        if url.scheme() != "https" {
            return error("the backchannel_logout_uri must use https");
        }
        if url.host().as_ref().is_none_or(net::is_refused_host) {
            return error("the backchannel_logout_uri address is private, loopback or link-local");
        }
    }
    let token = match backchannel::logout_token(state, &claimed.notice).await {
        Ok(token) => token,
        Err(e) => return error(&format!("the logout token could not be signed: {e}")),
    };
    let sent = hooks
        .client()
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!("logout_token={token}"))
        .send()
        .await;
    match sent {
        Err(e) => error(&describe(&e, hooks.timeout())),
        Ok(response) => Outcome {
            status: Some(response.status().as_u16()),
            ..Outcome::default()
        },
    }
}

/// Records an attempt: succeeded (2xx), retried on the webhook schedule, or failed
/// after the last attempt (with a `oauth.backchannel_logout_failed` audit entry).
pub async fn record(state: &AppState, claimed: &Claimed, outcome: &Outcome) -> Result<()> {
    let now = state.now();
    let notice = &claimed.notice;
    let acknowledged = outcome.status.is_some_and(|s| (200..300).contains(&s));
    let (status, next) = if acknowledged {
        (STATUS_SUCCEEDED, None)
    } else if outcome.skipped || notice.attempt >= MAX_ATTEMPTS {
        (STATUS_FAILED, None)
    } else {
        (STATUS_PENDING, Some(now + backoff(notice.attempt)))
    };
    let error = outcome
        .error
        .as_deref()
        .map(|e| e.chars().take(500).collect::<String>())
        .or_else(|| {
            outcome
                .status
                .filter(|_| !acknowledged)
                .map(|s| format!("answered {s}"))
        });
    let txn = state.db.begin_write().await?;
    let updated = backchannel_logout::Entity::update_many()
        .col_expr(backchannel_logout::Column::Status, Expr::value(status))
        .col_expr(backchannel_logout::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            backchannel_logout::Column::ResponseStatus,
            Expr::value(outcome.status.map(i32::from)),
        )
        .col_expr(
            backchannel_logout::Column::LastError,
            Expr::value(error.clone()),
        )
        .col_expr(backchannel_logout::Column::UpdatedAt, Expr::value(now))
        .filter(backchannel_logout::Column::Id.eq(notice.id))
        .filter(backchannel_logout::Column::Status.eq(STATUS_PENDING))
        .filter(backchannel_logout::Column::Attempt.eq(notice.attempt))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 1 && status != STATUS_PENDING {
        let action = if status == STATUS_SUCCEEDED {
            "oauth.backchannel_logout_sent"
        } else {
            "oauth.backchannel_logout_failed"
        };
        audit::record(
            &txn,
            state,
            &RequestMeta::default(),
            Entry::new(
                notice.app_id,
                action,
                Actor {
                    kind: "system",
                    id: "webhooks".into(),
                },
            )
            .target(Target::new("oauth_client", notice.client_id))
            .metadata(json!({
                "logout_id": notice.id,
                "session_id": notice.session_id,
                "user_id": notice.user_id,
                "attempts": notice.attempt,
                "response_status": outcome.status,
                "error": error,
            })),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn deliver(state: AppState, claimed: Claimed, _permit: OwnedSemaphorePermit) {
    let outcome = attempt(&state, &claimed).await;
    if let Err(error) = record(&state, &claimed, &outcome).await {
        tracing::warn!(%error, logout_id = %claimed.notice.id, "back-channel logout: recording an attempt failed");
    }
}

/// Claims and sends what is due while slots are free; returns how many started.
pub async fn dispatch(state: &AppState, tasks: &mut JoinSet<()>) -> usize {
    let mut started = 0;
    loop {
        let free = state.webhooks.free_slots();
        if free == 0 {
            return started;
        }
        let claimed = match claim_due(state, free.min(64) as u64).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "back-channel logout: claiming due notices failed");
                return started;
            }
        };
        if claimed.is_empty() {
            return started;
        }
        for c in claimed {
            let Some(permit) = state.webhooks.slot().await else {
                return started;
            };
            tasks.spawn(deliver(state.clone(), c, permit));
            started += 1;
        }
    }
}
