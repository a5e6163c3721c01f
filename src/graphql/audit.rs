//! The audit log: `auditLog` (root key, the app's key, or a principal with
//! `audit.read`). Entries are immutable: there are no mutations.

use async_graphql::{
    Context, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::audit_entry;

use super::{ContextExt, guards::Authenticated, relay};
use crate::{
    db::PageRequest,
    services::audit_log::{self, AuditFilter},
};

/// Who acted, or what an entry is about.
#[derive(SimpleObject)]
pub struct AuditParty {
    /// `root`, `api_key`, `end_user`, `m2m`, `oauth_client`, `anonymous`, `system`
    /// for actors;
    /// `user`, `session`, `role`, … for targets.
    #[graphql(name = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// One audit entry: who did what to whom, from where, when.
pub struct AuditEntry(pub audit_entry::Model);

#[Object(name = "AuditEntry")]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn actor(&self) -> AuditParty {
        AuditParty {
            kind: self.0.actor_type.clone(),
            id: self.0.actor_id.clone(),
        }
    }
    /// A webhook event name or an audit-only action (`user.signin_failed`, …).
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn target(&self) -> Option<AuditParty> {
        self.0.target_type.as_ref().map(|kind| AuditParty {
            kind: kind.clone(),
            id: self.0.target_id.clone(),
        })
    }
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Facts about the change (never secrets).
    async fn metadata(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.metadata.clone())
    }
}

/// Filters of `auditLog`; all optional, combined with AND.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// An action (`user.created`) or a family (`user.*`).
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The app's audit log, newest first.
    #[graphql(guard = "Authenticated")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        filter: Option<AuditLogFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditEntry>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            action: filter.action,
            actor_id: filter.actor_id,
            target_id: filter.target_id,
            since: filter.since.map(|t| t.to_rfc3339()),
            until: filter.until.map(|t| t.to_rfc3339()),
        };
        let had_cursor = after.is_some();
        let page = PageRequest::from_graphql(first, after)?;
        let page = audit_log::list(state, &admin, &filter, page).await?;
        Ok(relay::connection(page, had_cursor, |e| e.id, AuditEntry))
    }
}
