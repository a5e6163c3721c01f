//! OAuth clients over REST (docs/src/oauth-provider.md): `/{slug}/v1/oauth/clients` for end
//! users (their own clients; `all` with `oauth_clients:read`) and
//! `/v1/apps/{app}/oauth-clients` for app administrators (who may create
//! first-party clients).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::oauth_client;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, Pagination},
    lane::Lane,
    response::{List, Resource, no_content},
    users::nullable,
};
use crate::services::guard;
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::oauth::clients::{self, ClientInput},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientDto {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub homepage_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Where RP-Initiated Logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Back-Channel Logout: where logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub allowed_scopes: Vec<String>,
    pub client_type: String,
    pub is_active: bool,
    pub is_first_party: bool,
    pub id_token_signed_response_alg: Option<String>,
    pub owner_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Token requests must carry a DPoP proof (RFC 9449).
    pub dpop_bound_access_tokens: bool,
    /// Token exchange policy (RFC 8693); `null`: not allowed.
    #[schema(value_type = Option<Object>)]
    pub token_exchange: Option<clients::TokenExchangePolicy>,
    /// `public` (the user's id) or `pairwise` (OIDC Core §8).
    pub subject_type: String,
    /// Where the client lists its redirect URIs for its pairwise sector.
    pub sector_identifier_uri: Option<String>,
    /// Only at creation (and when a change issued a new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl From<oauth_client::Model> for ClientDto {
    fn from(c: oauth_client::Model) -> Self {
        Self {
            redirect_uris: clients::redirect_uris(&c),
            post_logout_redirect_uris: clients::post_logout_redirect_uris(&c),
            allowed_scopes: clients::allowed_scopes(&c),
            token_exchange: clients::TokenExchangePolicy::of(&c),
            id: c.id,
            name: c.name,
            description: c.description,
            logo_url: c.logo_url,
            homepage_url: c.homepage_url,
            privacy_policy_url: c.privacy_policy_url,
            terms_of_service_url: c.terms_of_service_url,
            client_type: c.client_type,
            is_active: c.is_active,
            is_first_party: c.is_first_party,
            id_token_signed_response_alg: c.id_token_signed_response_alg,
            backchannel_logout_uri: c.backchannel_logout_uri,
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            owner_id: c.owner_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            dpop_bound_access_tokens: c.dpop_bound_access_tokens,
            subject_type: c.subject_type,
            sector_identifier_uri: c.sector_identifier_uri,
            client_secret: None,
        }
    }
}

fn link<L: Lane>(state: &AppState, app: &entity::app::Model, id: Uuid) -> String {
    format!("{}/{}/{id}", L::base(state, app), L::OAUTH_CLIENTS)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    logo_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    homepage_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    privacy_policy_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    terms_of_service_url: Option<Option<String>>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    allowed_scopes: Option<Vec<String>>,
    client_type: Option<String>,
    is_active: Option<bool>,
    is_first_party: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    id_token_signed_response_alg: Option<Option<String>>,
    dpop_bound_access_tokens: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    token_exchange: Option<Option<clients::TokenExchangePolicy>>,
    #[serde(default, deserialize_with = "nullable")]
    backchannel_logout_uri: Option<Option<String>>,
    backchannel_logout_session_required: Option<bool>,
    /// `public` or `pairwise`.
    subject_type: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    sector_identifier_uri: Option<Option<String>>,
}

impl From<ClientBody> for ClientInput {
    fn from(b: ClientBody) -> Self {
        Self {
            name: b.name,
            description: b.description,
            logo_url: b.logo_url,
            homepage_url: b.homepage_url,
            privacy_policy_url: b.privacy_policy_url,
            terms_of_service_url: b.terms_of_service_url,
            redirect_uris: b.redirect_uris,
            allowed_scopes: b.allowed_scopes,
            client_type: b.client_type,
            is_active: b.is_active,
            is_first_party: b.is_first_party,
            id_token_signed_response_alg: b.id_token_signed_response_alg,
            post_logout_redirect_uris: b.post_logout_redirect_uris,
            dpop_bound_access_tokens: b.dpop_bound_access_tokens,
            token_exchange: b.token_exchange,
            backchannel_logout_uri: b.backchannel_logout_uri,
            backchannel_logout_session_required: b.backchannel_logout_session_required,
            subject_type: b.subject_type,
            sector_identifier_uri: b.sector_identifier_uri,
        }
    }
}

pub async fn create<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<ClientBody>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let (client, secret) = clients::create(&state, &admin, body.into(), &meta).await?;
    let self_link = link::<L>(&state, admin.app(), client.id);
    let mut dto = ClientDto::from(client);
    dto.client_secret = secret;
    Ok(Resource::created(dto, self_link))
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let page = clients::list(&state, &admin, false, page).await?;
    Ok(List(page.map(ClientDto::from)))
}

pub async fn list_all<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let page = clients::list(&state, &admin, true, page).await?;
    Ok(List(page.map(ClientDto::from)))
}

pub async fn get<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let client = clients::get(&state, &admin, &id).await?;
    let self_link = link::<L>(&state, admin.app(), client.id);
    Ok(Resource::ok(ClientDto::from(client), self_link))
}

pub async fn update<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ClientBody>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let (client, secret) = clients::update(&state, &admin, &id, body.into(), &meta).await?;
    let self_link = link::<L>(&state, admin.app(), client.id);
    let mut dto = ClientDto::from(client);
    dto.client_secret = secret;
    Ok(Resource::ok(dto, self_link))
}

pub async fn delete<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    clients::delete(&state, &admin, &id, &meta).await?;
    Ok(no_content())
}

pub async fn regenerate_secret<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let (client, secret) = clients::regenerate_secret(&state, &admin, &id, &meta).await?;
    let self_link = link::<L>(&state, admin.app(), client.id);
    Ok(axum::Json(json!({
        "data": {
            "client_id": client.id,
            "client_secret": secret,
            "message": "Client secret has been regenerated. Make sure to save it securely - it won't be shown again.",
        },
        "_links": { "self": self_link },
    })))
}
