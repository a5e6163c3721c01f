//! Federated sign-in over REST: provider configuration on the admin lane
//! (`/v1/apps/{app}/providers/…`), the sign-in endpoints on the consumer lane
//! (`/{slug}/v1/auth/apple…`, `/{slug}/v1/auth/{provider}/…`) and identities
//! (`/{slug}/v1/me/identities`, `…/users/{id}/identities` on both lanes).

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use entity::{app, federated_identity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    consumer::{app_of, token_response},
    extract::{ApiJson, ApiPath, read_body, uuid_param},
    lane::Lane,
    response::{List, Resource, no_content},
    users::nullable,
};
use crate::services::guard;
use crate::{
    access::Principal,
    db::Page,
    error::{Error, Result},
    request::RequestMeta,
    services::federation::{
        apple::{self, AppleName},
        flow::{self, Started},
        identities::{self, SignedIn},
        oidc,
        providers::{self, APPLE, AppleInput, Config, OidcInput, Provider, SecretUpdate},
    },
    state::AppState,
};

// ---------------------------------------------------------------------------------
// Provider configuration (admin lane: root key or the app's key)
// ---------------------------------------------------------------------------------

/// A provider as the API shows it: public fields only; secrets as `has_…` flags.
pub fn provider_json(state: &AppState, slug: &str, provider: &Provider) -> Value {
    let m = &provider.model;
    let mut out = json!({
        "id": m.name,
        "kind": m.kind,
        "enabled": m.enabled,
        "callback_url": providers::callback_url(state, slug, &m.name),
        "created_at": m.created_at,
        "updated_at": m.updated_at,
    });
    let extra = match &provider.config {
        Config::Apple(c) => json!({
            "services_id": c.services_id,
            "bundle_ids": c.bundle_ids,
            "team_id": c.team_id,
            "key_id": c.key_id,
            "redirect_uri": c.redirect_uri,
            "has_private_key": provider.has_secret(),
        }),
        Config::Oidc(c) => json!({
            "issuer": c.issuer,
            "discovery_url": c.discovery_url,
            "client_id": c.client_id,
            "scopes": c.scopes,
            "redirect_uri": c.redirect_uri,
            "display_name": c.display_name,
            "has_client_secret": provider.has_secret(),
        }),
    };
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
    out
}

fn provider_link(state: &AppState, slug: &str, name: &str) -> String {
    format!("{}/v1/apps/{slug}/providers/{name}", state.config.base_path)
}

fn provider_resource(state: &AppState, slug: &str, provider: &Provider, created: bool) -> Response {
    let data = provider_json(state, slug, provider);
    let link = provider_link(state, slug, &provider.model.name);
    if created {
        Resource::created(data, link).into_response()
    } else {
        Resource::ok(data, link).into_response()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppleBody {
    services_id: Option<String>,
    #[serde(default)]
    bundle_ids: Vec<String>,
    team_id: Option<String>,
    key_id: Option<String>,
    /// The `.p8` file's contents. Absent keeps the stored key; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    private_key: Option<Option<String>>,
    redirect_uri: Option<String>,
    enabled: Option<bool>,
}

pub async fn put_apple(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
    ApiJson(body): ApiJson<AppleBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let input = AppleInput {
        services_id: body.services_id,
        bundle_ids: body.bundle_ids,
        team_id: body.team_id,
        key_id: body.key_id,
        private_key: SecretUpdate::from_nullable(body.private_key),
        redirect_uri: body.redirect_uri,
        enabled: body.enabled,
    };
    let (provider, created) = providers::put_apple(&state, &admin, input, &meta).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        created,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcBody {
    issuer: Option<String>,
    discovery_url: Option<String>,
    client_id: String,
    /// Absent keeps the stored secret; `null` removes it (a public client).
    #[serde(default, deserialize_with = "nullable")]
    client_secret: Option<Option<String>>,
    scopes: Option<Vec<String>>,
    redirect_uri: String,
    display_name: Option<String>,
    enabled: Option<bool>,
}

pub async fn put_provider(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<OidcBody>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let input = OidcInput {
        issuer: body.issuer,
        discovery_url: body.discovery_url,
        client_id: body.client_id,
        client_secret: SecretUpdate::from_nullable(body.client_secret),
        scopes: body.scopes,
        redirect_uri: body.redirect_uri,
        display_name: body.display_name,
        enabled: body.enabled,
    };
    let (provider, created) = providers::put_oidc(&state, &admin, &name, input, &meta).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        created,
    ))
}

pub async fn list_providers(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(&app)).await?;
    let items = providers::list(&state, &admin)
        .await?
        .iter()
        .map(|p| provider_json(&state, &admin.app().name, p))
        .collect();
    Ok(List(Page {
        items,
        next_cursor: None,
    })
    .into_response())
}

async fn get_named(
    state: AppState,
    principal: Principal,
    app: &str,
    name: &str,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(app)).await?;
    let provider = providers::get_admin(&state, &admin, name).await?;
    Ok(provider_resource(
        &state,
        &admin.app().name,
        &provider,
        false,
    ))
}

async fn delete_named(
    state: AppState,
    principal: Principal,
    meta: RequestMeta,
    app: &str,
    name: &str,
) -> Result<Response> {
    let admin = guard::app_admin(&state, &principal, guard::Lane::Admin, Some(app)).await?;
    providers::delete(&state, &admin, name, &meta).await?;
    Ok(no_content())
}

pub async fn get_apple(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    get_named(state, principal, &app, APPLE).await
}

pub async fn delete_apple(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(app): ApiPath<String>,
) -> Result<Response> {
    delete_named(state, principal, meta, &app, APPLE).await
}

pub async fn get_provider(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((app, name)): ApiPath<(String, String)>,
) -> Result<Response> {
    get_named(state, principal, &app, &name).await
}

pub async fn delete_provider(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath((app, name)): ApiPath<(String, String)>,
) -> Result<Response> {
    delete_named(state, principal, meta, &app, &name).await
}

// ---------------------------------------------------------------------------------
// Sign-in (consumer lane)
// ---------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeUser {
    name: Option<AppleName>,
    /// Accepted for compatibility with Apple's client object; the identity token's
    /// email is the one that counts.
    #[allow(dead_code)]
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeBody {
    identity_token: String,
    nonce: Option<String>,
    user: Option<NativeUser>,
}

/// `POST /{slug}/v1/auth/apple`: 201 with tokens when the user was created, 200
/// when an existing user signed in (or was linked).
pub async fn apple_native(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<NativeBody>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let input = apple::NativeInput {
        identity_token: body.identity_token,
        nonce: body.nonce,
        name: body.user.and_then(|u| u.name),
    };
    let signed = apple::sign_in_native(&state, &app, input, &meta).await?;
    let status = if signed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(token_response(status, &signed.tokens, signed.user))
}

/// Whether the caller asked for JSON (API clients) rather than a browser redirect.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("application/json"))
}

fn cookie_path(state: &AppState, slug: &str) -> String {
    format!("{}/{slug}/v1/auth/", state.config.base_path)
}

/// The binding cookie: `SameSite=None; Secure` on https so that it survives
/// Apple's cross-site form post; `SameSite=Lax` on plain http (development).
fn binding_cookie(state: &AppState, slug: &str, name: &str, value: &str, max_age: i64) -> String {
    let same_site = if state.config.is_https() {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    format!(
        "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; {same_site}",
        cookie_path(state, slug)
    )
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The answer to `start`: a redirect to the provider (browsers, with the binding
/// cookie) or `{authorization_url, state, expires_in}` (API clients).
fn started_response(
    state: &AppState,
    slug: &str,
    started: &Started,
    url: &url::Url,
) -> Result<Response> {
    let Some(binding) = &started.binding else {
        return Ok(axum::Json(json!({
            "authorization_url": url.as_str(),
            "state": started.state,
            "expires_in": flow::FLOW_TTL.num_seconds(),
        }))
        .into_response());
    };
    let cookie = binding_cookie(
        state,
        slug,
        &flow::binding_cookie(&started.state),
        binding,
        flow::FLOW_TTL.num_seconds(),
    );
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(url.as_str()).map_err(Error::internal)?,
    );
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(Error::internal)?,
    );
    Ok(response)
}

/// `GET /{slug}/v1/auth/apple/start`.
pub async fn apple_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (started, url) = apple::start(&state, &app, !wants_json(&headers)).await?;
    started_response(&state, &slug, &started, &url)
}

/// `GET /{slug}/v1/auth/{provider}/start`.
pub async fn oidc_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((slug, provider)): ApiPath<(String, String)>,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (started, url) = oidc::start(&state, &app, &provider, !wants_json(&headers)).await?;
    started_response(&state, &slug, &started, &url)
}

/// The parameters of an authorization response: a form post or a query string.
/// Every parameter at most once (RFC 6749 §3.1).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &[u8]) -> Result<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(text)
            .map_err(|_| Error::invalid("the parameters are not valid form encoding"))?;
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(Error::invalid_field(key, "is given more than once"));
            }
        }
        Ok(Self(pairs))
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let index = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.swap_remove(index).1)
    }

    async fn from_request(request: Request, state: &AppState) -> Result<(HeaderMap, Self)> {
        let headers = request.headers().clone();
        if request.method() == axum::http::Method::GET {
            let query = request.uri().query().unwrap_or_default().to_owned();
            return Ok((headers, Self::parse(query.as_bytes())?));
        }
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(Error::UnsupportedMediaType(
                "the callback takes a form post (application/x-www-form-urlencoded)".into(),
            ));
        }
        let body = read_body(request, state).await?;
        Ok((headers, Self::parse(&body)?))
    }
}

/// Ends a web sign-in. Browsers go to the configured `redirect_uri` with the tokens
/// (or `error` and `error_description`) in the URL fragment; API clients
/// (`Accept: application/json`), and browsers of an app without a `redirect_uri`,
/// get the token response or the error as JSON. The binding cookie is cleared.
fn finish(
    state: &AppState,
    slug: &str,
    headers: &HeaderMap,
    state_param: Option<&str>,
    redirect_uri: Option<String>,
    outcome: Result<SignedIn>,
) -> Response {
    let mut response = match (redirect_uri.filter(|_| !wants_json(headers)), outcome) {
        (None, Ok(signed)) => token_response(StatusCode::OK, &signed.tokens, signed.user),
        (None, Err(error)) => error.into_response(),
        (Some(target), outcome) => {
            let mut fragment = url::form_urlencoded::Serializer::new(String::new());
            match outcome {
                Ok(signed) => {
                    fragment
                        .append_pair("access_token", &signed.tokens.access_token)
                        .append_pair("token_type", "Bearer")
                        .append_pair("expires_in", &signed.tokens.expires_in.to_string())
                        .append_pair("refresh_token", &signed.tokens.refresh_token);
                }
                Err(error) => {
                    error.log();
                    let description = match &error {
                        Error::Internal(_) => "internal server error".to_owned(),
                        other => other.to_string(),
                    };
                    fragment
                        .append_pair("error", error.code())
                        .append_pair("error_description", &description);
                }
            }
            let location = format!("{target}#{}", fragment.finish());
            match HeaderValue::from_str(&location) {
                Ok(location) => {
                    let mut response = StatusCode::SEE_OTHER.into_response();
                    response.headers_mut().insert(header::LOCATION, location);
                    response
                }
                Err(_) => Error::internal("redirect_uri is not a valid header").into_response(),
            }
        }
    };
    if let Some(state_param) = state_param {
        let clear = binding_cookie(state, slug, &flow::binding_cookie(state_param), "", 0);
        if let Ok(value) = HeaderValue::from_str(&clear) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The redirect URI of a provider, if it can be read (for error redirects).
async fn final_redirect(state: &AppState, app: &app::Model, name: &str) -> Option<String> {
    let provider = providers::get(state, app.id, name).await.ok()?;
    match provider.config {
        Config::Apple(c) => c.redirect_uri,
        Config::Oidc(c) => Some(c.redirect_uri),
    }
}

/// `POST /{slug}/v1/auth/apple/callback` (Apple's `form_post`).
pub async fn apple_callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    request: Request,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (headers, mut params) = Params::from_request(request, &state).await?;
    let state_param = params.take("state");
    let binding = state_param
        .as_deref()
        .and_then(|s| read_cookie(&headers, &flow::binding_cookie(s)));
    let input = apple::Callback {
        code: params.take("code"),
        state: state_param.clone(),
        user: params.take("user"),
        error: params.take("error"),
    };
    let outcome = apple::callback(&state, &app, input, binding.as_deref(), &meta).await;
    let redirect = final_redirect(&state, &app, APPLE).await;
    Ok(finish(
        &state,
        &slug,
        &headers,
        state_param.as_deref(),
        redirect,
        outcome,
    ))
}

/// `GET` or `POST /{slug}/v1/auth/{provider}/callback`.
pub async fn oidc_callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiPath((slug, provider)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response> {
    let app = app_of(&state, &slug).await?;
    let (headers, mut params) = Params::from_request(request, &state).await?;
    let state_param = params.take("state");
    let binding = state_param
        .as_deref()
        .and_then(|s| read_cookie(&headers, &flow::binding_cookie(s)));
    let input = oidc::Callback {
        code: params.take("code"),
        state: state_param.clone(),
        error: params.take("error"),
        iss: params.take("iss"),
    };
    let outcome = oidc::callback(&state, &app, &provider, input, binding.as_deref(), &meta).await;
    let redirect = final_redirect(&state, &app, &provider).await;
    Ok(finish(
        &state,
        &slug,
        &headers,
        state_param.as_deref(),
        redirect,
        outcome,
    ))
}

// ---------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------

#[derive(Serialize)]
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
