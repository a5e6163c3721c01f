//! The consumer lane for end users: `/{slug}/v1/auth/*` and `/{slug}/v1/me*`.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::app;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    extract::{ApiJson, ApiPath, uuid_param},
    response::{List, Resource, no_content},
    users::{SessionDto, UserDto, nullable},
};
use crate::{
    access::{Me, Principal},
    db::Page,
    error::Result,
    request::RequestMeta,
    services::{
        authz,
        guard::{self, Lane},
        sessions::{self, Signin, Signup},
        tenants,
        tokens::{self, IssuedTokens},
        users,
    },
    state::AppState,
};

/// The app a consumer-lane path names, or 404.
pub async fn app_of(state: &AppState, slug: &str) -> Result<Arc<app::Model>> {
    guard::find_app(state, Lane::Consumer, slug).await
}

/// The end user of the app the path names, acting on their own account.
async fn me_of(state: &AppState, principal: &Principal, slug: &str) -> Result<Me> {
    guard::me(state, principal, Lane::Consumer, Some(slug)).await
}

/// A token response: bare protocol shape, never cached.
pub fn token_response(
    status: StatusCode,
    tokens: &IssuedTokens,
    user: entity::user::Model,
) -> Response {
    let body = tokens::response(tokens, json!(UserDto::from(user)));
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    display_name: Option<String>,
}

pub async fn signup(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    match sessions::signup(
        &state,
        &app,
        &body.email,
        &body.password,
        body.display_name,
        None,
        &meta,
    )
    .await?
    {
        Signup::SignedIn(tokens, user) => Ok(token_response(StatusCode::CREATED, &tokens, user)),
        Signup::VerificationRequired(user) => Ok((
            StatusCode::CREATED,
            axum::Json(json!({ "user": UserDto::from(user), "email_verification_required": true })),
        )
            .into_response()),
        Signup::CheckMail => Ok((
            StatusCode::CREATED,
            axum::Json(json!({ "email_verification_required": true })),
        )
            .into_response()),
        Signup::SecondFactor(pending, user) => {
            let mut body = pending.body();
            body["user"] = json!(UserDto::from(user));
            Ok(no_store(
                (StatusCode::CREATED, axum::Json(body)).into_response(),
            ))
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigninBody {
    email: String,
    password: String,
    /// Sign in straight into a tenant: the tokens carry `org_id` and `org_role`.
    tenant_id: Option<Uuid>,
}

pub async fn signin(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<SigninBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    match sessions::signin(
        &state,
        &app,
        &body.email,
        &body.password,
        body.tenant_id,
        &meta,
    )
    .await?
    {
        Signin::SignedIn(tokens, user) => Ok(token_response(StatusCode::OK, &tokens, user)),
        // 200 with an `hm_mfa_` token instead of tokens (docs/src/mfa.md).
        Signin::SecondFactor(pending) => Ok(no_store(
            (StatusCode::OK, axum::Json(pending.body())).into_response(),
        )),
    }
}

/// Marks a response holding a credential as never cached.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

pub async fn refresh(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (tokens, user) = sessions::refresh(&state, &app, &body.refresh_token, &meta).await?;
    Ok(token_response(StatusCode::OK, &tokens, user))
}

pub async fn signout(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let me = me_of(&state, &principal, &slug).await?;
    sessions::signout(&state, &me, &meta).await?;
    Ok(no_content())
}

fn me_link(state: &AppState, slug: &str) -> String {
    format!("{}/{slug}/v1/me", state.config.base_path)
}

pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let me = me_of(&state, &principal, &slug).await?;
    let user = users::me(&state, &me).await?;
    Ok(Resource::ok(
        MeDto {
            amr: me.user().amr.clone(),
            auth_time: me.user().auth_time,
            user: UserDto::from(user),
        },
        me_link(&state, &slug),
    ))
}

/// The signed-in user, with how their session authenticated (RFC 8176 `amr`) and
/// when (docs/src/mfa.md).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MeDto {
    #[serde(flatten)]
    user: UserDto,
    amr: Vec<String>,
    auth_time: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, deserialize_with = "nullable")]
    display_name: Option<Option<String>>,
    /// Merged into the stored object (docs/src/importing-users-and-scim.md).
    user_metadata: Option<serde_json::Value>,
}

pub async fn update_me(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateMe>,
) -> Result<impl IntoResponse> {
    let me = me_of(&state, &principal, &slug).await?;
    let user = users::update_me(&state, &me, body.display_name, body.user_metadata, &meta).await?;
    Ok(Resource::ok(UserDto::from(user), me_link(&state, &slug)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<ChangePassword>,
) -> Result<Response> {
    let me = me_of(&state, &principal, &slug).await?;
    sessions::change_password(
        &state,
        &me,
        &body.current_password,
        &body.new_password,
        &meta,
    )
    .await?;
    Ok(no_content())
}

pub async fn my_sessions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let me = me_of(&state, &principal, &slug).await?;
    let items = sessions::mine(&state, &me).await?;
    Ok(List(Page {
        items: items
            .into_iter()
            .map(|s| SessionDto::new(s, Some(me.session_id())))
            .collect(),
        next_cursor: None,
    }))
}

pub async fn revoke_my_session(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let me = me_of(&state, &principal, &slug).await?;
    sessions::revoke_mine(&state, &me, uuid_param(&id, "session")?, &meta).await?;
    Ok(no_content())
}

/// `GET /{slug}/v1/me/permissions`: the caller's live role, tenant role and flat
/// effective permissions (app role ∪ active tenant role).
pub async fn my_permissions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let me = me_of(&state, &principal, &slug).await?;
    let effective = authz::mine(&state, &me).await?;
    Ok(axum::Json(json!({
        "role": effective.role,
        "org_role": effective.org_role,
        "permissions": effective.permissions,
    }))
    .into_response())
}

/// `GET /{slug}/v1/me/tenants`: the caller's tenants and role in each.
pub async fn my_tenants(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let me = me_of(&state, &principal, &slug).await?;
    let rows = tenants::mine(&state, &me).await?;
    let items = rows
        .into_iter()
        .map(|(tenant, member)| {
            json!({
                "tenant": super::tenants::TenantDto::from(tenant),
                "role": member.role,
                "active": me.user().org_id == Some(member.tenant_id),
            })
        })
        .collect();
    Ok(List(Page {
        items,
        next_cursor: None,
    }))
}

/// `POST /{slug}/v1/me/tenants/{id}/switch`: a new token pair in that tenant.
pub async fn switch_tenant(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let me = me_of(&state, &principal, &slug).await?;
    let tenant_id = uuid_param(&id, "tenant")?;
    let (tokens, user) = tenants::switch(&state, &me, tenant_id, &meta).await?;
    Ok(token_response(StatusCode::OK, &tokens, user))
}
