//! The OAuth family (docs/src/oauth-provider.md): `myOauthClients`, `createOauthClient`,
//! `regenerateOauthClientSecret`, `deleteOauthClient`, `oauthScopes`,
//! `myOauthConsents`, `myOauthTokens`, `revokeOauthConsent`, `revokeOauthToken`.

use async_graphql::{
    Context, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::oauth_client;

use super::{ContextExt, guards::Authenticated, relay};
use crate::{
    access::AppAccess,
    db::PageRequest,
    error::Error,
    services::oauth::{
        SCOPES, authorize,
        clients::{self, ClientInput},
        grants, scopes_of,
    },
};

/// A third-party application that signs users in with this app.
pub struct OAuthClient(pub oauth_client::Model);

#[Object]
impl OAuthClient {
    /// The `client_id`.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Shown on the consent screen.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn logo_url(&self) -> Option<&str> {
        self.0.logo_url.as_deref()
    }
    async fn homepage_url(&self) -> Option<&str> {
        self.0.homepage_url.as_deref()
    }
    async fn privacy_policy_url(&self) -> Option<&str> {
        self.0.privacy_policy_url.as_deref()
    }
    async fn terms_of_service_url(&self) -> Option<&str> {
        self.0.terms_of_service_url.as_deref()
    }
    /// Matched exactly at authorization time.
    async fn redirect_uris(&self) -> Vec<String> {
        clients::redirect_uris(&self.0)
    }
    /// Where RP-Initiated Logout may send the browser back to (matched exactly).
    async fn post_logout_redirect_uris(&self) -> Vec<String> {
        clients::post_logout_redirect_uris(&self.0)
    }
    /// OpenID Connect Back-Channel Logout: where signed logout tokens are POSTed.
    async fn backchannel_logout_uri(&self) -> Option<&str> {
        self.0.backchannel_logout_uri.as_deref()
    }
    /// Whether the client needs `sid` in logout tokens (Heimdall always sends it).
    async fn backchannel_logout_session_required(&self) -> bool {
        self.0.backchannel_logout_session_required
    }
    async fn allowed_scopes(&self) -> Vec<String> {
        clients::allowed_scopes(&self.0)
    }
    /// `confidential` or `public`.
    async fn client_type(&self) -> &str {
        &self.0.client_type
    }
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// First-party clients skip the consent screen.
    async fn is_first_party(&self) -> bool {
        self.0.is_first_party
    }
    /// `HS256` when ID tokens are signed with the client secret.
    async fn id_token_signed_response_alg(&self) -> Option<&str> {
        self.0.id_token_signed_response_alg.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Token requests must carry a DPoP proof (RFC 9449); its tokens are DPoP-bound.
    async fn dpop_bound_access_tokens(&self) -> bool {
        self.0.dpop_bound_access_tokens
    }
    /// Whether and for which API resources the client may exchange tokens (RFC 8693).
    async fn token_exchange(&self) -> Option<TokenExchangePolicy> {
        clients::TokenExchangePolicy::of(&self.0).map(|p| TokenExchangePolicy {
            allowed: p.allowed,
            audiences: p.audiences,
        })
    }
    /// `public` (the user's id) or `pairwise` (OIDC Core §8).
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }
    /// Where the client lists its redirect URIs for its pairwise sector.
    async fn sector_identifier_uri(&self) -> Option<&str> {
        self.0.sector_identifier_uri.as_deref()
    }
}

/// A client's token exchange policy (RFC 8693).
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "TokenExchangePolicyInput")]
pub struct TokenExchangePolicy {
    /// The client may use the token-exchange grant.
    pub allowed: bool,
    /// API resource identifiers it may ask tokens for (`audience`/`resource`).
    pub audiences: Vec<String>,
}

#[derive(InputObject)]
#[graphql(name = "CreateOAuthClientInput")]
pub struct CreateOAuthClientInput {
    pub name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub homepage_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Required here (the REST API defaults it to openid, profile, email).
    pub allowed_scopes: Vec<String>,
    /// `confidential` (default) or `public`.
    pub client_type: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    /// Skips the consent screen (root key or the app's key only).
    pub is_first_party: Option<bool>,
    /// Where RP-Initiated Logout may send the browser back to.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Token requests must carry a DPoP proof (RFC 9449).
    pub dpop_bound_access_tokens: Option<bool>,
    /// Token exchange (RFC 8693; root key or the app's key only).
    pub token_exchange: Option<TokenExchangePolicy>,
    /// Where signed Back-Channel Logout tokens are POSTed (https; webhook URL rules).
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    /// `public` (default) or `pairwise` (OIDC Core §8).
    pub subject_type: Option<String>,
    /// An https URL answering a JSON array that lists every redirect URI; the
    /// pairwise sector is its host (needed when the redirect URIs span hosts).
    pub sector_identifier_uri: Option<String>,
}

/// Changes to a client; omitted fields stay as they are.
#[derive(InputObject)]
#[graphql(name = "UpdateOAuthClientInput")]
pub struct UpdateOAuthClientInput {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub allowed_scopes: Option<Vec<String>>,
    pub is_active: Option<bool>,
    /// Where RP-Initiated Logout may send the browser back to.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Where signed Back-Channel Logout tokens are POSTed; an empty string removes it.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    /// An empty string removes it.
    pub description: Option<String>,
    /// An empty string removes it.
    pub logo_url: Option<String>,
    /// An empty string removes it.
    pub homepage_url: Option<String>,
    /// An empty string removes it.
    pub privacy_policy_url: Option<String>,
    /// An empty string removes it.
    pub terms_of_service_url: Option<String>,
    /// Token requests must carry a DPoP proof (RFC 9449).
    pub dpop_bound_access_tokens: Option<bool>,
    /// Token exchange (RFC 8693; root key or the app's key only); `null` removes it.
    pub token_exchange: async_graphql::MaybeUndefined<TokenExchangePolicy>,
    /// `public` or `pairwise`; a pairwise client's sector cannot move.
    pub subject_type: Option<String>,
    /// An empty string removes it.
    pub sector_identifier_uri: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "CreateOAuthClientPayload")]
pub struct CreateOAuthClientPayload {
    pub client: OAuthClient,
    /// `hm_sec_…`, shown once (confidential clients).
    pub client_secret: Option<String>,
}

#[derive(SimpleObject)]
pub struct RegenerateSecretPayload {
    pub success: bool,
    pub client_secret: Option<String>,
    pub error: Option<String>,
}

#[derive(SimpleObject)]
pub struct DeletePayload {
    pub success: bool,
    pub error: Option<String>,
}

#[derive(SimpleObject)]
pub struct OAuthScope {
    pub name: String,
    pub description: String,
}

/// A user's consent to a client.
#[derive(SimpleObject)]
pub struct OAuthConsent {
    pub client_id: ID,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub is_first_party: bool,
    pub granted_at: DateTime<Utc>,
}

/// A live token a client holds for the user.
#[derive(SimpleObject)]
pub struct OAuthTokenInfo {
    pub id: ID,
    pub client_id: ID,
    pub client_name: String,
    /// `access` or `refresh`.
    pub kind: String,
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// The caller as a client manager of their own app (end users), or an app's keys
/// (a root key names the app).
async fn manager(ctx: &Context<'_>, app: Option<&str>) -> Result<AppAccess, Error> {
    super::app_access(ctx, app).await
}

#[derive(Default)]
pub struct OAuthQuery;

#[Object]
impl OAuthQuery {
    /// The OAuth clients the caller owns.
    #[graphql(guard = "Authenticated")]
    async fn my_oauth_clients(&self, ctx: &Context<'_>) -> Result<Vec<OAuthClient>> {
        let me = super::me(ctx).await?;
        Ok(clients::owned_by(ctx.state(), &me, 200)
            .await?
            .into_iter()
            .map(OAuthClient)
            .collect())
    }

    /// Every OAuth client of the app, in creation order (keys, or `oauth_clients:read`).
    #[graphql(guard = "Authenticated")]
    async fn oauth_clients(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, OAuthClient>> {
        let access = manager(ctx, app.as_deref()).await?;
        let had_cursor = after.is_some();
        let page = PageRequest::from_graphql(first, after)?;
        let page = clients::list(ctx.state(), &access, true, page).await?;
        Ok(relay::connection(page, had_cursor, |c| c.id, OAuthClient))
    }

    /// Every scope a client can request, with what it grants.
    async fn oauth_scopes(&self) -> Vec<OAuthScope> {
        SCOPES
            .iter()
            .map(|(name, description)| OAuthScope {
                name: (*name).to_owned(),
                description: (*description).to_owned(),
            })
            .collect()
    }

    /// The caller's consents.
    #[graphql(guard = "Authenticated")]
    async fn my_oauth_consents(&self, ctx: &Context<'_>) -> Result<Vec<OAuthConsent>> {
        let me = super::me(ctx).await?;
        Ok(authorize::consents_of(ctx.state(), &me)
            .await?
            .into_iter()
            .map(|(consent, client)| OAuthConsent {
                client_id: ID(client.id.to_string()),
                client_name: client.name,
                scopes: scopes_of(&consent.scopes),
                is_first_party: client.is_first_party,
                granted_at: consent.updated_at,
            })
            .collect())
    }

    /// Tokens clients hold for the caller.
    #[graphql(guard = "Authenticated")]
    async fn my_oauth_tokens(&self, ctx: &Context<'_>) -> Result<Vec<OAuthTokenInfo>> {
        let me = super::me(ctx).await?;
        Ok(grants::tokens_of(ctx.state(), &me)
            .await?
            .into_iter()
            .map(|(token, client)| OAuthTokenInfo {
                id: ID(token.id.to_string()),
                client_id: ID(client.id.to_string()),
                client_name: client.name,
                kind: token.kind,
                scopes: scopes_of(&token.scopes),
                expires_at: token.expires_at,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct OAuthMutation;

#[Object]
impl OAuthMutation {
    /// Registers an OAuth client owned by the caller; the secret is returned once.
    #[graphql(guard = "Authenticated")]
    async fn create_oauth_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        input: CreateOAuthClientInput,
    ) -> Result<CreateOAuthClientPayload> {
        let state = ctx.state();
        let admin = manager(ctx, app.as_deref()).await?;
        let (client, client_secret) = clients::create(
            state,
            &admin,
            ClientInput {
                name: Some(input.name),
                description: Some(input.description),
                logo_url: Some(input.logo_url),
                homepage_url: Some(input.homepage_url),
                privacy_policy_url: Some(input.privacy_policy_url),
                terms_of_service_url: Some(input.terms_of_service_url),
                redirect_uris: Some(input.redirect_uris),
                allowed_scopes: Some(input.allowed_scopes),
                client_type: input.client_type,
                is_active: None,
                is_first_party: input.is_first_party,
                id_token_signed_response_alg: Some(input.id_token_signed_response_alg),
                post_logout_redirect_uris: input.post_logout_redirect_uris,
                dpop_bound_access_tokens: input.dpop_bound_access_tokens,
                token_exchange: input.token_exchange.map(|p| {
                    Some(clients::TokenExchangePolicy {
                        allowed: p.allowed,
                        audiences: p.audiences,
                    })
                }),
                backchannel_logout_uri: Some(input.backchannel_logout_uri),
                backchannel_logout_session_required: input.backchannel_logout_session_required,
                subject_type: input.subject_type,
                sector_identifier_uri: Some(input.sector_identifier_uri),
            },
            ctx.meta(),
        )
        .await?;
        Ok(CreateOAuthClientPayload {
            client: OAuthClient(client),
            client_secret,
        })
    }

    /// Changes a client (owner or `oauth_clients:update`).
    #[graphql(guard = "Authenticated")]
    async fn update_oauth_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
        input: UpdateOAuthClientInput,
    ) -> Result<OAuthClient> {
        let state = ctx.state();
        let admin = manager(ctx, app.as_deref()).await?;
        let (client, _) = clients::update(
            state,
            &admin,
            &id,
            ClientInput {
                name: input.name,
                redirect_uris: input.redirect_uris,
                allowed_scopes: input.allowed_scopes,
                is_active: input.is_active,
                post_logout_redirect_uris: input.post_logout_redirect_uris,
                backchannel_logout_uri: input.backchannel_logout_uri.map(Some),
                backchannel_logout_session_required: input.backchannel_logout_session_required,
                description: input.description.map(Some),
                logo_url: input.logo_url.map(Some),
                homepage_url: input.homepage_url.map(Some),
                privacy_policy_url: input.privacy_policy_url.map(Some),
                terms_of_service_url: input.terms_of_service_url.map(Some),
                dpop_bound_access_tokens: input.dpop_bound_access_tokens,
                token_exchange: match input.token_exchange {
                    async_graphql::MaybeUndefined::Undefined => None,
                    async_graphql::MaybeUndefined::Null => Some(None),
                    async_graphql::MaybeUndefined::Value(p) => {
                        Some(Some(clients::TokenExchangePolicy {
                            allowed: p.allowed,
                            audiences: p.audiences,
                        }))
                    }
                },
                subject_type: input.subject_type,
                sector_identifier_uri: input.sector_identifier_uri.map(Some),
                ..ClientInput::default()
            },
            ctx.meta(),
        )
        .await?;
        Ok(OAuthClient(client))
    }

    /// A new secret for a confidential client (owner or `oauth_clients:update`).
    #[graphql(guard = "Authenticated")]
    async fn regenerate_oauth_client_secret(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<RegenerateSecretPayload> {
        let state = ctx.state();
        let admin = manager(ctx, app.as_deref()).await?;
        let (_, secret) = clients::regenerate_secret(state, &admin, &id, ctx.meta()).await?;
        Ok(RegenerateSecretPayload {
            success: true,
            client_secret: Some(secret),
            error: None,
        })
    }

    /// Deletes a client (owner or `oauth_clients:delete`).
    #[graphql(guard = "Authenticated")]
    async fn delete_oauth_client(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        id: ID,
    ) -> Result<DeletePayload> {
        let state = ctx.state();
        let admin = manager(ctx, app.as_deref()).await?;
        clients::delete(state, &admin, &id, ctx.meta()).await?;
        Ok(DeletePayload {
            success: true,
            error: None,
        })
    }

    /// Deletes the caller's consent to a client and revokes its tokens.
    #[graphql(guard = "Authenticated")]
    async fn revoke_oauth_consent(&self, ctx: &Context<'_>, client_id: ID) -> Result<bool> {
        let me = super::me(ctx).await?;
        authorize::revoke_consent(ctx.state(), &me, &client_id, ctx.meta()).await?;
        Ok(true)
    }

    /// Revokes one token a client holds for the caller (and the rest of its grant).
    #[graphql(guard = "Authenticated")]
    async fn revoke_oauth_token(&self, ctx: &Context<'_>, token_id: ID) -> Result<bool> {
        let me = super::me(ctx).await?;
        grants::revoke_by_id(ctx.state(), &me, &token_id, ctx.meta()).await?;
        Ok(true)
    }
}
