//! Webhooks (docs/src/webhooks-and-audit-log.md): endpoints of an app, the event outbox written in the
//! transaction of each change, and the delivery worker that signs and POSTs events
//! with retries.
//!
//! The outbox is fed by [`crate::services::audit::record`]: every audited change whose
//! action is one of [`EVENT_TYPES`] becomes an event and one pending delivery per
//! subscribed endpoint, in the same transaction. The worker ([`worker`]) claims due
//! deliveries with row locks, so several instances never send one twice.

pub mod backchannel;
pub mod outbox;
pub mod worker;

use chrono::Duration;
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_event};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::AppAdmin,
    crypto::{self, prefix},
    db::{self, Page, PageRequest},
    error::{Error, Result},
    request::RequestMeta,
    services::{
        audit::{self, Entry, Target},
        net, validate,
    },
    state::AppState,
};

pub use worker::Webhooks;

/// Every webhook event type.
pub const EVENT_TYPES: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.deleted",
    "user.signed_in",
    "user.email_verified",
    "user.password_reset",
    "role.created",
    "role.updated",
    "role.deleted",
    "role.assigned",
    "tenant.created",
    "tenant.member_added",
    "tenant.member_removed",
    "invite.created",
    "invite.accepted",
    "session.revoked",
    "m2m_client.created",
    "oauth_client.created",
    "consent.granted",
    "consent.revoked",
    "user.mfa_enrolled",
    "user.mfa_removed",
];

/// The webhook event an audited action emits: the action itself when it is an
/// event type, and for multi-factor changes the user event (docs/src/mfa.md).
pub fn event_type_of(action: &str) -> Option<&'static str> {
    match action {
        "mfa.enrolled" => Some("user.mfa_enrolled"),
        "mfa.removed" | "mfa.reset" => Some("user.mfa_removed"),
        other => EVENT_TYPES.iter().find(|t| **t == other).copied(),
    }
}

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SUCCEEDED: &str = "succeeded";
pub const STATUS_FAILED: &str = "failed";

const MAX_EVENTS: usize = 50;
pub const MAX_ENDPOINTS_PER_APP: u64 = 50;

/// Fields of an endpoint as requested (create: `url` and `events` required).
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// The endpoint's subscribed event types.
pub fn events_of(endpoint: &webhook_endpoint::Model) -> Vec<String> {
    crate::services::permissions::of_json(&endpoint.events)
}

fn validate_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() {
        return Err(Error::invalid_field(
            "events",
            "must name at least one event type (or \"*\" for all)",
        ));
    }
    if events.len() > MAX_EVENTS {
        return Err(Error::invalid_field(
            "events",
            format!("at most {MAX_EVENTS} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        let event = event.trim();
        if event != "*" && !EVENT_TYPES.contains(&event) {
            return Err(Error::invalid_field(
                "events",
                format!(
                    "unknown event type '{}'; known types: {}",
                    event.chars().take(64).collect::<String>(),
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.iter().any(|e| e == event) {
            out.push(event.to_owned());
        }
    }
    if out.iter().any(|e| e == "*") {
        out = vec!["*".to_owned()];
    }
    Ok(out)
}

/// A webhook URL that may be registered: `https` (or `http` with
/// `HEIMDALL_WEBHOOK_ALLOW_PRIVATE`), no credentials or fragment, and not a private,
/// loopback or link-local address. Names are checked again at every delivery
/// against the address they resolve to.
pub async fn validate_url(state: &AppState, raw: &str) -> Result<String> {
    let field = "url";
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err(Error::invalid_field(field, "at most 2048 characters"));
    }
    let url =
        url::Url::parse(raw).map_err(|_| Error::invalid_field(field, "is not an absolute URL"))?;
    let allow_private = state.config.webhook_allow_private;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => {
            return Err(Error::invalid_field(
                field,
                "must use https (http is allowed only with HEIMDALL_WEBHOOK_ALLOW_PRIVATE)",
            ));
        }
        _ => return Err(Error::invalid_field(field, "must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_field(
            field,
            "must not contain credentials; verify deliveries with the signing secret",
        ));
    }
    if url.fragment().is_some() {
        return Err(Error::invalid_field(field, "must not contain a fragment"));
    }
    let host = url
        .host()
        .ok_or_else(|| Error::invalid_field(field, "has no host"))?;
    if !allow_private {
        let refused = || {
            Error::invalid_field(
                field,
                "points to a private, loopback or link-local address, which is refused \
                 (HEIMDALL_WEBHOOK_ALLOW_PRIVATE allows it for development)",
            )
        };
        if net::is_refused_host(&host) {
            return Err(refused());
        }
        if let url::Host::Domain(name) = host {
            // A name that resolves now to a private address is refused at once;
            // one that does not resolve (yet) is checked at delivery.
            let port = url.port_or_known_default().unwrap_or(443);
            let lookup = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                tokio::net::lookup_host((name, port)),
            )
            .await;
            if let Ok(Ok(addrs)) = lookup {
                let addrs: Vec<_> = addrs.collect();
                if !addrs.is_empty() && addrs.iter().all(|a| !net::is_public(a.ip())) {
                    return Err(refused());
                }
            }
        }
    }
    Ok(url.to_string())
}

/// What the audit log keeps of an endpoint URL: its origin. Paths and query
/// strings often carry the receiver's own tokens (`…/hooks/T0/B0/s3cr3t`, `?key=`).
fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

pub fn aad(endpoint_id: Uuid) -> String {
    format!("webhook-secret:{endpoint_id}")
}

/// The secrets that sign deliveries now: the current one, then the previous one
/// while its rotation overlap lasts.
pub fn signing_secrets(
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
) -> Result<Vec<String>> {
    let open = |sealed: &str| -> Result<String> {
        let bytes = state.vault.open(sealed, &aad(endpoint.id))?;
        String::from_utf8(bytes).map_err(Error::internal)
    };
    let mut secrets = vec![open(&endpoint.sealed_secret)?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_sealed_secret,
        endpoint.previous_secret_expires_at,
    ) && until > state.now()
    {
        secrets.push(open(previous)?);
    }
    Ok(secrets)
}

/// `t=<unix>,v1=<hex>[,v1=<hex>]`: HMAC-SHA256 over `"<t>.<body>"` with each secret's
/// UTF-8 bytes.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &str) -> String {
    let signed = format!("{timestamp}.{body}");
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&crypto::hex(&crypto::hmac_sha256(
            secret.as_bytes(),
            signed.as_bytes(),
        )));
    }
    header
}

pub async fn create(
    state: &AppState,
    admin: &AppAdmin,
    input: EndpointInput,
    meta: &RequestMeta,
) -> Result<(webhook_endpoint::Model, String)> {
    let app_id = admin.app().id;
    let url = validate_url(
        state,
        input
            .url
            .as_deref()
            .ok_or_else(|| Error::invalid_field("url", "is required"))?,
    )
    .await?;
    let events = validate_events(
        input
            .events
            .as_deref()
            .ok_or_else(|| Error::invalid_field("events", "is required"))?,
    )?;
    let description = description(input.description.flatten())?;
    let id = db::new_id();
    let secret = crypto::generate_secret(prefix::WEBHOOK_SECRET)?;
    let sealed = state.vault.seal(secret.as_bytes(), &aad(id))?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::AppId.eq(app_id))
        .count(&txn)
        .await?;
    if count >= MAX_ENDPOINTS_PER_APP {
        return Err(Error::conflict(format!(
            "an app can have at most {MAX_ENDPOINTS_PER_APP} webhook endpoints"
        )));
    }
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        app_id: Set(app_id),
        url: Set(url),
        description: Set(description),
        events: Set(json!(events)),
        enabled: Set(input.enabled.unwrap_or(true)),
        sealed_secret: Set(sealed),
        previous_sealed_secret: Set(None),
        previous_secret_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::commit(txn, state, meta, Entry::new(app_id, "webhook.created", admin.actor().clone())
            .target(Target::new("webhook", id))
            .metadata(
                json!({ "origin": origin(&endpoint.url), "events": events, "enabled": endpoint.enabled }),
            )).await?;
    Ok((endpoint, secret))
}

fn description(text: Option<String>) -> Result<Option<String>> {
    text.filter(|d| !d.trim().is_empty())
        .map(|d| validate::display_text("description", &d, 1000))
        .transpose()
}

pub async fn list(
    state: &AppState,
    admin: &AppAdmin,
    page: PageRequest,
) -> Result<Page<webhook_endpoint::Model>> {
    let select =
        webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::AppId.eq(admin.app().id));
    db::paginate(
        &*state.db,
        select,
        webhook_endpoint::Column::Id,
        page,
        |e| e.id,
    )
    .await
}

pub async fn get(state: &AppState, admin: &AppAdmin, id: &str) -> Result<webhook_endpoint::Model> {
    let not_found = || Error::not_found("webhook endpoint not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::AppId.eq(admin.app().id))
        .one(&*state.db)
        .await?
        .ok_or_else(not_found)
}

pub async fn update(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    input: EndpointInput,
    meta: &RequestMeta,
) -> Result<webhook_endpoint::Model> {
    let url = match &input.url {
        Some(url) => Some(validate_url(state, url).await?),
        None => None,
    };
    let events = input.events.as_deref().map(validate_events).transpose()?;
    let description = input.description.clone().map(description).transpose()?;
    let current = get(state, admin, id).await?;
    let mut changed = Vec::new();
    let mut model = current.clone().into_active_model();
    if let Some(url) = url {
        changed.push("url");
        model.url = Set(url);
    }
    if let Some(events) = &events {
        changed.push("events");
        model.events = Set(json!(events));
    }
    if let Some(description) = description {
        changed.push("description");
        model.description = Set(description);
    }
    if let Some(enabled) = input.enabled {
        changed.push("enabled");
        model.enabled = Set(enabled);
    }
    if changed.is_empty() {
        return Ok(current);
    }
    model.updated_at = Set(state.now());
    let txn = state.db.begin_write().await?;
    let updated = model.update(&txn).await?;
    audit::commit(txn, state, meta, Entry::new(current.app_id, "webhook.updated", admin.actor().clone())
            .target(Target::new("webhook", current.id))
            .metadata(
                json!({ "changed": changed, "origin": origin(&updated.url), "enabled": updated.enabled }),
            )).await?;
    Ok(updated)
}

/// Deletes the endpoint with its deliveries (nothing more is sent to it).
pub async fn delete(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    meta: &RequestMeta,
) -> Result<()> {
    let current = get(state, admin, id).await?;
    let txn = state.db.begin_write().await?;
    webhook_endpoint::Entity::delete_by_id(current.id)
        .exec(&txn)
        .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(current.app_id, "webhook.deleted", admin.actor().clone())
            .target(Target::new("webhook", current.id))
            .metadata(json!({ "origin": origin(&current.url) })),
    )
    .await?;
    Ok(())
}

/// A new secret; the current one keeps signing (as a second `v1=`) for the grace
/// period, so receivers can switch without missing a delivery.
pub async fn rotate_secret(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    grace_seconds: Option<i64>,
    meta: &RequestMeta,
) -> Result<(webhook_endpoint::Model, String)> {
    let grace = crate::services::validate::grace_period(grace_seconds)?;
    let current = get(state, admin, id).await?;
    let secret = crypto::generate_secret(prefix::WEBHOOK_SECRET)?;
    let sealed = state.vault.seal(secret.as_bytes(), &aad(current.id))?;
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let mut model = current.clone().into_active_model();
    model.previous_sealed_secret = Set(Some(current.sealed_secret.clone()));
    model.previous_secret_expires_at = Set(Some(now + grace));
    model.sealed_secret = Set(sealed);
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            current.app_id,
            "webhook.secret_rotated",
            admin.actor().clone(),
        )
        .target(Target::new("webhook", current.id))
        .metadata(json!({ "grace_period_seconds": grace.num_seconds() })),
    )
    .await?;
    Ok((updated, secret))
}

/// A delivery with its attempts, oldest attempt first.
#[derive(Clone, Debug)]
pub struct DeliveryRecord {
    pub delivery: webhook_delivery::Model,
    pub attempts: Vec<webhook_attempt::Model>,
}

async fn with_attempts(
    state: &AppState,
    deliveries: Vec<webhook_delivery::Model>,
) -> Result<Vec<DeliveryRecord>> {
    use sea_orm::QueryOrder;
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id).collect();
    let attempts = if ids.is_empty() {
        Vec::new()
    } else {
        webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(&*state.db)
            .await?
    };
    Ok(deliveries
        .into_iter()
        .map(|delivery| DeliveryRecord {
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == delivery.id)
                .cloned()
                .collect(),
            delivery,
        })
        .collect())
}

/// An endpoint's deliveries, newest first, optionally of one status.
pub async fn deliveries(
    state: &AppState,
    admin: &AppAdmin,
    endpoint_id: &str,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<DeliveryRecord>> {
    let endpoint = get(state, admin, endpoint_id).await?;
    let mut select = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id));
    if let Some(status) = status {
        if ![STATUS_PENDING, STATUS_SUCCEEDED, STATUS_FAILED].contains(&status) {
            return Err(Error::invalid_field(
                "status",
                "must be pending, succeeded or failed",
            ));
        }
        select = select.filter(webhook_delivery::Column::Status.eq(status));
    }
    let page = db::paginate_desc(
        &*state.db,
        select,
        webhook_delivery::Column::Id,
        page,
        |d| d.id,
    )
    .await?;
    let next_cursor = page.next_cursor;
    Ok(Page {
        items: with_attempts(state, page.items).await?,
        next_cursor,
    })
}

/// A delivery of the app; with `endpoint`, only one of that webhook's (a delivery
/// of another webhook is not found).
pub async fn delivery(
    state: &AppState,
    admin: &AppAdmin,
    endpoint: Option<&str>,
    id: &str,
) -> Result<DeliveryRecord> {
    let not_found = || Error::not_found("webhook delivery not found");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let mut query = webhook_delivery::Entity::find_by_id(id)
        .filter(webhook_delivery::Column::AppId.eq(admin.app().id));
    if let Some(endpoint) = endpoint {
        let endpoint = Uuid::parse_str(endpoint).map_err(|_| not_found())?;
        query = query.filter(webhook_delivery::Column::EndpointId.eq(endpoint));
    }
    let delivery = query.one(&*state.db).await?.ok_or_else(not_found)?;
    with_attempts(state, vec![delivery])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// Sends a delivery's event again, as a new delivery (same event id and body) due
/// now; the original record stays as it was.
pub async fn redeliver(
    state: &AppState,
    admin: &AppAdmin,
    endpoint: Option<&str>,
    delivery_id: &str,
    meta: &RequestMeta,
) -> Result<DeliveryRecord> {
    let original = delivery(state, admin, endpoint, delivery_id)
        .await?
        .delivery;
    let endpoint = webhook_endpoint::Entity::find_by_id(original.endpoint_id)
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::not_found("webhook delivery not found"))?;
    if !endpoint.enabled {
        return Err(Error::conflict(
            "the webhook endpoint is disabled; enable it before redelivering",
        ));
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let delivery = webhook_delivery::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(original.app_id),
        endpoint_id: Set(original.endpoint_id),
        event_id: Set(original.event_id),
        event_type: Set(original.event_type.clone()),
        attempt: Set(0),
        status: Set(STATUS_PENDING.to_owned()),
        response_status: Set(None),
        latency_ms: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        next_attempt_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(
            original.app_id,
            "webhook.redelivered",
            admin.actor().clone(),
        )
        .target(Target::new("webhook", original.endpoint_id))
        .metadata(json!({
            "event_id": original.event_id,
            "event_type": original.event_type,
            "delivery_id": delivery.id,
            "original_delivery_id": original.id,
        })),
    )
    .await?;
    state.webhooks.wake();
    Ok(DeliveryRecord {
        delivery,
        attempts: Vec::new(),
    })
}

/// The event type of [`send_test`]; no change emits it and nobody subscribes to it.
pub const TEST_EVENT: &str = "webhook.test";

/// Queues a `webhook.test` event for one endpoint, whatever it subscribes to, so an
/// operator can check the receiver end to end (URL, signature, answer). It is signed
/// and retried like any other event and shows in the delivery log.
pub async fn send_test(
    state: &AppState,
    admin: &AppAdmin,
    id: &str,
    meta: &RequestMeta,
) -> Result<DeliveryRecord> {
    let endpoint = get(state, admin, id).await?;
    if !endpoint.enabled {
        return Err(Error::conflict(
            "the webhook endpoint is disabled; enable it before sending a test event",
        ));
    }
    let now = state.now();
    let event_id = db::new_id();
    let body = json!({
        "id": event_id,
        "type": TEST_EVENT,
        "created_at": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "app_id": endpoint.app_id,
        "data": {
            "webhook_id": endpoint.id,
            "app_id": endpoint.app_id,
            "actor": { "type": admin.actor().kind, "id": (!admin.actor().id.is_empty()).then_some(&admin.actor().id) },
            "message": "A test event sent from Heimdall; it changes nothing.",
        },
    })
    .to_string();
    let txn = state.db.begin_write().await?;
    webhook_event::Entity::insert(webhook_event::ActiveModel {
        id: Set(event_id),
        app_id: Set(endpoint.app_id),
        event_type: Set(TEST_EVENT.to_owned()),
        body: Set(body),
        created_at: Set(now),
        traceparent: Set(crate::trace::current().map(|context| context.header())),
        tracestate: Set(crate::trace::current_state().map(|s| s.to_string())),
    })
    .exec_without_returning(&txn)
    .await?;
    let delivery = webhook_delivery::ActiveModel {
        id: Set(db::new_id()),
        app_id: Set(endpoint.app_id),
        endpoint_id: Set(endpoint.id),
        event_id: Set(event_id),
        event_type: Set(TEST_EVENT.to_owned()),
        attempt: Set(0),
        status: Set(STATUS_PENDING.to_owned()),
        response_status: Set(None),
        latency_ms: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        next_attempt_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    audit::commit(
        txn,
        state,
        meta,
        Entry::new(endpoint.app_id, "webhook.test_sent", admin.actor().clone())
            .target(Target::new("webhook", endpoint.id))
            .metadata(json!({ "event_id": event_id, "delivery_id": delivery.id })),
    )
    .await?;
    state.webhooks.wake();
    Ok(DeliveryRecord {
        delivery,
        attempts: Vec::new(),
    })
}

/// Delivered (or given-up) events are kept this long for the delivery log.
pub const EVENT_RETENTION: Duration = Duration::days(30);

/// Deletes events older than [`EVENT_RETENTION`] that have no pending delivery,
/// with their deliveries and attempts; returns how many events went.
pub async fn purge_old_events(state: &AppState) -> Result<u64> {
    use sea_orm::{QuerySelect, sea_query::Query};
    let cutoff = state.now() - EVENT_RETENTION;
    let mut purged = 0;
    loop {
        let txn = state.db.begin_write().await?;
        let still_pending = Query::select()
            .column(webhook_delivery::Column::EventId)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::Status.eq(STATUS_PENDING))
            .to_owned();
        let ids: Vec<Uuid> = entity::webhook_event::Entity::find()
            .select_only()
            .column(entity::webhook_event::Column::Id)
            .filter(entity::webhook_event::Column::CreatedAt.lt(cutoff))
            .filter(entity::webhook_event::Column::Id.not_in_subquery(still_pending))
            .limit(500)
            .into_tuple()
            .all(&txn)
            .await?;
        if ids.is_empty() {
            return Ok(purged);
        }
        // Children first: the same on both databases, whatever their cascade settings.
        let deliveries: Vec<Uuid> = webhook_delivery::Entity::find()
            .select_only()
            .column(webhook_delivery::Column::Id)
            .filter(webhook_delivery::Column::EventId.is_in(ids.clone()))
            .into_tuple()
            .all(&txn)
            .await?;
        for chunk in deliveries.chunks(500) {
            webhook_attempt::Entity::delete_many()
                .filter(webhook_attempt::Column::DeliveryId.is_in(chunk.to_vec()))
                .exec(&txn)
                .await?;
        }
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::EventId.is_in(ids.clone()))
            .filter(webhook_delivery::Column::Status.ne(STATUS_PENDING))
            .exec(&txn)
            .await?;
        let done = entity::webhook_event::Entity::delete_many()
            .filter(entity::webhook_event::Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        purged += done.rows_affected;
    }
}
