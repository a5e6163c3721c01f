//! The admin console (docs/src/console.md): the single-page app built from `console/`
//! and embedded in the binary, served at `/console` with a fallback to its
//! `index.html` for client routes, and its session exchange at `/console/session`.
//!
//! The console's pages talk to `/graphql` only; the cookie this exchange sets is
//! accepted there together with the session's CSRF token (`X-Heimdall-CSRF`).

use std::{collections::HashMap, io::Write, sync::OnceLock};

use axum::{
    Json,
    extract::{FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use serde_json::json;

use super::{
    extract::{ApiJson, ApiPath},
    pages::cookie,
};
use crate::{
    error::{Error, Result},
    services::console::{self, COOKIE, CSRF_HEADER, OAUTH_COOKIE},
    state::AppState,
};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/console/dist");

/// Only this origin, for everything; no inline script. Styles set through the DOM
/// (not `style` attributes in markup) are not inline styles to CSP.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The base the console is built with (`vite.config.ts`); rewritten to the
/// deployment's base path when `index.html` is served.
const BUILT_BASE: &str = "/console/";

/// `{key}` (a root key `hm_root_…` or an app key `hm_pak_…`), or `{code, state}`
/// from the hosted login's redirect back to `/console/callback`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    key: Option<String>,
    code: Option<String>,
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOAuth {
    /// The app's slug.
    app: String,
}

fn session_cookie(state: &AppState, value: &str, max_age: u64) -> Result<HeaderValue> {
    let path = format!("{}/", state.config.base_path);
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(Error::internal)
}

/// The OAuth sign-in's cookie: `SameSite=Lax`, as the browser comes back from the
/// app's login page in a top-level navigation (a custom login page may be on
/// another site); limited to the console's paths; ten minutes.
fn oauth_cookie(state: &AppState, value: &str, max_age: u64) -> Result<HeaderValue> {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{OAUTH_COOKIE}={value}; Path={}/console/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        state.config.base_path
    ))
    .map_err(Error::internal)
}

/// `POST /console/session/oauth {app}` → `{data: {authorize_url}}` and the cookie
/// holding the flow's state and PKCE verifier. The console then sends the browser
/// to `authorize_url` (the app's hosted login).
pub async fn start_oauth(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<StartOAuth>,
) -> Response {
    let started = match console::start_oauth(&state, &body.app).await {
        Ok(started) => started,
        Err(error) => return error.into_response(),
    };
    match oauth_cookie(&state, &started.cookie, 600) {
        Ok(cookie) => (
            [(header::SET_COOKIE, cookie)],
            Json(json!({ "data": { "authorize_url": started.authorize_url } })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

fn csrf_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// `POST /console/session {key}` or `{code, state}` → 201 `{data: {csrf_token,
/// principal, …}}` and the session cookie. The key is not echoed and not kept.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let meta = crate::request::RequestMeta::from_parts(&parts, state.config.trust_proxy);
    let ApiJson(body) =
        match ApiJson::<SignIn>::from_request(Request::from_parts(parts.clone(), body), &state)
            .await
        {
            Ok(body) => body,
            Err(error) => return error.into_response(),
        };
    let (opened, oauth) = match (body.key, body.code, body.state) {
        (Some(key), None, None) => (console::sign_in(&state, &key).await, false),
        (None, Some(code), Some(flow_state)) => {
            let cookie = cookie(&parts.headers, OAUTH_COOKIE);
            let opened =
                console::finish_oauth(&state, cookie.as_deref(), &flow_state, &code, &meta).await;
            (opened, true)
        }
        _ => {
            return Error::invalid("send either `key`, or `code` and `state`").into_response();
        }
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(error) => return error.into_response(),
    };
    let mut response = match session_cookie(
        &state,
        &opened.secret,
        state.config.console_session_lifetime,
    ) {
        Ok(cookie) => (
            StatusCode::CREATED,
            [(header::SET_COOKIE, cookie)],
            Json(json!({ "data": opened.info })),
        )
            .into_response(),
        Err(error) => return error.into_response(),
    };
    if oauth && let Ok(clear) = oauth_cookie(&state, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

/// `GET /console/session`: the session of the cookie (a reloaded console gets its
/// CSRF token back), or 401.
pub async fn current(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(secret) = cookie(&headers, COOKIE) else {
        return Error::unauthenticated("no console session").into_response();
    };
    match console::current(&state, &secret).await {
        Ok(info) => Json(json!({ "data": info })).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `DELETE /console/session` (with the CSRF header): ends the session and clears
/// the cookie. 204.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(secret) = cookie(&headers, COOKIE)
        && let Err(error) = console::sign_out(&state, &secret, csrf_of(&headers)).await
    {
        return error.into_response();
    }
    match session_cookie(&state, "", 0) {
        Ok(cookie) => (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response(),
        Err(error) => error.into_response(),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(path: &str) -> bool {
    matches!(
        path.rsplit('.').next().unwrap_or_default(),
        "js" | "mjs" | "css" | "svg" | "json" | "map" | "txt"
    )
}

/// Gzip of the compressible assets, made once on first use.
fn gzipped(path: &str) -> Option<&'static [u8]> {
    static CACHE: OnceLock<HashMap<String, Vec<u8>>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let mut out = HashMap::new();
            let mut stack = vec![&DIST];
            while let Some(dir) = stack.pop() {
                stack.extend(dir.dirs());
                for file in dir.files() {
                    let name = file.path().to_string_lossy().into_owned();
                    if !compressible(&name) {
                        continue;
                    }
                    let mut encoder =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                    if encoder.write_all(file.contents()).is_ok()
                        && let Ok(bytes) = encoder.finish()
                    {
                        out.insert(name, bytes);
                    }
                }
            }
            out
        })
        .get(path)
        .map(Vec::as_slice)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `index.html` with the deployment's base path: asset URLs rewritten and the base
/// named in a `<meta>` for the app's requests and routes.
fn index(state: &AppState) -> Response {
    let Some(file) = DIST.get_file("index.html") else {
        return Error::not_found("the console is not built (console/dist is empty)")
            .into_response();
    };
    let base = &state.config.base_path;
    let html = String::from_utf8_lossy(file.contents())
        .replace(&format!("\"{BUILT_BASE}"), &format!("\"{base}{BUILT_BASE}"))
        .replace(
            "<meta name=\"heimdall-base\" content=\"\">",
            &format!(
                "<meta name=\"heimdall-base\" content=\"{}\">",
                base.replace('&', "&amp;").replace('"', "&quot;")
            ),
        );
    secured(axum::response::Html(html).into_response())
}

/// `GET /console`: to `/console/`, where relative client routes start.
pub async fn root(State(state): State<AppState>) -> Response {
    Redirect::permanent(&format!("{}/console/", state.config.base_path)).into_response()
}

/// `GET /console/`: the app.
pub async fn app(State(state): State<AppState>) -> Response {
    index(&state)
}

/// `GET /console/{*path}`: an asset, or the app for a client route. A missing file
/// (a name with an extension) is 404, never the app.
pub async fn asset(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
    request: Request,
) -> Response {
    let Some(file) = DIST.get_file(&path).filter(|_| path != "index.html") else {
        let last = path.rsplit('/').next().unwrap_or_default();
        if last.contains('.') {
            return Error::not_found("no such console asset").into_response();
        }
        return index(&state);
    };
    let cache = if path.starts_with("assets/") {
        // Vite names built assets by content hash.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&path)),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if accepts_gzip(request.headers())
        && let Some(bytes) = gzipped(&path)
    {
        let encoding = [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))];
        return secured((headers, encoding, bytes).into_response());
    }
    secured((headers, file.contents()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_names_no_other_origin() {
        assert!(!CSP.contains("http"), "{CSP}");
        assert!(!CSP.contains("unsafe"), "{CSP}");
    }

    #[test]
    fn gzip_is_refused_by_q_zero() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br"),
        );
        assert!(accepts_gzip(&headers));
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&headers));
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0.5"),
        );
        assert!(accepts_gzip(&headers));
    }
}
