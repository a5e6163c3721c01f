//! Reading the audit log (docs/src/webhooks-and-audit-log.md) and its retention. Entries are written by
//! [`crate::services::audit`]; nothing here changes or deletes an entry except the
//! retention task, which removes entries older than the app's `audit_retention_days`.

use chrono::{DateTime, Utc};
use entity::{app, audit_entry};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::LikeExpr};
use uuid::Uuid;

use crate::{
    access::{AppAccess, Permission},
    db::{self, Page, PageRequest},
    error::{Error, Result},
    services::apps::AppSettings,
    state::AppState,
};

/// Filters of `GET …/audit-log` and GraphQL `auditLog`, as received.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// An action (`user.created`) or a family (`user.*`).
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    /// RFC 3339; entries at or after this instant.
    pub since: Option<String>,
    /// RFC 3339; entries before this instant.
    pub until: Option<String>,
}

fn instant(field: &str, value: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::invalid_field(
                field,
                "must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z",
            )
        })
}

fn text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            format!("must be 1 to {max} printable characters"),
        ));
    }
    Ok(value.to_owned())
}

/// The app's entries matching `filter`, newest first, with a cursor (`audit.read`).
pub async fn list(
    state: &AppState,
    access: &AppAccess,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<audit_entry::Model>> {
    access.require(&[Permission::AUDIT_READ])?;
    let app_id = access.app().id;
    let mut select = audit_entry::Entity::find().filter(audit_entry::Column::AppId.eq(app_id));
    if let Some(action) = &filter.action {
        // Actions are lower case; folding the filter keeps both databases alike
        // (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
        let action = text("action", action, 64)?.to_ascii_lowercase();
        select = match action.strip_suffix('*') {
            Some("") => select,
            Some(prefix) => {
                if !prefix.ends_with('.') || prefix.contains('*') {
                    return Err(Error::invalid_field(
                        "action",
                        "a family is written like `user.*`",
                    ));
                }
                // `_` (as in `m2m_client.*`) and `%` are literal here, not wildcards.
                let pattern = prefix
                    .replace('!', "!!")
                    .replace('%', "!%")
                    .replace('_', "!_");
                select.filter(
                    audit_entry::Column::Action
                        .like(LikeExpr::new(format!("{pattern}%")).escape('!')),
                )
            }
            None => select.filter(audit_entry::Column::Action.eq(action)),
        };
    }
    if let Some(actor_id) = &filter.actor_id {
        select = select.filter(audit_entry::Column::ActorId.eq(text("actor_id", actor_id, 128)?));
    }
    if let Some(target_id) = &filter.target_id {
        select =
            select.filter(audit_entry::Column::TargetId.eq(text("target_id", target_id, 128)?));
    }
    let since = filter
        .since
        .as_deref()
        .map(|s| instant("since", s))
        .transpose()?;
    let until = filter
        .until
        .as_deref()
        .map(|s| instant("until", s))
        .transpose()?;
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(Error::invalid_field("until", "must not be before since"));
    }
    // Entry ids are v7 ids of their `created_at`: a time window is also a range of
    // ids, which the (app, id) index serves newest first without sorting.
    if let Some(since) = since {
        select = select
            .filter(audit_entry::Column::Id.gte(db::first_id_at(since)))
            .filter(audit_entry::Column::CreatedAt.gte(since));
    }
    if let Some(until) = until {
        select = select
            .filter(
                audit_entry::Column::Id
                    .lt(db::first_id_at(until + chrono::Duration::milliseconds(1))),
            )
            .filter(audit_entry::Column::CreatedAt.lt(until));
    }
    // Entries batched in memory (token issuance) become visible to this reader now.
    state.audit_buffer.flush().await;
    db::paginate_desc(&*state.db, select, audit_entry::Column::Id, page, |e| e.id).await
}

/// How many entries one retention transaction removes.
const PURGE_BATCH: u64 = 1000;

/// Removes every app's entries older than its `audit_retention_days`. Returns how
/// many were removed.
pub async fn purge_expired(state: &AppState) -> Result<u64> {
    let apps: Vec<(Uuid, serde_json::Value)> = app::Entity::find()
        .select_only()
        .column(app::Column::Id)
        .column(app::Column::Settings)
        .into_tuple()
        .all(&*state.db)
        .await?;
    let mut purged = 0;
    for (app_id, settings) in apps {
        let days = AppSettings::from_stored(&settings).audit_retention_days;
        let cutoff = state.now() - chrono::Duration::days(i64::from(days));
        loop {
            let txn = state.db.begin_write().await?;
            let ids: Vec<Uuid> = audit_entry::Entity::find()
                .select_only()
                .column(audit_entry::Column::Id)
                .filter(audit_entry::Column::AppId.eq(app_id))
                .filter(
                    audit_entry::Column::Id
                        .lt(db::first_id_at(cutoff + chrono::Duration::milliseconds(1))),
                )
                .filter(audit_entry::Column::CreatedAt.lt(cutoff))
                .limit(PURGE_BATCH)
                .into_tuple()
                .all(&txn)
                .await?;
            if ids.is_empty() {
                break;
            }
            let result = audit_entry::Entity::delete_many()
                .filter(audit_entry::Column::Id.is_in(ids))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            purged += result.rows_affected;
        }
    }
    Ok(purged)
}
