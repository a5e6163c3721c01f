//! Users' linked identities: `/{slug}/v1/me/identities` for the user, and
//! `…/users/{id}/identities` on both lanes for administrators.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::federated_identity;
use serde::Serialize;
use uuid::Uuid;

use super::super::{
    extract::{ApiPath, uuid_param},
    lane::Lane,
    response::{List, no_content},
};
use crate::services::guard;
use crate::{
    access::Principal, db::Page, error::Result, request::RequestMeta,
    services::federation::identities, state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct IdentityDto {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    /// The user's id at the provider (`sub`).
    pub subject: String,
    /// The email the provider asserted when the identity was linked.
    pub email: Option<String>,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

impl From<federated_identity::Model> for IdentityDto {
    fn from(m: federated_identity::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            provider: m.provider,
            subject: m.subject,
            email: m.email,
            email_verified: m.email_verified,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
        }
    }
}

fn identity_list(items: Vec<federated_identity::Model>) -> Response {
    List(Page {
        items: items.into_iter().map(IdentityDto::from).collect(),
        next_cursor: None,
    })
    .into_response()
}

/// `GET /{slug}/v1/me/identities`.
pub async fn my_identities(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let me = guard::me(&state, &principal, guard::Lane::Consumer, Some(&slug)).await?;
    Ok(identity_list(identities::mine(&state, &me).await?))
}

/// `DELETE /{slug}/v1/me/identities/{id}`: 409 when it is the last way to sign in.
pub async fn unlink_my_identity(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((slug, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let me = guard::me(&state, &principal, guard::Lane::Consumer, Some(&slug)).await?;
    identities::unlink_mine(&state, &me, uuid_param(&id, "identity")?, &meta).await?;
    Ok(no_content())
}

/// `GET …/users/{id}/identities` (keys, or end users with `user.read`).
pub async fn list_user_identities<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    let items = identities::list_for_admin(&state, &admin, uuid_param(&id, "user")?).await?;
    Ok(identity_list(items))
}

/// `DELETE …/users/{id}/identities/{identity_id}` (keys, or end users with
/// `user.update`).
pub async fn unlink_user_identity<L: Lane>(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id, identity_id)): ApiPath<(String, String, String)>,
) -> Result<Response> {
    let admin = guard::app_access(&state, &principal, L::LANE, Some(&app)).await?;
    identities::unlink_for_admin(
        &state,
        &admin,
        uuid_param(&id, "user")?,
        uuid_param(&identity_id, "identity")?,
        &meta,
    )
    .await?;
    Ok(no_content())
}
