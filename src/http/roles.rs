//! The role catalogue over REST: `/v1/apps/{app}/roles` (keys; `PUT` is the
//! declarative sync) and `/{slug}/v1/roles` (end users with `role.manage`; reading
//! needs `role.manage` or `role.assign`).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::role;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery},
    lane::Lane,
    response::{List, Resource, no_content},
    users::nullable,
};
use crate::services::guard;
use crate::{
    access::Principal,
    db::Page,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        permissions,
        roles::{self, RoleInput, RolePatch},
    },
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleDto {
    pub name: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    /// System roles are created with the app and cannot be changed or deleted.
    pub is_system: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<role::Model> for RoleDto {
    fn from(r: role::Model) -> Self {
        Self {
            permissions: permissions::of_json(&r.permissions),
            name: r.name,
            display_name: r.display_name,
            description: r.description,
            is_system: r.is_system,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn link<L: Lane>(state: &AppState, app: &entity::app::Model, name: &str) -> String {
    format!("{}/roles/{name}", L::base(state, app))
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let roles = roles::list(&state, &admin).await?;
    Ok(List(Page {
        items: roles.into_iter().map(RoleDto::from).collect(),
        next_cursor: None,
    }))
}

pub async fn get<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, name)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let role = roles::get(&state, &admin, &name).await?;
    Ok(Resource::ok(
        RoleDto::from(role),
        link::<L>(&state, admin.app(), &name),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    name: String,
    display_name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl From<RoleBody> for RoleInput {
    fn from(b: RoleBody) -> Self {
        Self {
            name: b.name,
            display_name: b.display_name,
            description: b.description,
            permissions: b.permissions,
        }
    }
}

pub async fn create<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let role = roles::create(&state, &admin, body.into(), &meta).await?;
    let self_link = link::<L>(&state, admin.app(), &role.name);
    Ok(Resource::created(RoleDto::from(role), self_link))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    #[serde(default, deserialize_with = "nullable")]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    permissions: Option<Vec<String>>,
}

pub async fn update<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateRole>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let patch = RolePatch {
        display_name: body.display_name,
        description: body.description,
        permissions: body.permissions,
    };
    let role = roles::update(&state, &admin, &name, patch, &meta).await?;
    Ok(Resource::ok(
        RoleDto::from(role),
        link::<L>(&state, admin.app(), &name),
    ))
}

#[derive(Deserialize)]
pub struct DeleteQuery {
    reassign_to: Option<String>,
}

pub async fn delete<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Response> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    roles::delete(&state, &admin, &name, query.reassign_to.as_deref(), &meta).await?;
    Ok(no_content())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    roles: Vec<RoleBody>,
    /// Where holders of deleted roles go.
    reassign_to: Option<String>,
}

#[derive(Deserialize)]
pub struct SyncQuery {
    dry_run: Option<String>,
    reassign_to: Option<String>,
}

/// `PUT /v1/apps/{app}/roles[?dry_run=true]`: the declarative catalogue sync.
pub async fn sync<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiQuery(query): ApiQuery<SyncQuery>,
    ApiJson(body): ApiJson<SyncBody>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let dry_run = match query.dry_run.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(_) => return Err(Error::invalid_field("dry_run", "must be true or false")),
    };
    let reassign_to = body.reassign_to.or(query.reassign_to);
    let desired = body.roles.into_iter().map(RoleInput::from).collect();
    let result = roles::sync(&state, &admin, desired, reassign_to, dry_run, &meta).await?;
    Ok(axum::Json(json!(result)))
}

/// `GET /v1/apps/{app}/permissions`: every permission in the catalogue and the roles
/// that grant it.
pub async fn permissions<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let catalogue = roles::catalogue(&state, &admin).await?;
    Ok(List(Page {
        items: catalogue
            .into_iter()
            .map(|(name, roles)| json!({ "name": name, "roles": roles }))
            .collect(),
        next_cursor: None,
    }))
}
