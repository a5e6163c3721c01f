//! The event outbox. [`emit`] runs inside the transaction of the change (called by
//! `audit::record`): the event row and one pending delivery per subscribed, enabled
//! endpoint commit or roll back together with the change itself.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value, json};

use super::{STATUS_PENDING, events_of};
use crate::{db, error::Result, services::audit::Entry, state::AppState};

/// The `data` of an event: the ids it is about (`user_id`, `role_id`, … from the
/// audit target; `user_id` of the signed-in user for `user.signed_in`), the audit
/// metadata (never secrets), `app_id` and the `actor`.
pub fn event_data(entry: &Entry) -> Value {
    let mut data = match &entry.metadata {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    if let Some(target) = &entry.target {
        data.entry(format!("{}_id", target.kind))
            .or_insert_with(|| json!(target.id));
    }
    if entry.action == "user.signed_in" && entry.actor.kind == "end_user" {
        data.entry("user_id")
            .or_insert_with(|| json!(entry.actor.id));
    }
    data.insert("app_id".into(), json!(entry.app_id));
    data.insert(
        "actor".into(),
        json!({ "type": entry.actor.kind, "id": (!entry.actor.id.is_empty()).then_some(&entry.actor.id) }),
    );
    Value::Object(data)
}

/// Writes the event and its deliveries if `entry` is an event some endpoint of the
/// app subscribes to. Runs on the caller's transaction.
pub async fn emit(
    conn: &impl ConnectionTrait,
    state: &AppState,
    entry: &Entry,
    created_at: DateTime<Utc>,
) -> Result<()> {
    let Some(event_type) = super::event_type_of(entry.action) else {
        return Ok(());
    };
    let endpoints: Vec<webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::AppId.eq(entry.app_id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .filter(|e| events_of(e).iter().any(|t| t == "*" || t == event_type))
        .collect();
    if endpoints.is_empty() {
        return Ok(());
    }
    let id = db::new_id();
    let body = json!({
        "id": id,
        "type": event_type,
        "created_at": created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "app_id": entry.app_id,
        "data": event_data(entry),
    })
    .to_string();
    webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(id),
        app_id: Set(entry.app_id),
        event_type: Set(event_type.to_owned()),
        body: Set(body),
        created_at: Set(created_at),
        traceparent: Set(crate::trace::current().map(|context| context.header())),
        tracestate: Set(crate::trace::current_state().map(|s| s.to_string())),
    })
    .exec_without_returning(conn)
    .await?;
    let deliveries: Vec<webhook_delivery::ActiveModel> = endpoints
        .iter()
        .map(|endpoint| webhook_delivery::ActiveModel {
            id: Set(db::new_id()),
            app_id: Set(entry.app_id),
            endpoint_id: Set(endpoint.id),
            event_id: Set(id),
            event_type: Set(event_type.to_owned()),
            attempt: Set(0),
            status: Set(STATUS_PENDING.to_owned()),
            response_status: Set(None),
            latency_ms: Set(None),
            last_error: Set(None),
            created_at: Set(created_at),
            updated_at: Set(created_at),
            next_attempt_at: Set(Some(created_at)),
        })
        .collect();
    webhook_delivery::Entity::insert_many(deliveries)
        .exec_without_returning(conn)
        .await?;
    // The worker looks shortly after (the transaction commits first).
    state.webhooks.wake();
    Ok(())
}
