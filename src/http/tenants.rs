//! Tenants over REST: `/v1/apps/{app}/tenants…` (keys) and the members of one
//! tenant at `/{slug}/v1/tenants/{id}/members` (end users with `tenant.manage`,
//! held in the app role or in that tenant's role).

use axum::{extract::State, response::IntoResponse, response::Response};
use chrono::{DateTime, Utc};
use entity::tenant;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, Pagination, uuid_param},
    lane::Lane,
    response::{List, Resource, no_content},
};
use crate::services::guard;
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::tenants::{self, Member},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantDto {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Only sessions established with a second factor may make it active.
    pub require_mfa: bool,
}

impl From<tenant::Model> for TenantDto {
    fn from(t: tenant::Model) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            created_at: t.created_at,
            updated_at: t.updated_at,
            require_mfa: t.require_mfa,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberDto {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Member> for MemberDto {
    fn from(m: Member) -> Self {
        Self {
            tenant_id: m.membership.tenant_id,
            user_id: m.membership.user_id,
            role: m.membership.role,
            email: m.user.email,
            display_name: m.user.display_name,
            created_at: m.membership.created_at,
            updated_at: m.membership.updated_at,
        }
    }
}

fn tenant_link<L: Lane>(state: &AppState, app: &entity::app::Model, id: Uuid) -> String {
    format!("{}/tenants/{id}", L::base(state, app))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    slug: String,
    name: String,
    #[serde(default)]
    require_mfa: bool,
}

pub async fn create<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateTenant>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let tenant = tenants::create(
        &state,
        &admin,
        &body.slug,
        &body.name,
        body.require_mfa,
        &meta,
    )
    .await?;
    let self_link = tenant_link::<L>(&state, admin.app(), tenant.id);
    Ok(Resource::created(TenantDto::from(tenant), self_link))
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let page = tenants::list(&state, &admin, page).await?;
    Ok(List(page.map(TenantDto::from)))
}

pub async fn get<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let id = uuid_param(&id, "tenant")?;
    let admin = guard::tenant_access(&state, &principal, L::LANE, Some(&app), id).await?;
    let tenant = tenants::get(&state, &admin).await?;
    Ok(Resource::ok(
        TenantDto::from(tenant),
        tenant_link::<L>(&state, admin.app(), id),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    slug: Option<String>,
    name: Option<String>,
    require_mfa: Option<bool>,
}

pub async fn update<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<UpdateTenant>,
) -> Result<impl IntoResponse> {
    let id = uuid_param(&id, "tenant")?;
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let tenant = tenants::update(
        &state,
        &admin,
        id,
        body.slug.as_deref(),
        body.name.as_deref(),
        body.require_mfa,
        &meta,
    )
    .await?;
    Ok(Resource::ok(
        TenantDto::from(tenant),
        tenant_link::<L>(&state, admin.app(), id),
    ))
}

pub async fn delete<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let id = uuid_param(&id, "tenant")?;
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    tenants::delete(&state, &admin, id, &meta).await?;
    Ok(no_content())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    user_id: Uuid,
    role: String,
}

pub async fn add_member<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<impl IntoResponse> {
    let tenant_id = uuid_param(&id, "tenant")?;
    let admin = guard::tenant_access(&state, &principal, L::LANE, Some(&app), tenant_id).await?;
    let member = tenants::add_member(&state, &admin, body.user_id, &body.role, &meta).await?;
    let self_link = format!(
        "{}/members/{}",
        tenant_link::<L>(&state, admin.app(), tenant_id),
        body.user_id
    );
    Ok(Resource::created(MemberDto::from(member), self_link))
}

pub async fn list_members<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let tenant_id = uuid_param(&id, "tenant")?;
    let admin = guard::tenant_access(&state, &principal, L::LANE, Some(&app), tenant_id).await?;
    let page = tenants::list_members(&state, &admin, page).await?;
    Ok(List(page.map(MemberDto::from)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    role: String,
}

pub async fn update_member<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id, user_id)): ApiPath<(String, String, String)>,
    ApiJson(body): ApiJson<UpdateMember>,
) -> Result<impl IntoResponse> {
    let tenant_id = uuid_param(&id, "tenant")?;
    let user_id = uuid_param(&user_id, "member")?;
    let admin = guard::tenant_access(&state, &principal, L::LANE, Some(&app), tenant_id).await?;
    let member = tenants::update_member(&state, &admin, user_id, &body.role, &meta).await?;
    let self_link = format!(
        "{}/members/{user_id}",
        tenant_link::<L>(&state, admin.app(), tenant_id)
    );
    Ok(Resource::ok(MemberDto::from(member), self_link))
}

pub async fn remove_member<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id, user_id)): ApiPath<(String, String, String)>,
) -> Result<Response> {
    let tenant_id = uuid_param(&id, "tenant")?;
    let user_id = uuid_param(&user_id, "member")?;
    let admin = guard::tenant_access(&state, &principal, L::LANE, Some(&app), tenant_id).await?;
    tenants::remove_member(&state, &admin, user_id, &meta).await?;
    Ok(no_content())
}
