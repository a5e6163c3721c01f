//! `/{slug}/v1/.well-known/jwks.json` and the OpenID configuration.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::extract::ApiPath;
use crate::{
    error::{Error, Result},
    services::apps::AppSettings,
    state::AppState,
};

pub const SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "roles",
    "permissions",
    "offline_access",
];

async fn app_by_slug(state: &AppState, slug: &str) -> Result<std::sync::Arc<entity::app::Model>> {
    state
        .apps
        .by_name(slug)
        .await?
        .ok_or_else(|| Error::not_found(format!("app '{slug}' not found")))
}

fn default_app(state: &AppState) -> Result<String> {
    state
        .config
        .default_app
        .clone()
        .ok_or_else(|| Error::not_found("no default app is configured (HEIMDALL_DEFAULT_APP)"))
}

fn cacheable_json(body: impl Into<axum::body::Body>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body.into()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

pub async fn jwks(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let app = app_by_slug(&state, &slug).await?;
    let doc = state.signing.jwks(app.id).await?;
    Ok(cacheable_json(doc))
}

pub async fn jwks_default(State(state): State<AppState>) -> Result<Response> {
    let slug = default_app(&state)?;
    jwks(State(state), ApiPath(slug)).await
}

/// The discovery document (RFC 8414 + OpenID Connect Discovery). `endpoint_base` is
/// where the OAuth endpoints are served: the app's own path, or the root paths for
/// the default app.
pub fn discovery_document(
    state: &AppState,
    app: &entity::app::Model,
    endpoint_base: &str,
) -> Value {
    let issuer = state.issuer(&app.name);
    let settings = AppSettings::from_stored(&app.settings);
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{endpoint_base}/v1/oauth/authorize"),
        "token_endpoint": format!("{endpoint_base}/v1/oauth/token"),
        "userinfo_endpoint": format!("{endpoint_base}/v1/oauth/userinfo"),
        "revocation_endpoint": format!("{endpoint_base}/v1/oauth/revoke"),
        "introspection_endpoint": format!("{endpoint_base}/v1/oauth/introspect"),
        "end_session_endpoint": format!("{endpoint_base}/v1/oauth/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "jwks_uri": format!("{issuer}/v1/.well-known/jwks.json"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": crate::services::oauth::pairwise::SUBJECT_TYPES,
        "id_token_signing_alg_values_supported": [settings.signing_alg.as_str(), "HS256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "picture",
            "email", "email_verified", "roles", "permissions", "amr"
        ],
        "acr_values_supported": crate::services::oauth::authorize::ACR_MFA,
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    // RFC 7591, RFC 9126, RFC 7523 (docs/src/oauth-extensions.md).
    crate::services::oauth::metadata::extend(&mut doc, &settings, endpoint_base);
    doc
}

pub async fn discovery(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let app = app_by_slug(&state, &slug).await?;
    let doc = discovery_document(&state, &app, &state.issuer(&app.name));
    Ok(cacheable_json(doc.to_string()))
}

/// Root paths (`/.well-known/openid-configuration`) serve the default app, with
/// endpoints at the root paths.
pub async fn discovery_default(State(state): State<AppState>) -> Result<Response> {
    let slug = default_app(&state)?;
    let app = app_by_slug(&state, &slug).await?;
    let doc = discovery_document(&state, &app, &state.config.public_base());
    Ok(cacheable_json(doc.to_string()))
}

/// RFC 8414 §3: `/.well-known/oauth-authorization-server/{slug}` (the well-known
/// suffix inserted before the issuer's path) and `/{slug}/.well-known/oauth-authorization-server`:
/// the same document as the OpenID configuration.
pub async fn authorization_server(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    discovery(State(state), ApiPath(slug)).await
}

/// `/.well-known/oauth-authorization-server` for the default app.
pub async fn authorization_server_default(State(state): State<AppState>) -> Result<Response> {
    discovery_default(State(state)).await
}
