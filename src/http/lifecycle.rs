//! Account lifecycle over REST: invites (both lanes), the PAK-only mint endpoints
//! for email-verification and password-reset tokens, and the consumer lane's
//! consume endpoints (`email/verify`, `password/forgot`, `password/reset`,
//! `email/verification/resend`).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::invite;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{
    consumer::{app_of, token_response},
    extract::{ApiJson, ApiPath, OptionalJson, Pagination, uuid_param},
    lane::Lane,
    response::{List, Resource, no_content},
    users::UserDto,
};
use crate::services::guard;
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::{
        invites::{self, Acceptance, NewInvite},
        lifecycle,
    },
    state::AppState,
};

/// An invite as listed (never its token).
#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteDto {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub tenant_id: Option<Uuid>,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub status: &'static str,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i32,
    pub uses: i32,
    pub created_by: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_accepted_at: Option<DateTime<Utc>>,
}

impl InviteDto {
    pub fn new(invite: invite::Model, now: DateTime<Utc>) -> Self {
        Self {
            status: invites::status(&invite, now),
            id: invite.id,
            email: invite.email,
            role: invite.role,
            tenant_id: invite.tenant_id,
            expires_at: invite.expires_at,
            max_uses: invite.max_uses,
            uses: invite.uses,
            created_by: json!({ "type": invite.created_by_type, "id": invite.created_by_id }),
            created_at: invite.created_at,
            revoked_at: invite.revoked_at,
            last_accepted_at: invite.last_accepted_at,
        }
    }
}

fn invite_link<L: Lane>(state: &AppState, app: &entity::app::Model, id: Uuid) -> String {
    format!("{}/invites/{id}", L::base(state, app))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    email: String,
    role: String,
    tenant_id: Option<Uuid>,
    expires_in_hours: Option<i64>,
    max_uses: Option<i32>,
    #[serde(default)]
    send_email: bool,
}

/// `POST …/invites` → 201 with `token` and `invite_url` (shown once).
pub async fn create<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<CreateInvite>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let created = invites::create(
        &state,
        &admin,
        NewInvite {
            email: body.email,
            role: body.role,
            tenant_id: body.tenant_id,
            expires_in_hours: body.expires_in_hours,
            max_uses: body.max_uses,
            send_email: body.send_email,
        },
        &meta,
    )
    .await?;
    let self_link = invite_link::<L>(&state, admin.app(), created.invite.id);
    let mut data = serde_json::to_value(InviteDto::new(created.invite, state.now()))
        .map_err(crate::error::Error::internal)?;
    data["token"] = json!(created.token);
    data["invite_url"] = json!(created.invite_url);
    data["email_queued"] = json!(body.send_email);
    Ok(Resource::created(data, self_link))
}

pub async fn list<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
    Pagination(page): Pagination,
) -> Result<impl IntoResponse> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let now = state.now();
    let page = invites::list(&state, &admin, page).await?;
    Ok(List(page.map(|i| InviteDto::new(i, now))))
}

pub async fn get<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let id = uuid_param(&id, "invite")?;
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let invite = invites::get(&state, &admin, id).await?;
    Ok(Resource::ok(
        InviteDto::new(invite, state.now()),
        invite_link::<L>(&state, admin.app(), id),
    ))
}

/// `DELETE …/invites/{id}`: revokes (204).
pub async fn revoke<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let id = uuid_param(&id, "invite")?;
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    invites::revoke(&state, &admin, id, &meta).await?;
    Ok(no_content())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    display_name: Option<String>,
    password: Option<String>,
}

/// `POST /v1/invites/{token}/accept` (public; an end-user bearer of the invited
/// email joins the tenant instead): 201 (new account) or 200, a token response.
pub async fn accept(
    State(state): State<AppState>,
    principal: Option<Principal>,
    meta: RequestMeta,
    ApiPath(token): ApiPath<String>,
    OptionalJson(body): OptionalJson<AcceptInvite>,
) -> Result<Response> {
    let body = body.unwrap_or_default();
    let caller = match &principal {
        Some(Principal::EndUser(user)) => Some(user),
        _ => None,
    };
    let accepted = invites::accept(
        &state,
        &token,
        Acceptance {
            display_name: body.display_name,
            password: body.password,
        },
        caller,
        &meta,
    )
    .await?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    match (accepted.tokens, accepted.second_factor) {
        (Some(tokens), _) => Ok(token_response(status, &tokens, accepted.user)),
        (None, pending) => {
            // A second factor is required first (docs/src/mfa.md).
            let mut body = pending.map(|p| p.body()).unwrap_or_default();
            body["user"] = serde_json::json!(super::users::UserDto::from(accepted.user));
            let mut response = (status, axum::Json(body)).into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
    }
}

fn minted_body(minted: lifecycle::Minted) -> serde_json::Value {
    json!({
        "token": minted.token,
        "expires_at": minted.expires_at,
        "user_id": minted.user.id,
        "email": minted.user.email,
    })
}

/// `POST /v1/apps/{app}/users/{id}/email-verification` (root or the app's key).
pub async fn mint_email_verification(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let user_id = uuid_param(&id, "user")?;
    let minted = lifecycle::mint_email_verification(&state, &admin, user_id, &meta).await?;
    let link = format!(
        "{}/v1/apps/{}/users/{user_id}",
        state.config.base_path,
        admin.app().name
    );
    Ok(Resource::created(minted_body(minted), link))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    email: String,
}

/// `POST /v1/apps/{app}/password-resets {email}` (root or the app's key).
pub async fn mint_password_reset(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let minted = lifecycle::mint_password_reset(&state, &admin, &body.email, &meta).await?;
    let link = format!(
        "{}/v1/apps/{}/users/{}",
        state.config.base_path,
        admin.app().name,
        minted.user.id
    );
    Ok(Resource::created(minted_body(minted), link))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// `POST /{slug}/v1/email/verify {token}` → the user, verified.
pub async fn verify_email(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<impl IntoResponse> {
    let app = app_of(&state, &slug).await?;
    let user = lifecycle::verify_email(&state, &app, &body.token, &meta).await?;
    Ok(Resource::ok(
        UserDto::from(user),
        format!("{}/{slug}/v1/me", state.config.base_path),
    ))
}

/// The one answer of `password/forgot` for every valid email.
pub const FORGOT_ANSWER: &str =
    "If an account exists for this email, a password reset link is on its way.";

/// `POST /{slug}/v1/password/forgot {email}` → 202 for any valid email.
pub async fn forgot_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    lifecycle::forgot_password(&state, &app, &body.email, &meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "message": FORGOT_ANSWER })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    token: String,
    new_password: String,
}

/// `POST /{slug}/v1/password/reset {token, new_password}` → 204; every session of
/// the user is revoked.
pub async fn reset_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    lifecycle::reset_password(&state, &app, &body.token, &body.new_password, &meta).await?;
    Ok(no_content())
}

/// `POST /{slug}/v1/email/verification/resend` (bearer) → 202.
pub async fn resend_verification(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let me = guard::me(&state, &principal, guard::Lane::Consumer, Some(&slug)).await?;
    lifecycle::resend_verification(&state, &me, &meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "message": "A verification link is on its way." })),
    )
        .into_response())
}
