//! API resources (docs/src/oauth-extensions.md#api-resources-and-jwt-access-tokens):
//! `apiResources`, `apiResource`, `createApiResource`, `updateApiResource`,
//! `deleteApiResource` (root key or the app's key).

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::api_resource;

use super::{ContextExt, guards::Authenticated};
use crate::services::oauth::resources::{self, ResourceInput};

/// An API of the app that OAuth clients get access tokens for (`resource`).
pub struct ApiResource(pub api_resource::Model);

#[Object(name = "ApiResource")]
impl ApiResource {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The absolute URI clients send as `resource`; the `aud` of its tokens.
    async fn identifier(&self) -> &str {
        &self.0.identifier
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The API's own scopes.
    async fn scopes(&self) -> Vec<String> {
        resources::scopes(&self.0)
    }
    /// `jwt` (RFC 9068 access tokens) or `opaque`.
    async fn access_token_format(&self) -> &str {
        &self.0.access_token_format
    }
    /// Lifetime of its access tokens, in seconds.
    async fn token_ttl(&self) -> i32 {
        self.0.token_ttl
    }
    /// Its JWT access tokens carry the user's effective `permissions`.
    async fn include_permissions(&self) -> bool {
        self.0.include_permissions
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject, Default)]
#[graphql(name = "ApiResourceInput")]
pub struct ApiResourceInput {
    /// Required when creating; cannot change afterwards.
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// `jwt` (default) or `opaque`.
    pub access_token_format: Option<String>,
    /// Seconds, 60–86400 (default 3600).
    pub token_ttl: Option<i32>,
    pub include_permissions: Option<bool>,
}

impl From<ApiResourceInput> for ResourceInput {
    fn from(i: ApiResourceInput) -> Self {
        Self {
            identifier: i.identifier,
            name: i.name,
            scopes: i.scopes,
            access_token_format: i.access_token_format,
            token_ttl: i.token_ttl,
            include_permissions: i.include_permissions,
        }
    }
}

#[derive(Default)]
pub struct ApiResourceQuery;

#[Object]
impl ApiResourceQuery {
    /// The app's API resources, by identifier.
    #[graphql(name = "apiResources", guard = "Authenticated")]
    async fn api_resources(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
    ) -> Result<Vec<ApiResource>> {
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(resources::list(ctx.state(), &admin)
            .await?
            .into_iter()
            .map(ApiResource)
            .collect())
    }

    #[graphql(name = "apiResource", guard = "Authenticated")]
    async fn api_resource(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<ApiResource> {
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(ApiResource(resources::get(ctx.state(), &admin, &id).await?))
    }
}

#[derive(Default)]
pub struct ApiResourceMutation;

#[Object]
impl ApiResourceMutation {
    /// Registers an API resource.
    #[graphql(name = "createApiResource", guard = "Authenticated")]
    async fn create_api_resource(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: ApiResourceInput,
    ) -> Result<ApiResource> {
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(ApiResource(
            resources::create(ctx.state(), &admin, input.into(), ctx.meta()).await?,
        ))
    }

    /// Changes an API resource (not its identifier).
    #[graphql(name = "updateApiResource", guard = "Authenticated")]
    async fn update_api_resource(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        input: ApiResourceInput,
    ) -> Result<ApiResource> {
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        Ok(ApiResource(
            resources::update(ctx.state(), &admin, &id, input.into(), ctx.meta()).await?,
        ))
    }

    /// Deletes an API resource; its JWT access tokens stop being accepted.
    #[graphql(name = "deleteApiResource", guard = "Authenticated")]
    async fn delete_api_resource(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<bool> {
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        resources::delete(ctx.state(), &admin, &id, ctx.meta()).await?;
        Ok(true)
    }
}
