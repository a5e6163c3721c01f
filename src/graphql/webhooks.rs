//! Webhooks: `webhooks`, `webhook`, `webhookDeliveries`, `createWebhook`,
//! `updateWebhook`, `deleteWebhook`, `rotateWebhookSecret`, `redeliverWebhook`
//! (root key or the app's key).

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_endpoint};

use super::{ContextExt, guards::Authenticated, relay};
use crate::{
    db::PageRequest,
    services::webhooks::{self, DeliveryRecord, EndpointInput},
};

/// A webhook endpoint: where the app's events are POSTed, signed.
pub struct Webhook(pub webhook_endpoint::Model);

#[Object(name = "Webhook")]
impl Webhook {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Subscribed event types, or `["*"]` for all.
    async fn events(&self) -> Vec<String> {
        webhooks::events_of(&self.0)
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Until when the secret before the last rotation still signs deliveries.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
    }
}

/// An endpoint and its signing secret, shown once.
#[derive(SimpleObject)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// `whsec_…`: store it now, it cannot be read again.
    pub secret: String,
}

/// One HTTP attempt of a delivery.
pub struct WebhookAttempt(pub webhook_attempt::Model);

#[Object(name = "WebhookAttempt")]
impl WebhookAttempt {
    async fn attempt(&self) -> i32 {
        self.0.attempt
    }
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// The first KiB of the response body.
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
    /// Why no HTTP status was received (timeout, refused address, …).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One event for one endpoint.
pub struct WebhookDelivery(pub DeliveryRecord);

#[Object(name = "WebhookDelivery")]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.delivery.id.to_string())
    }
    async fn webhook_id(&self) -> ID {
        ID(self.0.delivery.endpoint_id.to_string())
    }
    /// The event's id: the same in every delivery and retry of the event.
    async fn event_id(&self) -> ID {
        ID(self.0.delivery.event_id.to_string())
    }
    async fn event_type(&self) -> &str {
        &self.0.delivery.event_type
    }
    /// Attempts made so far.
    async fn attempt(&self) -> i32 {
        self.0.delivery.attempt
    }
    /// `pending`, `succeeded` or `failed`.
    async fn status(&self) -> &str {
        &self.0.delivery.status
    }
    async fn response_status(&self) -> Option<i32> {
        self.0.delivery.response_status
    }
    async fn latency_ms(&self) -> Option<i32> {
        self.0.delivery.latency_ms
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.delivery.last_error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.delivery.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.delivery.updated_at
    }
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivery.next_attempt_at
    }
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.0
            .attempts
            .iter()
            .cloned()
            .map(WebhookAttempt)
            .collect()
    }
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    pub url: String,
    /// Event types, or `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(InputObject, Default)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `null` clears it.
    pub description: MaybeUndefined<String>,
    pub enabled: Option<bool>,
}

#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// The app's webhook endpoints, in creation order.
    #[graphql(guard = "Authenticated")]
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Webhook>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = webhooks::list(state, &admin, PageRequest::from_graphql(first, after)?).await?;
        Ok(relay::connection(page, had_cursor, |e| e.id, Webhook))
    }

    #[graphql(guard = "Authenticated")]
    async fn webhook(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<Webhook> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(Webhook(webhooks::get(state, &admin, &id).await?))
    }

    /// An endpoint's deliveries, newest first; `status` filters
    /// (`pending`, `succeeded`, `failed`).
    #[graphql(guard = "Authenticated")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        webhook_id: ID,
        status: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WebhookDelivery>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = webhooks::deliveries(
            state,
            &admin,
            &webhook_id,
            status.as_deref(),
            PageRequest::from_graphql(first, after)?,
        )
        .await?;
        Ok(relay::connection(
            page,
            had_cursor,
            |r| r.delivery.id,
            WebhookDelivery,
        ))
    }
}

#[derive(Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Registers an endpoint; its signing secret is returned once.
    #[graphql(guard = "Authenticated")]
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: CreateWebhookInput,
    ) -> Result<WebhookWithSecret> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let input = EndpointInput {
            url: Some(input.url),
            events: Some(input.events),
            description: Some(input.description),
            enabled: input.enabled,
        };
        let (endpoint, secret) = webhooks::create(state, &admin, input, ctx.meta()).await?;
        Ok(WebhookWithSecret {
            webhook: Webhook(endpoint),
            secret,
        })
    }

    #[graphql(guard = "Authenticated")]
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        input: UpdateWebhookInput,
    ) -> Result<Webhook> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let description = match input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d)),
        };
        let input = EndpointInput {
            url: input.url,
            events: input.events,
            description,
            enabled: input.enabled,
        };
        Ok(Webhook(
            webhooks::update(state, &admin, &id, input, ctx.meta()).await?,
        ))
    }

    /// Deletes an endpoint and its delivery log; nothing more is sent to it.
    #[graphql(guard = "Authenticated")]
    async fn delete_webhook(&self, ctx: &Context<'_>, app: Option<String>, id: ID) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        webhooks::delete(state, &admin, &id, ctx.meta()).await?;
        Ok(true)
    }

    /// A new signing secret; the previous one keeps signing (a second `v1=`) for
    /// `gracePeriodSeconds` (default 86400, at most 604800, 0 ends it at once).
    #[graphql(guard = "Authenticated")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        grace_period_seconds: Option<i64>,
    ) -> Result<WebhookWithSecret> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let (endpoint, secret) =
            webhooks::rotate_secret(state, &admin, &id, grace_period_seconds, ctx.meta()).await?;
        Ok(WebhookWithSecret {
            webhook: Webhook(endpoint),
            secret,
        })
    }

    /// Queues a `webhook.test` event for one endpoint (whatever it subscribes to)
    /// and answers its delivery.
    #[graphql(guard = "Authenticated")]
    async fn send_test_webhook_event(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<WebhookDelivery> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(WebhookDelivery(
            webhooks::send_test(state, &admin, &id, ctx.meta()).await?,
        ))
    }

    /// Sends a delivery's event again (same event id) as a new delivery.
    #[graphql(guard = "Authenticated")]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        delivery_id: ID,
    ) -> Result<WebhookDelivery> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(WebhookDelivery(
            webhooks::redeliver(state, &admin, None, &delivery_id, ctx.meta()).await?,
        ))
    }
}
