//! The dashboard's figures for one app over a time range (docs/src/console.md,
//! "Dashboard"): sign-ins and failed sign-ins per day and tokens issued per grant,
//! counted from the audit log; webhook delivery outcomes; live sessions.
//!
//! Every count is an index range scan: audit entries by `(app_id, action,
//! created_at)`, deliveries by `(app_id, created_at)`, sessions by `(app_id,
//! expires_at)` (the `stats_indexes` migration), so the cost follows the range's
//! entries of the few counted actions, not the size of the log.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use entity::{audit_entry, session, webhook_delivery};
use sea_orm::{
    ColumnTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use crate::{
    access::{AppAccess, Permission},
    error::{Error, Result},
    state::AppState,
};

/// The longest range one query may cover.
pub const MAX_DAYS: i64 = 366;
/// The range when none is given.
pub const DEFAULT_DAYS: i64 = 30;

const SIGNED_IN: &str = "user.signed_in";
const SIGNIN_FAILED: &str = "user.signin_failed";

/// The grants tokens are issued by, and the audit actions that record them.
const GRANTS: &[(&str, &[&str])] = &[
    // Consumer sign-in (password, federated, invite acceptance) returns tokens.
    ("sign_in", &[SIGNED_IN]),
    (
        "refresh_token",
        &["session.refreshed", "oauth.token_refreshed"],
    ),
    ("authorization_code", &["oauth.token_issued"]),
    ("client_credentials", &["m2m.token_issued"]),
];

/// One UTC day of the range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub day: NaiveDate,
    pub sign_ins: u64,
    pub failed_sign_ins: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every day from `from` to `to`, zeros included.
    pub days: Vec<Day>,
    /// `(grant, count)` for every grant, zeros included.
    pub tokens_issued: Vec<(&'static str, u64)>,
    pub webhooks_succeeded: u64,
    pub webhooks_failed: u64,
    pub webhooks_pending: u64,
    /// Sessions neither revoked nor expired now.
    pub active_sessions: u64,
}

impl Stats {
    /// Succeeded over finished deliveries; `None` when none finished.
    pub fn webhook_success_rate(&self) -> Option<f64> {
        let finished = self.webhooks_succeeded + self.webhooks_failed;
        (finished > 0).then(|| self.webhooks_succeeded as f64 / finished as f64)
    }
}

/// The UTC day of a stored timestamp, as `YYYY-MM-DD`. SQLite stores timestamps
/// as RFC 3339 text in UTC, whose first ten characters are the day.
fn day_expr(backend: DatabaseBackend) -> Expr {
    match backend {
        DatabaseBackend::Postgres => {
            Expr::cust("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
        }
        _ => Expr::cust("substr(created_at, 1, 10)"),
    }
}

/// The figures of `access`'s app over `[from, to)` (default: the last 30 days).
/// Needs `audit.read` (it is read from the audit log).
pub async fn stats(
    state: &AppState,
    access: &AppAccess,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Stats> {
    access.require(&[Permission::AUDIT_READ])?;
    let now = state.now();
    let to = to.unwrap_or(now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
    if from >= to {
        return Err(Error::invalid_field("from", "must be before `to`"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(Error::invalid_field(
            "from",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    let app_id = access.app().id;
    let db = &*state.db;
    let in_range = || {
        audit_entry::Entity::find()
            .filter(audit_entry::Column::AppId.eq(app_id))
            .filter(audit_entry::Column::CreatedAt.gte(from))
            .filter(audit_entry::Column::CreatedAt.lt(to))
    };

    let mut days: Vec<Day> = Vec::new();
    let mut day = from.date_naive();
    while day <= (to - Duration::milliseconds(1)).date_naive() {
        days.push(Day {
            day,
            sign_ins: 0,
            failed_sign_ins: 0,
        });
        day = match day.checked_add_days(Days::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
    for action in [SIGNED_IN, SIGNIN_FAILED] {
        let rows: Vec<(String, i64)> = in_range()
            .filter(audit_entry::Column::Action.eq(action))
            .select_only()
            .column_as(day_expr(state.db.backend()), "day")
            .column_as(audit_entry::Column::Id.count(), "n")
            .group_by(day_expr(state.db.backend()))
            .into_tuple()
            .all(db)
            .await?;
        for (text, n) in rows {
            let Ok(date) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") else {
                continue;
            };
            if let Some(entry) = days.iter_mut().find(|d| d.day == date) {
                let n = u64::try_from(n).unwrap_or_default();
                if action == SIGNED_IN {
                    entry.sign_ins = n;
                } else {
                    entry.failed_sign_ins = n;
                }
            }
        }
    }

    let mut tokens_issued = Vec::with_capacity(GRANTS.len());
    for (grant, actions) in GRANTS {
        let count = in_range()
            .filter(audit_entry::Column::Action.is_in(actions.iter().copied()))
            .count(db)
            .await?;
        tokens_issued.push((*grant, count));
    }

    let deliveries: Vec<(String, i64)> = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::AppId.eq(app_id))
        .filter(webhook_delivery::Column::CreatedAt.gte(from))
        .filter(webhook_delivery::Column::CreatedAt.lt(to))
        .select_only()
        .column(webhook_delivery::Column::Status)
        .column_as(webhook_delivery::Column::Id.count(), "n")
        .group_by(webhook_delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let delivered = |status: &str| {
        deliveries
            .iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| u64::try_from(*n).unwrap_or_default())
            .sum::<u64>()
    };

    let active_sessions = session::Entity::find()
        .filter(session::Column::AppId.eq(app_id))
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::RevokedAt.is_null())
        .count(db)
        .await?;

    Ok(Stats {
        from,
        to,
        days,
        tokens_issued,
        webhooks_succeeded: delivered("succeeded"),
        webhooks_failed: delivered("failed"),
        webhooks_pending: delivered("pending"),
        active_sessions,
    })
}
