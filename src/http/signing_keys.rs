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
use crate::{
    auth::{Principal, guard},
    crypto::keys::SigningAlg,
    error::{Error, Result},
    request::RequestMeta,
    services::{apps::AppSettings, signing},
    state::AppState,
};

#[derive(Serialize)]
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
    let admin = guard::app_admin(&state, &principal, &app).await?;
    let keys = state.signing.list(admin.app().id).await?;
    let data: Vec<SigningKeyDto> = keys.iter().map(SigningKeyDto::from).collect();
    Ok(axum::Json(json!({ "data": data, "next_cursor": null })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    let admin = guard::app_admin(&state, &principal, &app).await?;
    let configured = AppSettings::from_stored(&admin.app().settings).signing_alg;
    if let Some(alg) = body.and_then(|b| b.alg) {
        let requested = SigningAlg::parse(&alg)
            .ok_or_else(|| Error::invalid_field("alg", "must be RS256, ES256 or EdDSA"))?;
        if requested != configured {
            return Err(Error::invalid_field(
                "alg",
                "differs from the app's signing_alg setting; change the setting instead (it rotates the key)",
            ));
        }
    }
    let key = crate::services::keys::rotate_signing_key(&state, &admin, &meta).await?;
    let link = format!(
        "{}/v1/apps/{}/signing-keys",
        state.config.base_path,
        admin.app().name
    );
    Ok(Resource::created(SigningKeyDto::from(&key), link))
}
