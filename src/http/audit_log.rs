//! `GET /v1/apps/{app}/audit-log` (root key or the app's key) and
//! `GET /{slug}/v1/audit-log` (`audit.read`): the app's audit log, newest first.
//! Entries are immutable: the paths answer only GET.

use axum::{extract::State, response::IntoResponse};
use chrono::{DateTime, Utc};
use entity::audit_entry;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    extract::{ApiPath, ApiQuery, Pagination},
    lane::Lane,
    response::List,
};
use crate::services::guard;
use crate::{
    access::Principal,
    error::Result,
    services::audit_log::{self, AuditFilter},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PartyDto {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// An audit entry (docs/src/webhooks-and-audit-log.md).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryDto {
    pub id: uuid::Uuid,
    pub actor: PartyDto,
    pub action: String,
    pub target: Option<PartyDto>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub metadata: Value,
}

impl From<audit_entry::Model> for AuditEntryDto {
    fn from(e: audit_entry::Model) -> Self {
        Self {
            id: e.id,
            actor: PartyDto {
                kind: e.actor_type,
                id: e.actor_id,
            },
            action: e.action,
            target: e.target_type.map(|kind| PartyDto {
                kind,
                id: e.target_id,
            }),
            ip: e.ip,
            user_agent: e.user_agent,
            created_at: e.created_at,
            metadata: e.metadata,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    actor_id: Option<String>,
    target_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
    // Pagination reads these; listed so that unknown parameters can be refused.
    #[serde(rename = "limit")]
    _limit: Option<String>,
    #[serde(rename = "cursor")]
    _cursor: Option<String>,
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let filter = AuditFilter {
        action: query.action,
        actor_id: query.actor_id,
        target_id: query.target_id,
        since: query.since,
        until: query.until,
    };
    let page = audit_log::list(&state, &admin, &filter, page).await?;
    Ok(List(page.map(AuditEntryDto::from)))
}
