//! OAuth extension endpoints (docs/src/oauth-extensions.md): dynamic client
//! registration (RFC 7591) and its management (RFC 7592), pushed authorization
//! requests (RFC 9126), and the initial access tokens administrators mint for
//! registration. Errors of the protocol endpoints are RFC 6749 JSON.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    extract::{ApiPath, OptionalJson, read_body},
    oauth::{OAuthError, app_by_slug, authenticated_client, no_store, read_params},
    response::{Resource, no_content},
};
use crate::{
    access::Principal,
    error::Result,
    request::RequestMeta,
    services::{
        authenticate,
        guard::{self, Lane},
        oauth::{authorize::AuthorizeParams, device, par, registration},
    },
    state::AppState,
};

fn bearer(headers: &HeaderMap) -> std::result::Result<Option<String>, OAuthError> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| authenticate::bearer_token(v).ok())
            .map(|t| Some(t.to_owned()))
            .ok_or_else(|| {
                OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the Authorization header must be a Bearer token",
                )
            }),
    }
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    no_store(&mut response);
    response
}

async fn metadata_body(
    request: Request,
    state: &AppState,
) -> std::result::Result<(HeaderMap, Map<String, Value>), OAuthError> {
    let headers = request.headers().clone();
    let bytes = read_body(request, state).await?;
    let body = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .ok_or_else(|| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                "the body must be a JSON object of client metadata (RFC 7591)",
            )
        })?;
    Ok((headers, body))
}

/// `POST /{slug}/v1/oauth/register` (RFC 7591 §3).
pub async fn register(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let (headers, body) = metadata_body(request, &state).await?;
        let token = bearer(&headers)?;
        let out = registration::register(&state, &app, token.as_deref(), &body, &meta).await?;
        let mut response = json_answer(StatusCode::CREATED, out.clone());
        if let Some(uri) = out["registration_client_uri"].as_str()
            && let Ok(value) = header::HeaderValue::from_str(uri)
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Ok::<_, OAuthError>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.1).
pub async fn read_registration(
    State(state): State<AppState>,
    ApiPath((slug, client_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let token = bearer(&headers)?;
        let out = registration::read(&state, &app, &client_id, token.as_deref()).await?;
        Ok::<_, OAuthError>(json_answer(StatusCode::OK, out))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `PUT /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.2).
pub async fn replace_registration(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath((slug, client_id)): ApiPath<(String, String)>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let (headers, body) = metadata_body(request, &state).await?;
        let token = bearer(&headers)?;
        let out =
            registration::replace(&state, &app, &client_id, token.as_deref(), &body, &meta).await?;
        Ok::<_, OAuthError>(json_answer(StatusCode::OK, out))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `DELETE /{slug}/v1/oauth/register/{client_id}` (RFC 7592 §2.3).
pub async fn delete_registration(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath((slug, client_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let token = bearer(&headers)?;
        registration::delete(&state, &app, &client_id, token.as_deref(), &meta).await?;
        let mut response = StatusCode::NO_CONTENT.into_response();
        no_store(&mut response);
        Ok::<_, OAuthError>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /{slug}/v1/oauth/par` (RFC 9126 §2): a client-authenticated push of the
/// authorization parameters; 201 with the `request_uri`.
pub async fn pushed_authorization_request(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let (headers, params) = read_params(request, &state).await?;
        if params.contains("request_uri") {
            return Err(OAuthError::invalid_request(
                "request_uri cannot be pushed (RFC 9126 §2.1)",
            ));
        }
        if params.contains("request") {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "request_not_supported",
                "request objects are not supported; push the parameters themselves",
            ));
        }
        let client = authenticated_client(&state, &app, &headers, &params, &meta).await?;
        let get = |name: &str| params.get(name).map(str::to_owned);
        let pushed = AuthorizeParams {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            prompt: get("prompt"),
            acr_values: get("acr_values"),
            max_age: get("max_age"),
            resource: get("resource"),
        };
        let request_uri = par::push(&state, &app, &client, pushed).await?;
        Ok(json_answer(
            StatusCode::CREATED,
            json!({ "request_uri": request_uri, "expires_in": par::PAR_TTL_SECONDS }),
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /{slug}/v1/oauth/device_authorization` (RFC 8628 §3.1).
pub async fn device_authorization(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let (headers, params) = read_params(request, &state).await?;
        let client = authenticated_client(&state, &app, &headers, &params, &meta).await?;
        let started = device::start(&state, &app, &client, params.get("scope")).await?;
        let verification_uri = format!("{}/{}/device", state.config.public_base(), app.name);
        let encoded: String =
            url::form_urlencoded::byte_serialize(started.user_code.as_bytes()).collect();
        Ok::<_, OAuthError>(json_answer(
            StatusCode::OK,
            json!({
                "device_code": started.device_code,
                "user_code": started.user_code,
                "verification_uri": verification_uri,
                "verification_uri_complete": format!("{verification_uri}?user_code={encoded}"),
                "expires_in": started.expires_in,
                "interval": started.interval,
            }),
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InitialTokenDto {
    pub id: Uuid,
    pub name: Option<String>,
    /// Registrations left; `null` is unlimited until expiry.
    pub uses_left: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<registration::InitialToken> for InitialTokenDto {
    fn from(t: registration::InitialToken) -> Self {
        Self {
            id: t.model.id,
            name: t.model.name,
            uses_left: t.model.uses_left,
            expires_at: t.model.expires_at,
            created_at: t.model.created_at,
            token: t.token,
        }
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintInitialToken {
    name: Option<String>,
    /// Seconds; unset: no expiry.
    expires_in: Option<i64>,
    /// Registrations it allows; unset: unlimited.
    max_uses: Option<i32>,
}

fn initial_tokens_link(state: &AppState, app: &entity::app::Model) -> String {
    format!(
        "{}/v1/apps/{}/oauth-initial-access-tokens",
        state.config.base_path, app.name
    )
}

/// `POST /v1/apps/{app}/oauth-initial-access-tokens`.
pub async fn mint_initial_token(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    OptionalJson(body): OptionalJson<MintInitialToken>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let body = body.unwrap_or_default();
    let minted = registration::mint_initial_token(
        &state,
        &admin,
        body.name,
        body.expires_in,
        body.max_uses,
        &meta,
    )
    .await?;
    let link = format!(
        "{}/{}",
        initial_tokens_link(&state, admin.app()),
        minted.model.id
    );
    let mut response = Resource::created(InitialTokenDto::from(minted), link).into_response();
    no_store(&mut response);
    Ok(response)
}

/// `GET /v1/apps/{app}/oauth-initial-access-tokens`.
pub async fn list_initial_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    let listed = registration::list_initial_tokens(&state, &admin).await?;
    let data: Vec<InitialTokenDto> = listed
        .into_iter()
        .map(|model| InitialTokenDto::from(registration::InitialToken { model, token: None }))
        .collect();
    Ok(axum::Json(json!({ "data": data, "next_cursor": null })).into_response())
}

/// `DELETE /v1/apps/{app}/oauth-initial-access-tokens/{id}`.
pub async fn revoke_initial_token(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, id)): ApiPath<(String, String)>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, Lane::Admin, Some(&app)).await?;
    registration::revoke_initial_token(&state, &admin, &id, &meta).await?;
    Ok(no_content())
}
