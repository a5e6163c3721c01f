//! Recording the audit log. Every write path calls [`record`] on its own
//! transaction, so an entry exists exactly when the change it describes committed.
//! Entries never contain secrets: callers pass ids and non-secret facts only.

use entity::audit_entry;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{auth::Actor, db, error::Result, request::RequestMeta, state::AppState};

/// What an entry is about.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: &'static str,
    pub id: String,
}

impl Target {
    pub fn user(id: Uuid) -> Self {
        Self {
            kind: "user",
            id: id.to_string(),
        }
    }

    pub fn session(id: Uuid) -> Self {
        Self {
            kind: "session",
            id: id.to_string(),
        }
    }

    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self {
            kind,
            id: id.to_string(),
        }
    }
}

/// One audit entry to record.
#[derive(Clone, Debug)]
pub struct Entry {
    pub app_id: Uuid,
    pub action: &'static str,
    pub actor: Actor,
    pub target: Option<Target>,
    pub metadata: Value,
}

impl Entry {
    pub fn new(app_id: Uuid, action: &'static str, actor: Actor) -> Self {
        Self {
            app_id,
            action,
            actor,
            target: None,
            metadata: json!({}),
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    state: &AppState,
    meta: &RequestMeta,
    entry: Entry,
) -> Result<()> {
    audit_entry::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(entry.app_id),
        action: Set(entry.action.to_owned()),
        actor_type: Set(entry.actor.kind.to_owned()),
        actor_id: Set((!entry.actor.id.is_empty()).then_some(entry.actor.id)),
        target_type: Set(entry.target.as_ref().map(|t| t.kind.to_owned())),
        target_id: Set(entry.target.map(|t| t.id)),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.clone()),
        metadata: Set(entry.metadata),
        created_at: Set(state.now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
