//! `/v1/apps/{app}/signing-keys` and rotation.

use axum::{extract::State, response::IntoResponse};
use chrono::{DateTime, Utc};
use entity::signing_key;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    extract::{ApiPath, OptionalJson},
    response::Resource,
};
use crate::services::guard::{self, Lane};
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::{keys, signing},
    state::AppState,
};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SigningKeyDto {
    pub kid: String,
    pub alg: String,
    /// `active` signs new tokens; `retired` keys stay published until `publish_until`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub publish_until: Option<DateTime<Utc>>,
    pub public_jwk: Option<Value>,
}

impl From<&signing_key::Model> for SigningKeyDto {
    fn from(m: &signing_key::Model) -> Self {
        Self {
            kid: m.id.clone(),
            alg: m.alg.clone(),
            status: m.status.clone(),
            created_at: m.created_at,
            retired_at: m.retired_at,
            publish_until: m.publish_until,
            public_jwk: signing::public_jwk(m),
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let listed = keys::list_signing_keys(&state, &admin).await?;
    let data: Vec<SigningKeyDto> = listed.iter().map(SigningKeyDto::from).collect();
    Ok(axum::Json(json!({ "data": data, "next_cursor": null })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RotateSigningKey)]
pub struct Rotate {
    alg: Option<String>,
}

/// Rotates to a new key of the app's configured algorithm.
pub async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    OptionalJson(body): OptionalJson<Rotate>,
) -> Result<impl IntoResponse> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let alg = body.and_then(|b| b.alg);
    let key = keys::rotate_signing_key(&state, &admin, alg.as_deref(), &meta).await?;
    let link = format!(
        "{}/v1/apps/{}/signing-keys",
        state.config.base_path,
        admin.app().name
    );
    Ok(Resource::created(SigningKeyDto::from(&key), link))
}
