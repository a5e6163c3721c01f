//! Federated sign-in on the consumer lane: Sign in with Apple (native and web,
//! `/{slug}/v1/auth/apple…`) and generic OpenID Connect upstreams
//! (`/{slug}/v1/auth/{provider}/…`).

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use entity::app;
use serde::Deserialize;
use serde_json::json;

use super::super::{
    consumer::{app_of, token_response},
    extract::{ApiJson, ApiPath, read_body},
};
use crate::{
    error::{Error, Result},
    request::RequestMeta,
    services::federation::{
        apple::{self, AppleName},
        flow::{self, Started},
        identities::{Outcome, SignedIn},
        oidc,
        providers::{self, APPLE, Config},
    },
    state::AppState,
};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeUser {
    #[schema(value_type = Option<Object>)]
    name: Option<AppleName>,
    /// Accepted for compatibility with Apple's client object; the identity token's
    /// email is the one that counts.
    #[allow(dead_code)]
    email: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
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
    Ok(signed_in_response(status, signed))
}

/// The JSON answer of a federated sign-in: the token response, or the second
/// step's `mfa_token` (docs/src/mfa.md).
fn signed_in_response(status: StatusCode, signed: SignedIn) -> Response {
    match signed.outcome {
        Outcome::Tokens(tokens) => token_response(status, &tokens, signed.user),
        Outcome::SecondFactor(pending) => {
            let mut response = (status, axum::Json(pending.body())).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
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
pub(crate) fn binding_cookie(
    state: &AppState,
    slug: &str,
    name: &str,
    value: &str,
    max_age: i64,
) -> String {
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
pub(crate) fn started_response(
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
        (None, Ok(signed)) => signed_in_response(StatusCode::OK, signed),
        (None, Err(error)) => error.into_response(),
        (Some(target), outcome) => {
            let mut fragment = url::form_urlencoded::Serializer::new(String::new());
            match outcome {
                Ok(SignedIn {
                    outcome: Outcome::Tokens(tokens),
                    ..
                }) => {
                    fragment
                        .append_pair("access_token", &tokens.access_token)
                        .append_pair("token_type", "Bearer")
                        .append_pair("expires_in", &tokens.expires_in.to_string())
                        .append_pair("refresh_token", &tokens.refresh_token);
                }
                Ok(SignedIn {
                    outcome: Outcome::SecondFactor(pending),
                    ..
                }) => {
                    // The app continues with auth/mfa/verify (docs/src/mfa.md).
                    fragment
                        .append_pair("mfa_required", "true")
                        .append_pair("mfa_token", &pending.token)
                        .append_pair("methods", &pending.methods.join(" "))
                        .append_pair("expires_in", &pending.expires_in.to_string());
                    if pending.enrollment_required {
                        fragment.append_pair("enrollment_required", "true");
                    }
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

/// Where a federated sign-in the hosted sign-in page started goes on to (its
/// cookie, see [`super::super::login::federated_start`]), if it is one.
fn hosted_return(headers: &HeaderMap, state_param: Option<&str>) -> Option<String> {
    let raw = read_cookie(
        headers,
        &super::super::login::hosted_flow_cookie(state_param?),
    )
    .filter(|raw| !raw.is_empty())?;
    url::form_urlencoded::parse(format!("r={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// Clears a finished flow's binding and hosted-page cookies.
fn clear_flow_cookies(
    state: &AppState,
    slug: &str,
    state_param: Option<&str>,
    mut response: Response,
) -> Response {
    if let Some(state_param) = state_param {
        for name in [
            flow::binding_cookie(state_param),
            super::super::login::hosted_flow_cookie(state_param),
        ] {
            let clear = binding_cookie(state, slug, &name, "", 0);
            if let Ok(value) = HeaderValue::from_str(&clear) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
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
    let hosted_return = hosted_return(&headers, state_param.as_deref());
    let input = apple::Callback {
        code: params.take("code"),
        state: state_param.clone(),
        user: params.take("user"),
        error: params.take("error"),
    };
    let outcome = apple::callback(&state, &app, input, binding.as_deref(), &meta).await;
    if let Some(return_to) = &hosted_return {
        let response =
            super::super::login::federated_finish(&state, &headers, &slug, return_to, outcome)
                .await;
        return Ok(clear_flow_cookies(
            &state,
            &slug,
            state_param.as_deref(),
            response,
        ));
    }
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
    let hosted_return = hosted_return(&headers, state_param.as_deref());
    let input = oidc::Callback {
        code: params.take("code"),
        state: state_param.clone(),
        error: params.take("error"),
        iss: params.take("iss"),
    };
    let outcome = oidc::callback(&state, &app, &provider, input, binding.as_deref(), &meta).await;
    if let Some(return_to) = &hosted_return {
        let response =
            super::super::login::federated_finish(&state, &headers, &slug, return_to, outcome)
                .await;
        return Ok(clear_flow_cookies(
            &state,
            &slug,
            state_param.as_deref(),
            response,
        ));
    }
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
