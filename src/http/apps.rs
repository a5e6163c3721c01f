//! `/v1/apps` and `/v1/apps/{app}`.

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::app;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, Pagination},
    response::{List, Resource, no_content},
};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal,
    error::Result,
    services::apps::{self, AppPatch, AppSettings, NewApp},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct AppDto {
    pub id: Uuid,
    pub name: String,
    pub display_name: String,
    /// The `iss` of the app's tokens and the base of its OpenID configuration.
    pub issuer: String,
    /// The app's settings (docs/src/apps-and-keys.md).
    #[schema(value_type = Object)]
    pub settings: AppSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AppDto {
    pub fn new(state: &AppState, app: &app::Model) -> Self {
        Self {
            id: app.id,
            name: app.name.clone(),
            display_name: app.display_name.clone(),
            issuer: state.issuer(&app.name),
            settings: AppSettings::from_stored(&app.settings),
            created_at: app.created_at,
            updated_at: app.updated_at,
        }
    }
}

pub fn app_link(state: &AppState, app: &app::Model) -> String {
    format!("{}/v1/apps/{}", state.config.base_path, app.name)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    name: String,
    display_name: Option<String>,
    /// Settings to merge into the defaults (docs/src/apps-and-keys.md).
    #[schema(value_type = Option<Object>)]
    settings: Option<Map<String, Value>>,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    meta: crate::request::RequestMeta,
    ApiJson(body): ApiJson<CreateApp>,
) -> Result<impl IntoResponse> {
    let root = guard::root(&principal)?;
    let app = apps::create(
        &state,
        &root,
        NewApp {
            name: body.name,
            display_name: body.display_name,
            settings: body.settings,
        },
        &meta,
    )
    .await?;
    Ok(Resource::created(
        AppDto::new(&state, &app),
        app_link(&state, &app),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let page = apps::list(&state, &principal, page).await?;
    Ok(List(page.map(|app| AppDto::new(&state, &app))))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    Ok(Resource::ok(
        AppDto::new(&state, admin.app()),
        app_link(&state, admin.app()),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    display_name: Option<String>,
    /// Settings to merge into the defaults (docs/src/apps-and-keys.md).
    #[schema(value_type = Option<Object>)]
    settings: Option<Map<String, Value>>,
    /// Present only to give a clear error: the slug is part of the issuer.
    name: Option<Value>,
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    meta: crate::request::RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateApp>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let app = apps::update(
        &state,
        &admin,
        AppPatch {
            name: body.name,
            display_name: body.display_name,
            settings: body.settings,
        },
        &meta,
    )
    .await?;
    Ok(Resource::ok(
        AppDto::new(&state, &app),
        app_link(&state, &app),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let root = guard::root(&principal)?;
    apps::delete(&state, &root, admin.app()).await?;
    Ok(no_content())
}
