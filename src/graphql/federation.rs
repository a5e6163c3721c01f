//! Federated sign-in: identity provider configuration (app keys) and identities
//! (the caller's own, and any user's for administrators).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::federated_identity;
use uuid::Uuid;

use super::{ContextExt, guards::Authenticated};
use crate::{
    error::Error,
    services::federation::{
        identities,
        providers::{self, AppleInput, Config, OidcInput, Provider, SecretUpdate},
    },
};

fn parse_id(id: &ID, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

fn secret_update(value: MaybeUndefined<String>) -> SecretUpdate {
    match value {
        MaybeUndefined::Undefined => SecretUpdate::Keep,
        MaybeUndefined::Null => SecretUpdate::Remove,
        MaybeUndefined::Value(v) => SecretUpdate::Set(v),
    }
}

/// An upstream identity provider of an app: Sign in with Apple (`id: "apple"`) or a
/// generic OpenID Connect provider. Secrets are write-only: only `hasPrivateKey` /
/// `hasClientSecret` tell whether one is stored.
pub struct IdentityProvider(pub Provider, pub String);

impl IdentityProvider {
    fn apple(&self) -> Option<&providers::AppleConfig> {
        match &self.0.config {
            Config::Apple(c) => Some(c),
            Config::Oidc(_) => None,
        }
    }

    fn oidc(&self) -> Option<&providers::OidcConfig> {
        match &self.0.config {
            Config::Oidc(c) => Some(c),
            Config::Apple(_) => None,
        }
    }
}

#[Object]
impl IdentityProvider {
    /// The provider's name in URLs: `apple`, or a generic provider's name.
    async fn id(&self) -> &str {
        &self.0.model.name
    }
    /// `apple` or `oidc`.
    async fn kind(&self) -> &str {
        &self.0.model.kind
    }
    async fn enabled(&self) -> bool {
        self.0.model.enabled
    }
    /// Heimdall's callback URL to register at the provider (Apple: the Services
    /// ID's Return URL).
    async fn callback_url(&self, ctx: &Context<'_>) -> String {
        providers::callback_url(ctx.state(), &self.1, &self.0.model.name)
    }
    /// Where a web sign-in finally sends the browser (tokens in the fragment).
    async fn redirect_uri(&self) -> Option<&str> {
        match &self.0.config {
            Config::Apple(c) => c.redirect_uri.as_deref(),
            Config::Oidc(c) => Some(&c.redirect_uri),
        }
    }
    /// Apple: the Services ID (web sign-in).
    async fn services_id(&self) -> Option<&str> {
        self.apple().and_then(|c| c.services_id.as_deref())
    }
    /// Apple: the app bundle ids (native sign-in).
    async fn bundle_ids(&self) -> Option<Vec<String>> {
        self.apple().map(|c| c.bundle_ids.clone())
    }
    /// Apple: the Team ID.
    async fn team_id(&self) -> Option<&str> {
        self.apple().and_then(|c| c.team_id.as_deref())
    }
    /// Apple: the Key ID of the Sign in with Apple key.
    async fn key_id(&self) -> Option<&str> {
        self.apple().and_then(|c| c.key_id.as_deref())
    }
    /// Apple: whether the `.p8` private key is stored (it is never returned).
    async fn has_private_key(&self) -> Option<bool> {
        self.apple().map(|_| self.0.has_secret())
    }
    /// OIDC: the expected issuer.
    async fn issuer(&self) -> Option<&str> {
        self.oidc().and_then(|c| c.issuer.as_deref())
    }
    /// OIDC: the discovery document's URL.
    async fn discovery_url(&self) -> Option<&str> {
        self.oidc().map(|c| c.discovery_url.as_str())
    }
    /// OIDC: the client id at the provider.
    async fn client_id(&self) -> Option<&str> {
        self.oidc().map(|c| c.client_id.as_str())
    }
    /// OIDC: whether a client secret is stored (it is never returned).
    async fn has_client_secret(&self) -> Option<bool> {
        self.oidc().map(|_| self.0.has_secret())
    }
    /// OIDC: the scopes requested (always with `openid`).
    async fn scopes(&self) -> Option<Vec<String>> {
        self.oidc().map(|c| c.scopes.clone())
    }
    /// OIDC: a name to show on sign-in buttons.
    async fn display_name(&self) -> Option<&str> {
        self.oidc().and_then(|c| c.display_name.as_deref())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.model.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.model.updated_at
    }
}

/// A user's identity at an upstream provider.
pub struct FederatedIdentity(pub federated_identity::Model);

#[Object]
impl FederatedIdentity {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// The provider's name (`apple`, or a generic provider's name).
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    /// The user's id at the provider (`sub`).
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// The email the provider asserted when the identity was linked.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn email_verified(&self) -> bool {
        self.0.email_verified
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }
}

/// Sign in with Apple. Replaces the stored configuration; `privateKey` omitted
/// keeps the stored key, `null` removes it.
#[derive(InputObject)]
pub struct AppleProviderInput {
    /// The Services ID (web sign-in's client id).
    pub services_id: Option<String>,
    /// The bundle ids of the iOS/macOS apps (native sign-in).
    #[graphql(default)]
    pub bundle_ids: Vec<String>,
    pub team_id: Option<String>,
    pub key_id: Option<String>,
    /// The contents of the `.p8` key file (write-only).
    pub private_key: MaybeUndefined<String>,
    pub redirect_uri: Option<String>,
    pub enabled: Option<bool>,
}

/// A generic OpenID Connect provider. Replaces the stored configuration;
/// `clientSecret` omitted keeps the stored secret, `null` removes it.
#[derive(InputObject)]
pub struct OidcProviderInput {
    pub issuer: Option<String>,
    /// Defaults to `{issuer}/.well-known/openid-configuration`.
    pub discovery_url: Option<String>,
    pub client_id: String,
    /// Write-only.
    pub client_secret: MaybeUndefined<String>,
    /// Defaults to `openid email profile`.
    pub scopes: Option<Vec<String>>,
    pub redirect_uri: String,
    pub display_name: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// The app's identity providers (app keys and root).
    #[graphql(guard = "Authenticated")]
    async fn identity_providers(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
    ) -> Result<Vec<IdentityProvider>> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let slug = admin.app().name.clone();
        Ok(providers::list(state, &admin)
            .await?
            .into_iter()
            .map(|p| IdentityProvider(p, slug.clone()))
            .collect())
    }

    /// One identity provider (`apple` or a generic provider's name).
    #[graphql(guard = "Authenticated")]
    async fn identity_provider(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: String,
    ) -> Result<IdentityProvider> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let provider = providers::get_admin(state, &admin, &id).await?;
        Ok(IdentityProvider(provider, admin.app().name.clone()))
    }

    /// The signed-in end user's federated identities.
    #[graphql(guard = "Authenticated")]
    async fn my_identities(&self, ctx: &Context<'_>) -> Result<Vec<FederatedIdentity>> {
        let me = super::me(ctx).await?;
        Ok(identities::mine(ctx.state(), &me)
            .await?
            .into_iter()
            .map(FederatedIdentity)
            .collect())
    }

    /// A user's federated identities (administrators, `user.read`).
    #[graphql(guard = "Authenticated")]
    async fn user_identities(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
    ) -> Result<Vec<FederatedIdentity>> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        Ok(
            identities::list_for_admin(state, &admin, parse_id(&user_id, "user")?)
                .await?
                .into_iter()
                .map(FederatedIdentity)
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct FederationMutation;

#[Object]
impl FederationMutation {
    /// Configures Sign in with Apple (app keys and root).
    #[graphql(guard = "Authenticated")]
    async fn configure_apple_provider(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: AppleProviderInput,
    ) -> Result<IdentityProvider> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let input = AppleInput {
            services_id: input.services_id,
            bundle_ids: input.bundle_ids,
            team_id: input.team_id,
            key_id: input.key_id,
            private_key: secret_update(input.private_key),
            redirect_uri: input.redirect_uri,
            enabled: input.enabled,
        };
        let (provider, _) = providers::put_apple(state, &admin, input, ctx.meta()).await?;
        Ok(IdentityProvider(provider, admin.app().name.clone()))
    }

    /// Configures a generic OpenID Connect provider named `id` (app keys and root).
    #[graphql(guard = "Authenticated")]
    async fn configure_oidc_provider(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: String,
        input: OidcProviderInput,
    ) -> Result<IdentityProvider> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        let input = OidcInput {
            issuer: input.issuer,
            discovery_url: input.discovery_url,
            client_id: input.client_id,
            client_secret: secret_update(input.client_secret),
            scopes: input.scopes,
            redirect_uri: input.redirect_uri,
            display_name: input.display_name,
            enabled: input.enabled,
        };
        let (provider, _) = providers::put_oidc(state, &admin, &id, input, ctx.meta()).await?;
        Ok(IdentityProvider(provider, admin.app().name.clone()))
    }

    /// Deletes an identity provider; linked identities stay.
    #[graphql(guard = "Authenticated")]
    async fn delete_identity_provider(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: String,
    ) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_admin(ctx, app.as_deref()).await?;
        providers::delete(state, &admin, &id, ctx.meta()).await?;
        Ok(true)
    }

    /// Unlinks one of the caller's identities; refused (`CONFLICT`) when it is the
    /// account's last way to sign in.
    #[graphql(guard = "Authenticated")]
    async fn unlink_my_identity(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let me = super::me(ctx).await?;
        identities::unlink_mine(ctx.state(), &me, parse_id(&id, "identity")?, ctx.meta()).await?;
        Ok(true)
    }

    /// Unlinks a user's identity (administrators, `user.update`).
    #[graphql(guard = "Authenticated")]
    async fn unlink_user_identity(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        user_id: ID,
        id: ID,
    ) -> Result<bool> {
        let state = ctx.state();
        let admin = super::app_access(ctx, app.as_deref()).await?;
        identities::unlink_for_admin(
            state,
            &admin,
            parse_id(&user_id, "user")?,
            parse_id(&id, "identity")?,
            ctx.meta(),
        )
        .await?;
        Ok(true)
    }
}
