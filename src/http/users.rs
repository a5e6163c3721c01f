//! End users over REST: `/v1/apps/{app}/users` (keys) and `/{slug}/v1/users`
//! (end users with `user.read` / `user.update`), plus the DTOs shared with the
//! consumer lane.

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::{session, user};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, ApiQuery, Pagination, uuid_param},
    lane::Lane,
    response::{List, Resource, no_content},
};
use crate::{
    access::Principal,
    db::Page,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        guard, metadata, sessions,
        users::{self, NewUser, UserExtras, UserFilter, UserPatch},
    },
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub app_id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub role: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub user_metadata: serde_json::Value,
    pub app_metadata: serde_json::Value,
}

impl From<user::Model> for UserDto {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            app_id: u.app_id,
            email: u.email,
            email_verified: u.email_verified,
            display_name: u.display_name,
            role: u.role,
            status: u.status,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_sign_in_at: u.last_sign_in_at,
            user_metadata: metadata::object_of(&u.user_metadata),
            app_metadata: metadata::object_of(&u.app_metadata),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionDto {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether this is the session of the token making the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl SessionDto {
    pub fn new(s: session::Model, current: Option<Uuid>) -> Self {
        Self {
            current: current.map(|c| c == s.id),
            id: s.id,
            user_id: s.user_id,
            tenant_id: s.tenant_id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        }
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn nullable<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

fn link<L: Lane>(state: &AppState, app: &entity::app::Model, id: Uuid) -> String {
    format!("{}/users/{id}", L::base(state, app))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    email: String,
    password: Option<String>,
    display_name: Option<String>,
    role: Option<String>,
    #[serde(default)]
    email_verified: bool,
    /// A hash exported by another system (docs/src/importing-users-and-scim.md).
    password_hash: Option<String>,
    user_metadata: Option<serde_json::Value>,
    app_metadata: Option<serde_json::Value>,
}

pub async fn create<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let (user, warnings) = users::create_with(
        &state,
        &admin,
        NewUser {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            role: body.role,
            email_verified: body.email_verified,
        },
        UserExtras {
            password_hash: body.password_hash,
            user_metadata: body.user_metadata,
            app_metadata: body.app_metadata,
            ..UserExtras::default()
        },
        None,
        &meta,
    )
    .await?;
    let self_link = link::<L>(&state, admin.app(), user.id);
    if warnings.is_empty() {
        return Ok(Resource::created(UserDto::from(user), self_link).into_response());
    }
    // Weak parameters of an imported hash are accepted and reported.
    let location = axum::http::HeaderValue::from_str(&self_link)
        .map_err(|_| Error::internal("user link is not a header value"))?;
    Ok((
        axum::http::StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        axum::Json(json!({
            "data": UserDto::from(user),
            "_links": { "self": self_link },
            "warnings": warnings,
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ListQuery {
    email: Option<String>,
    role: Option<String>,
    status: Option<String>,
    tenant_id: Option<String>,
    /// `user_metadata.<key>=…` and `app_metadata.<key>=…` filters (other keys,
    /// such as `limit`, are read elsewhere).
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let tenant_id = query
        .tenant_id
        .as_deref()
        .map(|t| {
            Uuid::parse_str(t).map_err(|_| Error::invalid_field("tenant_id", "must be a tenant id"))
        })
        .transpose()?;
    let mut conditions = Vec::new();
    for (name, value) in &query.rest {
        if let Some(condition) = metadata::Filter::from_param(name, value)? {
            conditions.push(condition);
        }
    }
    let filter = UserFilter {
        email: query.email,
        role: query.role,
        status: query.status,
        tenant_id,
        metadata: conditions,
    };
    let page = users::list(&state, &admin, &filter, page).await?;
    Ok(List(page.map(UserDto::from)))
}

pub async fn get<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let user = users::get(&state, &admin, uuid_param(&id, "user")?).await?;
    let self_link = link::<L>(&state, admin.app(), user.id);
    Ok(Resource::ok(UserDto::from(user), self_link))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    email: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    display_name: Option<Option<String>>,
    role: Option<String>,
    email_verified: Option<bool>,
    password: Option<String>,
    password_hash: Option<String>,
    user_metadata: Option<serde_json::Value>,
    app_metadata: Option<serde_json::Value>,
}

pub async fn update<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let patch = UserPatch {
        email: body.email,
        display_name: body.display_name,
        role: body.role,
        email_verified: body.email_verified,
        password: body.password,
        password_hash: body.password_hash,
        user_metadata: body.user_metadata,
        app_metadata: body.app_metadata,
        source: None,
    };
    let user = users::update(&state, &admin, uuid_param(&id, "user")?, patch, &meta).await?;
    let self_link = link::<L>(&state, admin.app(), user.id);
    Ok(Resource::ok(UserDto::from(user), self_link))
}

pub async fn delete<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    users::delete(&state, &admin, uuid_param(&id, "user")?, &meta).await?;
    Ok(no_content())
}

async fn set_active<L: Lane>(
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    app: String,
    id: String,
    active: bool,
) -> Result<Resource<UserDto>> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let user = users::set_active(&state, &admin, uuid_param(&id, "user")?, active, &meta).await?;
    let self_link = link::<L>(&state, admin.app(), user.id);
    Ok(Resource::ok(UserDto::from(user), self_link))
}

pub async fn deactivate<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    set_active::<L>(state, principal, meta, app, id, false).await
}

pub async fn reactivate<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    set_active::<L>(state, principal, meta, app, id, true).await
}

pub async fn list_sessions<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let items = sessions::of_user(&state, &admin, uuid_param(&id, "user")?).await?;
    Ok(List(Page {
        items: items
            .into_iter()
            .map(|s| SessionDto::new(s, None))
            .collect(),
        next_cursor: None,
    }))
}

/// `DELETE …/users/{id}/sessions/{session_id}`: one session of a user; 204.
pub async fn revoke_session<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id, session_id)): ApiPath<(String, String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    sessions::revoke_user_session(
        &state,
        &admin,
        uuid_param(&id, "user")?,
        uuid_param(&session_id, "session")?,
        &meta,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

pub async fn revoke_sessions<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let revoked =
        sessions::revoke_user_sessions(&state, &admin, uuid_param(&id, "user")?, &meta).await?;
    Ok(axum::Json(json!({ "revoked": revoked })))
}
