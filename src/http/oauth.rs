//! OAuth 2.0 protocol endpoints of an app: the token endpoint (client credentials,
//! authorization code and refresh grants), revocation (RFC 7009), userinfo and
//! introspection (RFC 7662). Errors here are RFC 6749 JSON, not the REST error shape.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{OriginalUri, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiPath, is_json, read_body};
pub use crate::services::oauth::OAuthError;
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        authenticate,
        guard::{self, Lane},
        m2m,
        oauth::{device, dpop, exchange, grants, introspection, token},
    },
    state::AppState,
};

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        no_store(&mut response);
        if let Some(nonce) = &self.dpop_nonce
            && let Ok(value) = HeaderValue::from_str(nonce)
        {
            response.headers_mut().insert("dpop-nonce", value);
        }
        if let Some(challenge) = &self.challenge
            && let Ok(value) = HeaderValue::from_str(challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        } else if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.error == "invalid_client" {
                r#"Basic realm="heimdall""#
            } else {
                r#"Bearer realm="heimdall""#
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Request parameters from a form or JSON body. Repeated parameters are refused
/// (RFC 6749 §3.1); parameters without a value count as omitted.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is required")))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), OAuthError> {
        if self.0.contains_key(&name) {
            return Err(OAuthError::invalid_request(format!(
                "the {name} parameter is repeated"
            )));
        }
        if name.len() > 100 || value.len() > 8192 {
            return Err(OAuthError::invalid_request("a parameter is too long"));
        }
        if !value.is_empty() {
            self.0.insert(name, value);
        }
        Ok(())
    }

    /// Parses `application/x-www-form-urlencoded`.
    pub fn from_form(bytes: &[u8]) -> Result<Self, OAuthError> {
        if std::str::from_utf8(bytes).is_err() {
            return Err(OAuthError::invalid_request(
                "the request body is not valid UTF-8",
            ));
        }
        let mut params = Params::default();
        let mut seen = std::collections::HashSet::new();
        for (name, value) in url::form_urlencoded::parse(bytes) {
            // A repeated name is refused even when one of the values is empty.
            if !seen.insert(name.to_string()) {
                return Err(OAuthError::invalid_request(format!(
                    "the {name} parameter is repeated"
                )));
            }
            params.insert(name.into_owned(), value.into_owned())?;
        }
        Ok(params)
    }

    /// Parses a JSON object whose values are strings.
    pub fn from_json(bytes: &[u8]) -> Result<Self, OAuthError> {
        let entries: Entries = serde_json::from_slice(bytes).map_err(|e| {
            OAuthError::invalid_request(format!(
                "the request body is not a JSON object of strings: {e}"
            ))
        })?;
        let mut params = Params::default();
        let mut seen = std::collections::HashSet::new();
        for (name, value) in entries.0 {
            if !seen.insert(name.clone()) {
                return Err(OAuthError::invalid_request(format!(
                    "the {name} parameter is repeated"
                )));
            }
            let value = match value {
                Value::String(s) => s,
                Value::Null => String::new(),
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "the {name} parameter must be a string"
                    )));
                }
            };
            params.insert(name, value)?;
        }
        Ok(params)
    }

    /// Form or JSON by `Content-Type`; an empty body is no parameters.
    pub fn from_body(headers: &HeaderMap, bytes: &Bytes) -> Result<Self, OAuthError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        if is_json(headers) {
            return Self::from_json(bytes);
        }
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if form {
            Self::from_form(bytes)
        } else {
            Err(OAuthError::invalid_request(
                "the request body must be application/x-www-form-urlencoded or application/json",
            ))
        }
    }
}

/// A JSON object read in document order, so repeated keys can be detected.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Reads the request's parameters.
pub async fn read_params(
    request: Request,
    state: &AppState,
) -> Result<(HeaderMap, Params), OAuthError> {
    let headers = request.headers().clone();
    let bytes = read_body(request, state).await?;
    let params = Params::from_body(&headers, &bytes)?;
    Ok((headers, params))
}

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Basic,
    Post,
    None,
    /// A JWT client assertion (RFC 7523).
    Jwt,
}

/// The client's credentials from `Authorization: Basic` (RFC 6749 §2.3.1: id and
/// secret are form-urlencoded inside the Basic credentials) or from the body.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
    pub assertion: Option<String>,
}

/// What a client assertion's `aud` may name: the issuer or an endpoint of the app
/// (at its own path, and at the root paths for the default app).
/// The client of a request to the token, revocation, PAR or device endpoint,
/// authenticated by whichever method it uses (Basic or form secret, or a JWT
/// assertion, RFC 7523); 401 `invalid_client` otherwise.
pub async fn authenticated_client(
    state: &AppState,
    app: &entity::app::Model,
    headers: &HeaderMap,
    params: &Params,
    meta: &RequestMeta,
) -> Result<entity::oauth_client::Model, OAuthError> {
    let credentials = client_credentials(headers, params)?;
    grants::authenticate_client(
        state,
        app.id,
        grants::ClientAuth {
            client_id: &credentials.client_id,
            secret: credentials.secret.as_deref(),
            assertion: credentials.assertion.as_deref(),
            audiences: &assertion_audiences(state, app),
        },
        meta,
    )
    .await
}

pub fn assertion_audiences(state: &AppState, app: &entity::app::Model) -> Vec<String> {
    let mut bases = vec![state.issuer(&app.name)];
    if state.config.default_app.as_deref() == Some(app.name.as_str()) {
        bases.push(state.config.public_base());
    }
    let mut out = Vec::new();
    for base in bases {
        for endpoint in ["token", "par", "revoke", "introspect"] {
            out.push(format!("{base}/v1/oauth/{endpoint}"));
        }
        out.push(base);
    }
    out
}

/// RFC 7523 §2.2: `client_assertion_type` + `client_assertion` (no other method).
fn assertion_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<Option<ClientCredentials>, OAuthError> {
    use crate::services::oauth::client_auth;
    let (kind, assertion) = match (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    ) {
        (None, None) => return Ok(None),
        (Some(kind), Some(assertion)) => (kind, assertion),
        _ => {
            return Err(OAuthError::invalid_request(
                "client_assertion_type and client_assertion go together",
            ));
        }
    };
    if kind != client_auth::ASSERTION_TYPE {
        return Err(OAuthError::invalid_client(format!(
            "client_assertion_type must be {}",
            client_auth::ASSERTION_TYPE
        )));
    }
    if headers.contains_key(header::AUTHORIZATION) || params.contains("client_secret") {
        return Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        ));
    }
    let asserted = client_auth::asserted_client_id(assertion).ok_or_else(|| {
        OAuthError::invalid_client("client_assertion is not a JWT naming the client")
    })?;
    if params.get("client_id").is_some_and(|id| id != asserted) {
        return Err(OAuthError::invalid_request(
            "client_id differs from the client of the assertion",
        ));
    }
    Ok(Some(ClientCredentials {
        client_id: asserted,
        secret: None,
        method: AuthMethod::Jwt,
        assertion: Some(assertion.to_owned()),
    }))
}

fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("v={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    if let Some(credentials) = assertion_credentials(headers, params)? {
        return Ok(credentials);
    }
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| {
                OAuthError::invalid_client("the Authorization header is not valid text")
            })?;
            let (scheme, encoded) = value.split_once(' ').ok_or_else(|| {
                OAuthError::invalid_client("the Authorization header is malformed")
            })?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::invalid_client(
                    "client authentication uses the Basic scheme",
                ));
            }
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    OAuthError::invalid_client("the Basic credentials are not valid base64")
                })?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client("the Basic credentials are malformed"))?;
            Some((form_decode(id), form_decode(secret)))
        }
    };
    match basic {
        Some((id, secret)) => {
            if params.contains("client_secret") {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not two",
                ));
            }
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: Some(secret),
                method: AuthMethod::Basic,
                assertion: None,
            })
        }
        None => {
            let client_id = params
                .get("client_id")
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?
                .to_owned();
            let secret = params.get("client_secret").map(str::to_owned);
            let method = if secret.is_some() {
                AuthMethod::Post
            } else {
                AuthMethod::None
            };
            Ok(ClientCredentials {
                client_id,
                secret,
                method,
                assertion: None,
            })
        }
    }
}

/// The request's `DPoP` proof (RFC 9449 §4.1: at most one).
pub fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut values = headers.get_all(dpop::SCHEME).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(OAuthError::dpop(dpop::ProofError::invalid(
            "send one DPoP header",
        )));
    }
    match first {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            OAuthError::dpop(dpop::ProofError::invalid(
                "the DPoP header is not valid text",
            ))
        }),
    }
}

fn token_success(body: Value) -> Response {
    let mut response = (StatusCode::OK, axum::Json(body)).into_response();
    no_store(&mut response);
    response
}

async fn token_for(
    state: &AppState,
    app: &entity::app::Model,
    request: Request,
    meta: RequestMeta,
) -> Result<Response, OAuthError> {
    let (headers, params) = read_params(request, state).await?;
    let grant_type = params.require("grant_type")?;
    match grant_type {
        "client_credentials" => {
            let credentials = client_credentials(&headers, &params)?;
            let issued = m2m::client_credentials_grant(
                state,
                app,
                &credentials.client_id,
                credentials.secret.as_deref(),
                params.get("scope"),
                &meta,
            )
            .await?;
            Ok(token_success(json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scopes.join(" "),
            })))
        }
        "authorization_code" | "refresh_token" | device::GRANT_TYPE => {
            let client = authenticated_client(state, app, &headers, &params, &meta).await?;
            let grant = match grant_type {
                "authorization_code" => token::Grant::AuthorizationCode {
                    code: params.require("code")?,
                    redirect_uri: params.get("redirect_uri"),
                    verifier: params.get("code_verifier"),
                },
                "refresh_token" => token::Grant::Refresh {
                    refresh_token: params.require("refresh_token")?,
                    scope: params.get("scope"),
                },
                _ => token::Grant::Device {
                    device_code: params.require("device_code")?,
                },
            };
            let request = token::Request {
                grant,
                resource: params.get("resource"),
                dpop_proof: dpop_proof(&headers)?,
            };
            let body = token::grant(state, app, &client, request, &meta).await?;
            Ok(token_success(body))
        }
        exchange::GRANT_TYPE => {
            let client = authenticated_client(state, app, &headers, &params, &meta).await?;
            let request = exchange::Request {
                subject_token: params.require("subject_token")?,
                subject_token_type: params.require("subject_token_type")?,
                actor_token: params.get("actor_token"),
                actor_token_type: params.get("actor_token_type"),
                resource: params.get("resource"),
                audience: params.get("audience"),
                scope: params.get("scope"),
                requested_token_type: params.get("requested_token_type"),
                dpop_proof: dpop_proof(&headers)?,
            };
            let body = exchange::exchange(state, app, &client, request, &meta).await?;
            Ok(token_success(body))
        }
        "password" | "implicit" => Err(OAuthError::unsupported_grant_type(format!(
            "the {grant_type} grant is not supported"
        ))),
        other => Err(OAuthError::unsupported_grant_type(format!(
            "unsupported grant_type '{}'",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

pub async fn app_by_slug(
    state: &AppState,
    slug: &str,
) -> Result<std::sync::Arc<entity::app::Model>, OAuthError> {
    app_in(state, Lane::Consumer, slug).await
}

/// The app, or a 404 in the OAuth error shape.
async fn app_in(
    state: &AppState,
    lane: Lane,
    reference: &str,
) -> Result<std::sync::Arc<entity::app::Model>, OAuthError> {
    match guard::find_app(state, lane, reference).await {
        Ok(app) => Ok(app),
        Err(Error::NotFound(message)) => Err(OAuthError::new(
            StatusCode::NOT_FOUND,
            "invalid_request",
            message,
        )),
        Err(other) => Err(other.into()),
    }
}

/// `POST /{slug}/v1/oauth/token`.
pub async fn token(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        token_for(&state, &app, request, meta).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/apps/{app}/tokens`: client credentials with a JSON body.
pub async fn app_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_in(&state, Lane::Admin, &app).await?;
        token_for(&state, &app, request, meta).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Where a request to an endpoint of `app` went, for DPoP proofs (RFC 9449 §4.3).
fn target<'a>(
    method: &'a axum::http::Method,
    uri: &'a axum::http::Uri,
) -> authenticate::RequestTarget<'a> {
    authenticate::RequestTarget {
        method: method.as_str(),
        path: uri.path(),
    }
}

/// The token a request presents: `Authorization` (Bearer or DPoP) with its proof.
fn presented<'a>(
    headers: &'a HeaderMap,
    target: authenticate::RequestTarget<'a>,
) -> Result<Option<authenticate::Presented<'a>>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let authorization = value.to_str().map_err(|_| {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the Authorization header is not valid text",
        )
    })?;
    let dpop_proof = dpop_proof(headers)
        .map_err(|e| OAuthError::dpop_challenge("invalid_dpop_proof", e.description))?;
    Ok(Some(authenticate::Presented {
        authorization,
        dpop_proof,
        target: Some(target),
    }))
}

/// `POST /{slug}/v1/oauth/introspect` (RFC 7662). The token inspected is the bearer
/// of the request itself (or its DPoP token, with a proof); a `token` parameter is
/// refused (no cross-token probes).
pub async fn introspect(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let method = request.method().clone();
        let headers = request.headers().clone();
        let bytes = read_body(request, &state).await?;
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let params = Params::from_body(&headers, &bytes)?;
            if params.contains("token") {
                return Err(OAuthError::invalid_request(
                    "the token to introspect is the request's bearer token; a token parameter is not accepted",
                ));
            }
        }
        if !headers.contains_key(header::AUTHORIZATION) {
            return Err(OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_request", "a bearer token is required"));
        }
        // A malformed header is an inactive token, as before.
        let presented = presented(&headers, target(&method, &uri)).ok().flatten();
        let body = introspection::introspect(&state, &app, presented).await?;
        Ok(token_success(body))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET|POST /{slug}/v1/oauth/userinfo`: the user's claims for the token's scopes,
/// read live from the database.
pub async fn userinfo(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let invalid = || {
            OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "a valid OAuth access token is required",
            )
        };
        let presented = presented(&headers, target(&method, &uri))?.ok_or_else(invalid)?;
        let claims = introspection::userinfo(&state, &app, presented)
            .await?
            .ok_or_else(invalid)?;
        Ok(token_success(Value::Object(claims)))
    }
    .await;
    result.unwrap_or_else(|e: OAuthError| {
        let dpop = e.challenge.is_some();
        let mut response = e.into_response();
        if response.status() == StatusCode::UNAUTHORIZED && !dpop {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="heimdall", error="invalid_token""#),
            );
        }
        response
    })
}

/// `POST /{slug}/v1/oauth/revoke` (RFC 7009): always 200 for a well-formed request
/// of an authenticated client, whether or not the token existed.
pub async fn revoke(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Response {
    let result = async {
        let app = app_by_slug(&state, &slug).await?;
        let (headers, params) = read_params(request, &state).await?;
        let client = authenticated_client(&state, &app, &headers, &params, &meta).await?;
        let token = params.require("token")?;
        if let Some(hint) = params.get("token_type_hint")
            && hint != "access_token"
            && hint != "refresh_token"
        {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_token_type",
                "token_type_hint must be access_token or refresh_token",
            ));
        }
        grants::revoke(&state, &app, &client, token, &meta).await?;
        let mut response = StatusCode::OK.into_response();
        no_store(&mut response);
        Ok(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
