//! The GraphQL API: one schema for every principal, authorised by the same guard as
//! REST. Query and mutation roots are merged from one object per domain area.

pub mod apps;
pub mod audit;
pub mod federation;
pub mod guards;
pub mod http;
pub mod lifecycle;
pub mod limits;
pub mod loaders;
pub mod m2m;
pub mod oauth;
pub mod relay;
pub mod roles;
pub mod tenants;
pub mod users;
pub mod webhooks;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};

use crate::{auth::Principal, error::Error, request::RequestMeta, state::AppState};

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
