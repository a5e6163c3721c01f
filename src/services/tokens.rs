//! End-user token issuance: the access token (claims exactly those of
//! docs/src/users-and-sessions.md) and the
//! refresh token (`hm_rt_…`, stored hashed, single use).

use chrono::Duration;
use entity::{app, refresh_token, session, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    crypto::{self, prefix},
    db,
    error::Result,
    state::AppState,
};

/// An issued pair, ready to be shaped into a token response.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub session_id: uuid::Uuid,
}

/// Claims of an end-user access token (docs/src/users-and-sessions.md).
#[derive(Serialize)]
struct EndUserClaims<'a> {
    sub: String,
    aid: String,
    sid: String,
    role: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<Vec<String>>,
    /// How the session authenticated (RFC 8176) and when (docs/src/mfa.md).
    amr: Vec<String>,
    auth_time: i64,
    iat: i64,
    exp: i64,
    iss: String,
    jti: String,
    /// The app's `token_claims` from the user's metadata (never a registered claim).
    #[serde(flatten)]
    custom: serde_json::Map<String, Value>,
}

/// Signs an access token for `user` in `session`. `org_role` and `permissions` come
/// from the caller (tenants and role resolution).
pub async fn access_token(
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    session: &session::Model,
    org_role: Option<&str>,
    permissions: Option<Vec<String>>,
) -> Result<(String, i64)> {
    let settings = state.apps.settings(app).await;
    let now = state.now().timestamp();
    let ttl = settings.access_token_ttl;
    let claims = EndUserClaims {
        sub: user.id.to_string(),
        aid: app.id.to_string(),
        sid: session.id.to_string(),
        role: &user.role,
        kind: "end_user",
        org_id: session.tenant_id.map(|t| t.to_string()),
        org_role: session.tenant_id.and(org_role),
        permissions: settings
            .embed_permissions
            .then(|| permissions.unwrap_or_default()),
        amr: crate::services::mfa::session_amr(session),
        auth_time: crate::services::mfa::session_auth_time(session).timestamp(),
        iat: now,
        exp: now + ttl,
        iss: state.issuer(&app.name),
        jti: uuid::Uuid::new_v4().to_string(),
        custom: crate::services::metadata::token_claims(&settings.token_claims, user),
    };
    Ok((state.signing.sign(app.id, &claims).await?, ttl))
}

/// Creates and stores a new refresh token for `session`; returns the secret.
pub async fn new_refresh_token(
    conn: &impl ConnectionTrait,
    state: &AppState,
    session_id: uuid::Uuid,
    ttl_seconds: i64,
) -> Result<String> {
    let secret = crypto::generate_secret(prefix::REFRESH_TOKEN)?;
    let now = state.now();
    refresh_token::ActiveModel {
        id: Set(db::new_id()),
        session_id: Set(session_id),
        token_hash: Set(state.hasher.hash(&secret)),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(ttl_seconds)),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(secret)
}

/// The token response (RFC 6749 §5.1 shape), with the user.
pub fn response(tokens: &IssuedTokens, user: Value) -> Value {
    json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "user": user,
    })
}
