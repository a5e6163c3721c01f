//! `/v1/apps/{app}/api-keys`: app keys (PAK).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::api_key;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    extract::{ApiPath, OptionalJson, Pagination, uuid_param},
    response::{List, Resource, no_content},
};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal, error::Result, request::RequestMeta, services::keys, state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyDto {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    /// The last four characters of the key.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key itself: present once, in the create response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<api_key::Model> for ApiKeyDto {
    fn from(m: api_key::Model) -> Self {
        Self {
            id: m.id,
            app_id: m.app_id,
            name: m.name,
            hint: m.hint,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            key: None,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    name: Option<String>,
}

fn link(state: &AppState, app: &str, id: Uuid) -> String {
    format!("{}/v1/apps/{app}/api-keys/{id}", state.config.base_path)
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    OptionalJson(body): OptionalJson<CreateApiKey>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let name = body
        .and_then(|b| b.name)
        .unwrap_or_else(|| "default".into());
    let (model, secret) = keys::create_app_key(&state, &admin, &name, &meta).await?;
    let self_link = link(&state, &admin.app().name, model.id);
    let mut dto = ApiKeyDto::from(model);
    dto.key = Some(secret);
    Ok(Resource::created(dto, self_link))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let page = keys::list_app_keys(&state, &admin, page).await?;
    Ok(List(page.map(ApiKeyDto::from)))
}

pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    keys::revoke_app_key(&state, &admin, uuid_param(&id, "api key")?, &meta).await?;
    Ok(no_content())
}
