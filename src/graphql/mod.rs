//! The GraphQL API: one schema for every principal, authorised by the same guard as
//! REST. Query and mutation roots are merged from one object per domain area.

pub mod api_resources;
pub mod apps;
pub mod audit;
pub mod federation;
pub mod guards;
pub mod lifecycle;
pub mod limits;
pub mod loaders;
pub mod m2m;
pub mod mfa;
pub mod oauth;
pub mod relay;
pub mod roles;
pub mod stats;
pub mod tenants;
pub mod users;
pub mod webhooks;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};

use crate::{
    access::{AppAccess, AppAdmin, Me, Principal, TenantAccess},
    error::Error,
    request::RequestMeta,
    services::guard::{self, Lane},
    state::AppState,
};

pub const MAX_DEPTH: usize = 12;
/// The standard introspection query (graphql-js, graphql-core) is 15 levels deep.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;
pub const MAX_COMPLEXITY: usize = 2_000;
pub const MAX_ALIASES: usize = 50;
pub const MAX_BATCH: usize = 10;

#[derive(MergedObject, Default)]
pub struct Query(
    apps::AppQuery,
    users::UserQuery,
    roles::RoleQuery,
    tenants::TenantQuery,
    m2m::M2mQuery,
    oauth::OAuthQuery,
    federation::FederationQuery,
    lifecycle::LifecycleQuery,
    webhooks::WebhooksQuery,
    audit::AuditQuery,
    stats::StatsQuery,
    mfa::MfaQuery,
    api_resources::ApiResourceQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    apps::AppMutation,
    users::UserMutation,
    roles::RoleMutation,
    tenants::TenantMutation,
    m2m::M2mMutation,
    oauth::OAuthMutation,
    federation::FederationMutation,
    lifecycle::LifecycleMutation,
    webhooks::WebhooksMutation,
    mfa::MfaMutation,
    api_resources::ApiResourceMutation,
);

pub type HeimdallSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema. The application state and the caller are request data.
pub fn build_schema(introspection: bool) -> HeimdallSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .limit_directives(16)
        .extension(limits::DepthLimit {
            data: MAX_DEPTH,
            introspection: introspection.then_some(MAX_INTROSPECTION_DEPTH),
        })
        .extension(limits::AliasLimit(MAX_ALIASES));
    if !introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema(true).sdl()
}

/// The capability for the app a resolver addresses (`app`, or the credential's own):
/// any principal of the app, holding what it holds. Services check permissions.
pub async fn app_access(ctx: &Context<'_>, app: Option<&str>) -> Result<AppAccess, Error> {
    guard::app_access(ctx.state(), ctx.principal()?, Lane::GraphQl, app).await
}

/// [`app_access`] within one tenant (the caller's role there counts too).
pub async fn tenant_access(
    ctx: &Context<'_>,
    app: Option<&str>,
    tenant_id: uuid::Uuid,
) -> Result<TenantAccess, Error> {
    guard::tenant_access(ctx.state(), ctx.principal()?, Lane::GraphQl, app, tenant_id).await
}

/// A root key or the app's key, administering the app.
pub async fn app_admin(ctx: &Context<'_>, app: Option<&str>) -> Result<AppAdmin, Error> {
    guard::app_admin(ctx.state(), ctx.principal()?, Lane::GraphQl, app).await
}

/// The signed-in end user acting on their own account.
pub async fn me(ctx: &Context<'_>) -> Result<Me, Error> {
    guard::me(ctx.state(), ctx.principal()?, Lane::GraphQl, None).await
}

/// Access to the state and the caller from resolvers.
pub trait ContextExt {
    fn state(&self) -> &AppState;
    /// The authenticated caller; `UNAUTHENTICATED` when the request had no credential.
    fn principal(&self) -> Result<&Principal, Error>;
    /// Where the request came from (for sessions and the audit log).
    fn meta(&self) -> &RequestMeta;
    /// The request's batching loaders.
    fn loader(&self) -> &async_graphql::dataloader::DataLoader<loaders::Loaders>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // The HTTP handler passes the state with every request.
        self.data_unchecked::<AppState>()
    }

    fn principal(&self) -> Result<&Principal, Error> {
        self.data_opt::<Option<Principal>>()
            .and_then(Option::as_ref)
            .ok_or_else(|| Error::unauthenticated("a bearer token is required"))
    }

    fn meta(&self) -> &RequestMeta {
        static NONE: RequestMeta = RequestMeta {
            ip: None,
            user_agent: None,
        };
        self.data_opt::<RequestMeta>().unwrap_or(&NONE)
    }

    fn loader(&self) -> &async_graphql::dataloader::DataLoader<loaders::Loaders> {
        // The HTTP handler creates one per request.
        self.data_unchecked::<std::sync::Arc<async_graphql::dataloader::DataLoader<loaders::Loaders>>>()
    }
}
