//! `GET /{slug}/v1/oauth/authorize` and `POST /{slug}/v1/oauth/authorize/consent`.
//!
//! The user is known from an end-user access token (`Authorization: Bearer`, the API
//! path of custom login UIs) or from the hosted pages' session cookie. API requests
//! (a bearer, or `Accept: application/json`) get JSON: the consent payload when the
//! user must decide. Browsers are sent to the login and consent pages.

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    consumer::app_of,
    extract::{ApiJson, ApiPath},
    oauth::Params,
    pages,
};
use crate::{
    access::Principal,
    error::{Error, Result},
    request::RequestMeta,
    services::{
        apps::AppSettings,
        guard::{self, Lane},
        mfa,
        oauth::{
            authorize::{self, AuthorizeError, AuthorizeParams, Decision},
            par, web,
        },
    },
    state::AppState,
};

/// `302 Found` to `location`, for every authorization answer (RFC 6749 §4.1.2).
fn found(location: &str) -> Response {
    match header::HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => {
            Error::invalid("the redirect location is not a valid header value").into_response()
        }
    }
}

/// The authorization query with `login` taken out of `prompt`.
fn without_prompt_login(query: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name == "prompt" {
            let rest: Vec<&str> = value
                .split_ascii_whitespace()
                .filter(|p| *p != "login")
                .collect();
            if !rest.is_empty() {
                out.append_pair("prompt", &rest.join(" "));
            }
        } else {
            out.append_pair(&name, &value);
        }
    }
    out.finish()
}

/// Whether the caller wants JSON rather than pages.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"))
}

fn params_of(query: Option<&str>) -> std::result::Result<AuthorizeParams, String> {
    let params =
        Params::from_form(query.unwrap_or_default().as_bytes()).map_err(|e| e.description)?;
    let get = |name: &str| params.get(name).map(str::to_owned);
    Ok(AuthorizeParams {
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
    })
}

/// The request's `ui_locales` (OpenID Connect Core §3.1.2.1).
fn ui_locales_of(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "ui_locales")
        .map(|(_, value)| value.into_owned())
        .filter(|v| !v.trim().is_empty())
}

/// An error the user sees (never a redirect to an unverified URI).
fn error_page(state: &AppState, headers: &HeaderMap, json: bool, message: &str) -> Response {
    if json {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_request", "error_description": message })),
        )
            .into_response()
    } else {
        pages::Ui::plain(state, headers).text_page(
            StatusCode::BAD_REQUEST,
            "authorize-failed-title",
            message,
        )
    }
}

/// Where a browser signs in: the hosted page (with a same-origin `return_to` path),
/// or the app's `login_url` (with `return_to` as an absolute URL, since that page is
/// elsewhere; it signs the user in and calls the authorize endpoint with a bearer).
fn login_location(state: &AppState, app: &entity::app::Model, return_to: &str) -> String {
    let settings = AppSettings::from_stored(&app.settings);
    let (base, return_to) = match settings.login_url {
        Some(url) => (url, format!("{}{return_to}", state.config.public_origin())),
        None => (
            format!("{}/{}/login", state.config.base_path, app.name),
            return_to.to_owned(),
        ),
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("{base}{separator}return_to={encoded}")
}

pub async fn authorize(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&state, &headers, json, &e.to_string()),
    };
    let params = match params_of(query.as_deref()) {
        Ok(params) => params,
        Err(message) => return error_page(&state, &headers, json, &message),
    };
    // Pushed authorization requests (RFC 9126): `request_uri` stands for the pushed
    // parameters; the other query parameters but client_id are ignored.
    let request_uri = Params::from_form(query.as_deref().unwrap_or_default().as_bytes())
        .ok()
        .and_then(|p| p.get("request_uri").map(str::to_owned));
    let (params, pushed) = match par::resolve(&state, &app, params, request_uri.as_deref()).await {
        Ok(resolved) => (resolved.params, resolved.pushed),
        Err(AuthorizeError::Page(message)) => return error_page(&state, &headers, json, &message),
        Err(AuthorizeError::Redirect(location)) => return found(&location),
        Err(AuthorizeError::Other(e)) => return e.into_response(),
    };
    let request = match authorize::validate(&state, &app, &params).await {
        Ok(request) => request,
        Err(AuthorizeError::Page(message)) => return error_page(&state, &headers, json, &message),
        Err(AuthorizeError::Redirect(location)) => return found(&location),
        Err(AuthorizeError::Other(e)) => return e.into_response(),
    };
    let bearer = match super::principal::from_headers(&state, &headers).await {
        Ok(bearer) => bearer,
        Err(e) => return e.into_response(),
    };
    let cookie = pages::cookie(&headers, web::COOKIE);
    let signed_in = match web::signed_in(&state, &app, bearer.as_ref(), cookie.as_deref()).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    // max_age and acr_values (docs/src/mfa.md): a session that signed in too long
    // ago, or without a second factor when one is asked for, signs in again.
    let stale = signed_in.as_ref().is_some_and(|s| {
        let too_old = request
            .max_age
            .is_some_and(|max| (state.now() - s.auth_time).num_seconds() > max);
        too_old || (request.require_mfa && !mfa::has_mfa(&s.amr))
    });
    if stale && json {
        let mut params = vec![
            ("error", "login_required"),
            (
                "error_description",
                "a fresh sign-in (with a second factor, if asked for) is required",
            ),
        ];
        if let Some(s) = request.state.as_deref() {
            params.push(("state", s));
        }
        return found(&authorize::redirect_with(
            &request.redirect_uri,
            &state.issuer(&app.name),
            &params,
        ));
    }
    let user = signed_in.map(|s| (s.user, s.session_id, s.auth_time));
    // prompt=login: a browser signs in again even with a live session (a bearer is
    // itself a fresh sign-in by the app's own UI). The authorization continues
    // without `login` in `prompt`, or it would ask forever.
    let reauthenticate = (request.prompt_login || stale) && !json && user.is_some();
    let user = if reauthenticate { None } else { user };
    let Some((user, session_id, auth_time)) = user else {
        if request.prompt_none {
            let mut params = vec![
                ("error", "login_required"),
                ("error_description", "the user is not signed in"),
            ];
            if let Some(s) = request.state.as_deref() {
                params.push(("state", s));
            }
            let location =
                authorize::redirect_with(&request.redirect_uri, &state.issuer(&app.name), &params);
            return found(&location);
        }
        if json {
            return Error::unauthenticated(
                "sign the user in first: send their access token as a bearer",
            )
            .into_response();
        }
        let return_to = format!(
            "{}/{}/v1/oauth/authorize?{}",
            state.config.base_path,
            app.name,
            without_prompt_login(query.as_deref().unwrap_or_default())
        );
        let mut location = login_location(&state, &app, &return_to);
        if request.prompt_login || reauthenticate {
            location.push_str("&prompt=login");
        }
        if request.require_mfa {
            location.push_str("&mfa=1");
        }
        return found(&location);
    };
    if let Some(id) = pushed {
        match par::consume(&state, id).await {
            Ok(true) => {}
            Ok(false) => {
                return error_page(
                    &state,
                    &headers,
                    json,
                    "The request_uri is unknown, expired or already used.",
                );
            }
            Err(e) => return e.into_response(),
        }
    }
    match authorize::decide(&state, &app, &request, &user, Some(session_id), auth_time).await {
        Ok(Decision::Redirect(location)) => found(&location),
        Ok(Decision::Consent(pending)) => {
            if json {
                axum::Json(authorize::consent_payload(&pending, &request.client)).into_response()
            } else {
                let mut location = format!(
                    "{}/{}/consent?request={}",
                    state.config.base_path, app.name, pending.id
                );
                // The consent page speaks the language the client asked for.
                if let Some(ui_locales) = ui_locales_of(query.as_deref()) {
                    location.push_str("&ui_locales=");
                    location.extend(url::form_urlencoded::byte_serialize(ui_locales.as_bytes()));
                }
                found(&location)
            }
        }
        Err(AuthorizeError::Redirect(location)) => found(&location),
        Err(AuthorizeError::Page(message)) => error_page(&state, &headers, json, &message),
        Err(AuthorizeError::Other(e)) => e.into_response(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    pending_authorization_id: String,
    approved: bool,
}

/// `POST /{slug}/v1/oauth/authorize/consent` (bearer): 302 to the client with a code,
/// or with `error=access_denied`.
pub async fn consent(
    State(state): State<AppState>,
    principal: Principal,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<Response> {
    let me = guard::me(&state, &principal, Lane::Consumer, Some(&slug)).await?;
    let location = authorize::answer(
        &state,
        me.app(),
        me.user_id(),
        &body.pending_authorization_id,
        body.approved,
        &meta,
    )
    .await?;
    Ok(found(&location))
}
