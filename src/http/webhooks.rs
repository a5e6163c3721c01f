//! `/v1/apps/{app}/webhooks`: webhook endpoints and their delivery log (root key or
//! the app's key).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_endpoint};
use serde::{Deserialize, Serialize};

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, Pagination},
    response::{List, Resource, no_content},
};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::webhooks::{self, DeliveryRecord, EndpointInput},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookDto {
    pub id: uuid::Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Until when the secret before the last rotation still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// `whsec_…`: present once, at creation and rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<webhook_endpoint::Model> for WebhookDto {
    fn from(e: webhook_endpoint::Model) -> Self {
        Self {
            events: webhooks::events_of(&e),
            id: e.id,
            url: e.url,
            description: e.description,
            enabled: e.enabled,
            created_at: e.created_at,
            updated_at: e.updated_at,
            previous_secret_expires_at: e.previous_secret_expires_at,
            secret: None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttemptDto {
    pub attempt: i32,
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    /// The first KiB of the response body.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<webhook_attempt::Model> for AttemptDto {
    fn from(a: webhook_attempt::Model) -> Self {
        Self {
            attempt: a.attempt,
            response_status: a.response_status,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
            created_at: a.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryDto {
    pub id: uuid::Uuid,
    pub webhook_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub attempt: i32,
    pub status: String,
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptDto>,
}

impl From<DeliveryRecord> for DeliveryDto {
    fn from(r: DeliveryRecord) -> Self {
        let d = r.delivery;
        Self {
            id: d.id,
            webhook_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            attempt: d.attempt,
            status: d.status,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            next_attempt_at: d.next_attempt_at,
            attempts: r.attempts.into_iter().map(AttemptDto::from).collect(),
        }
    }
}

fn link(state: &AppState, app: &str, id: impl std::fmt::Display) -> String {
    format!("{}/v1/apps/{app}/webhooks/{id}", state.config.base_path)
}

fn delivery_link(
    state: &AppState,
    app: &str,
    delivery: &entity::webhook_delivery::Model,
) -> String {
    format!(
        "{}/v1/apps/{app}/webhooks/{}/deliveries/{}",
        state.config.base_path, delivery.endpoint_id, delivery.id
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    url: String,
    events: Vec<String>,
    description: Option<String>,
    enabled: Option<bool>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let input = EndpointInput {
        url: Some(body.url),
        events: Some(body.events),
        description: Some(body.description),
        enabled: body.enabled,
    };
    let (endpoint, secret) = webhooks::create(&state, &admin, input, &meta).await?;
    let self_link = link(&state, &admin.app().name, endpoint.id);
    let mut dto = WebhookDto::from(endpoint);
    dto.secret = Some(secret);
    Ok(Resource::created(dto, self_link))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    Ok(List(
        webhooks::list(&state, &admin, page)
            .await?
            .map(WebhookDto::from),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let endpoint = webhooks::get(&state, &admin, &id).await?;
    Ok(Resource::ok(
        WebhookDto::from(endpoint),
        link(&state, &admin.app().name, &id),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    url: Option<String>,
    events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::users::nullable")]
    description: Option<Option<String>>,
    enabled: Option<bool>,
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let input = EndpointInput {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    let endpoint = webhooks::update(&state, &admin, &id, input, &meta).await?;
    Ok(Resource::ok(
        WebhookDto::from(endpoint),
        link(&state, &admin.app().name, &id),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    webhooks::delete(&state, &admin, &id, &meta).await?;
    Ok(no_content())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RotateWebhookSecret)]
pub struct Rotate {
    grace_period_seconds: Option<i64>,
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    OptionalJson(body): OptionalJson<Rotate>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let grace = body.and_then(|b| b.grace_period_seconds);
    let (endpoint, secret) = webhooks::rotate_secret(&state, &admin, &id, grace, &meta).await?;
    let mut dto = WebhookDto::from(endpoint);
    dto.secret = Some(secret);
    Ok(Resource::ok(dto, link(&state, &admin.app().name, &id)))
}

#[derive(Deserialize)]
pub struct DeliveryFilter {
    status: Option<String>,
}

pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    Ok(List(
        webhooks::deliveries(&state, &admin, &id, filter.status.as_deref(), page)
            .await?
            .map(DeliveryDto::from),
    ))
}

pub async fn delivery(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let record = webhooks::delivery(&state, &admin, None, &id).await?;
    let self_link = delivery_link(&state, &admin.app().name, &record.delivery);
    Ok(Resource::ok(DeliveryDto::from(record), self_link))
}

/// `GET /v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}`.
pub async fn webhook_delivery(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, webhook, id)): ApiPath<(String, String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let record = webhooks::delivery(&state, &admin, Some(&webhook), &id).await?;
    let self_link = delivery_link(&state, &admin.app().name, &record.delivery);
    Ok(Resource::ok(DeliveryDto::from(record), self_link))
}

/// `POST /v1/apps/{app}/webhooks/deliveries/{id}/redeliver` (the flat alias).
pub async fn redeliver(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let record = webhooks::redeliver(&state, &admin, None, &id, &meta).await?;
    let self_link = delivery_link(&state, &admin.app().name, &record.delivery);
    Ok(Resource::created(DeliveryDto::from(record), self_link))
}

/// `POST /v1/apps/{app}/webhooks/{id}/test`: queues a `webhook.test` event for this
/// endpoint; 201 with its delivery.
pub async fn send_test(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let record = webhooks::send_test(&state, &admin, &id, &meta).await?;
    let self_link = delivery_link(&state, &admin.app().name, &record.delivery);
    Ok(Resource::created(DeliveryDto::from(record), self_link))
}

/// `POST /v1/apps/{app}/webhooks/{id}/deliveries/{delivery_id}/redeliver`: a
/// delivery of another webhook is a 404.
pub async fn redeliver_webhook_delivery(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, webhook, id)): ApiPath<(String, String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let record = webhooks::redeliver(&state, &admin, Some(&webhook), &id, &meta).await?;
    let self_link = delivery_link(&state, &admin.app().name, &record.delivery);
    Ok(Resource::created(DeliveryDto::from(record), self_link))
}
