//! `/v1/apps/{app}/api-resources`: the APIs OAuth clients get access tokens for
//! (docs/src/oauth-extensions.md#api-resources-and-jwt-access-tokens).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::api_resource;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath},
    response::{Resource, no_content},
};
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::{
        guard::{self, Lane},
        oauth::resources::{self, ResourceInput},
    },
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiResourceDto {
    pub id: Uuid,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub access_token_format: String,
    pub token_ttl: i32,
    pub include_permissions: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<api_resource::Model> for ApiResourceDto {
    fn from(m: api_resource::Model) -> Self {
        Self {
            scopes: resources::scopes(&m),
            id: m.id,
            identifier: m.identifier,
            name: m.name,
            access_token_format: m.access_token_format,
            token_ttl: m.token_ttl,
            include_permissions: m.include_permissions,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceBody {
    identifier: Option<String>,
    name: Option<String>,
    scopes: Option<Vec<String>>,
    access_token_format: Option<String>,
    token_ttl: Option<i32>,
    include_permissions: Option<bool>,
}

impl From<ResourceBody> for ResourceInput {
    fn from(b: ResourceBody) -> Self {
        Self {
            identifier: b.identifier,
            name: b.name,
            scopes: b.scopes,
            access_token_format: b.access_token_format,
            token_ttl: b.token_ttl,
            include_permissions: b.include_permissions,
        }
    }
}

fn link(state: &AppState, app: &entity::app::Model, id: Uuid) -> String {
    format!(
        "{}/v1/apps/{}/api-resources/{id}",
        state.config.base_path, app.name
    )
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<ResourceBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let created = resources::create(&state, &admin, body.into(), &meta).await?;
    let self_link = link(&state, admin.app(), created.id);
    Ok(Resource::created(ApiResourceDto::from(created), self_link).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let data: Vec<ApiResourceDto> = resources::list(&state, &admin)
        .await?
        .into_iter()
        .map(ApiResourceDto::from)
        .collect();
    Ok(axum::Json(json!({ "data": data, "next_cursor": null })).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let found = resources::get(&state, &admin, &id).await?;
    let self_link = link(&state, admin.app(), found.id);
    Ok(Resource::ok(ApiResourceDto::from(found), self_link).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ResourceBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let updated = resources::update(&state, &admin, &id, body.into(), &meta).await?;
    let self_link = link(&state, admin.app(), updated.id);
    Ok(Resource::ok(ApiResourceDto::from(updated), self_link).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    resources::delete(&state, &admin, &id, &meta).await?;
    Ok(no_content())
}
