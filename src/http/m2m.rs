//! `/v1/apps/{app}/m2m-clients`: machine clients (root key or the app's key).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::m2m_client;
use serde::{Deserialize, Serialize};

use super::{
    extract::{ApiJson, ApiPath, OptionalJson, Pagination},
    response::{List, Resource, no_content},
};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::{m2m, permissions},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct M2mClientDto {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Updated at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still works.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Present once: at creation and rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl From<m2m_client::Model> for M2mClientDto {
    fn from(c: m2m_client::Model) -> Self {
        Self {
            scopes: permissions::of_json(&c.scopes),
            client_id: c.client_id,
            name: c.name,
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_used_at: c.last_used_at,
            previous_secret_expires_at: c.previous_secret_expires_at,
            client_secret: None,
        }
    }
}

fn link(state: &AppState, app: &str, client_id: &str) -> String {
    format!(
        "{}/v1/apps/{app}/m2m-clients/{client_id}",
        state.config.base_path
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateClient>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let (client, secret) = m2m::create(&state, &admin, &body.name, &body.scopes, &meta).await?;
    let self_link = link(&state, &admin.app().name, &client.client_id);
    let mut dto = M2mClientDto::from(client);
    dto.client_secret = Some(secret);
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
        m2m::list(&state, &admin, page)
            .await?
            .map(M2mClientDto::from),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, client_id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let client = m2m::get(&state, &admin, &client_id).await?;
    Ok(Resource::ok(
        M2mClientDto::from(client),
        link(&state, &admin.app().name, &client_id),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    name: Option<String>,
    scopes: Option<Vec<String>>,
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, client_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateClient>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let client = m2m::update(
        &state,
        &admin,
        &client_id,
        body.name.as_deref(),
        body.scopes.as_deref(),
        &meta,
    )
    .await?;
    Ok(Resource::ok(
        M2mClientDto::from(client),
        link(&state, &admin.app().name, &client_id),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RotateM2mSecret)]
pub struct Rotate {
    grace_period_seconds: Option<i64>,
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, client_id)): ApiPath<(String, String)>,
    OptionalJson(body): OptionalJson<Rotate>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let grace = body.and_then(|b| b.grace_period_seconds);
    let (client, secret) = m2m::rotate_secret(&state, &admin, &client_id, grace, &meta).await?;
    let mut dto = M2mClientDto::from(client);
    dto.client_secret = Some(secret);
    Ok(Resource::ok(
        dto,
        link(&state, &admin.app().name, &client_id),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, client_id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    m2m::delete(&state, &admin, &client_id, &meta).await?;
    Ok(no_content())
}
