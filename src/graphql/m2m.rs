//! Machine clients: `m2mClients`, `m2mClient`, `createM2mClient`, `updateM2mClient`,
//! `rotateM2mClientSecret`, `deleteM2mClient` (root key or the app's key).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::m2m_client;

use super::{ContextExt, guards::Authenticated, relay};
use crate::{
    db::PageRequest,
    services::{m2m, permissions},
};

/// A machine client (OAuth client credentials).
pub struct M2mClient(pub m2m_client::Model);

#[Object(name = "M2mClient")]
impl M2mClient {
    /// `m2m_…`, used as `client_id` and as the `sub` of its tokens.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What its tokens may do: the `scopes` claim, used as permissions.
    async fn scopes(&self) -> Vec<String> {
        permissions::of_json(&self.0.scopes)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Updated at most once a minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// Until when the secret before the last rotation still works.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
    }
}

/// A client and its secret, shown once.
#[derive(SimpleObject)]
#[graphql(name = "M2mClientWithSecret")]
pub struct M2mClientWithSecret {
    pub client: M2mClient,
    /// `hm_sec_…`: store it now, it cannot be read again.
    pub client_secret: String,
}

#[derive(InputObject)]
#[graphql(name = "CreateM2mClientInput")]
pub struct CreateM2mClientInput {
    pub name: String,
    #[graphql(default)]
    pub scopes: Vec<String>,
}

#[derive(InputObject, Default)]
#[graphql(name = "UpdateM2mClientInput")]
pub struct UpdateM2mClientInput {
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Default)]
pub struct M2mQuery;

#[Object]
impl M2mQuery {
    /// The app's machine clients, in creation order.
    #[graphql(name = "m2mClients", guard = "Authenticated")]
    async fn m2m_clients(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, M2mClient>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = m2m::list(state, &admin, PageRequest::from_graphql(first, after)?).await?;
        Ok(relay::connection(page, had_cursor, |c| c.id, M2mClient))
    }

    #[graphql(name = "m2mClient", guard = "Authenticated")]
    async fn m2m_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        client_id: String,
    ) -> Result<Option<M2mClient>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(Some(M2mClient(m2m::get(state, &admin, &client_id).await?)))
    }
}

#[derive(Default)]
pub struct M2mMutation;

#[Object]
impl M2mMutation {
    /// Creates a machine client; the secret is returned once.
    #[graphql(name = "createM2mClient", guard = "Authenticated")]
    async fn create_m2m_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: CreateM2mClientInput,
    ) -> Result<M2mClientWithSecret> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let (client, client_secret) =
            m2m::create(state, &admin, &input.name, &input.scopes, ctx.meta()).await?;
        Ok(M2mClientWithSecret {
            client: M2mClient(client),
            client_secret,
        })
    }

    #[graphql(name = "updateM2mClient", guard = "Authenticated")]
    async fn update_m2m_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        client_id: String,
        input: UpdateM2mClientInput,
    ) -> Result<M2mClient> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let client = m2m::update(
            state,
            &admin,
            &client_id,
            input.name.as_deref(),
            input.scopes.as_deref(),
            ctx.meta(),
        )
        .await?;
        Ok(M2mClient(client))
    }

    /// Issues a new secret; the previous one works for `gracePeriodSeconds` more
    /// (default 86400, at most 604800, 0 ends it at once).
    #[graphql(name = "rotateM2mClientSecret", guard = "Authenticated")]
    async fn rotate_m2m_client_secret(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        client_id: String,
        grace_period_seconds: Option<i64>,
    ) -> Result<M2mClientWithSecret> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let (client, client_secret) =
            m2m::rotate_secret(state, &admin, &client_id, grace_period_seconds, ctx.meta()).await?;
        Ok(M2mClientWithSecret {
            client: M2mClient(client),
            client_secret,
        })
    }

    /// Deletes a machine client; its tokens stop working.
    #[graphql(name = "deleteM2mClient", guard = "Authenticated")]
    async fn delete_m2m_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        client_id: String,
    ) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        m2m::delete(state, &admin, &client_id, ctx.meta()).await?;
        Ok(true)
    }
}
