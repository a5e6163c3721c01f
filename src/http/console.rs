//! The admin console (docs/console.md): the single-page app built from `console/`
//! and embedded in the binary, served at `/console` with a fallback to its
//! `index.html` for client routes, and its session exchange at `/console/session`.
//!
//! The console's pages talk to `/graphql` only; the cookie this exchange sets is
//! accepted there together with the session's CSRF token (`X-Heimdall-CSRF`).

use std::{collections::HashMap, io::Write, sync::OnceLock};

use axum::{
    Json,
    extract::{Request, State},
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
    services::console::{self, COOKIE, CSRF_HEADER},
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// A root key (`hm_root_…`) or an app key (`hm_pak_…`).
    key: String,
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

fn csrf_of(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// `POST /console/session {key}` → 201 `{data: {csrf_token, principal, …}}` and the
/// session cookie. The key is not echoed and not kept.
pub async fn sign_in(State(state): State<AppState>, ApiJson(body): ApiJson<SignIn>) -> Response {
    let opened = match console::sign_in(&state, &body.key).await {
        Ok(opened) => opened,
        Err(error) => return error.into_response(),
    };
    match session_cookie(&state, &opened.secret, state.config.console_session_lifetime) {
        Ok(cookie) => (
            StatusCode::CREATED,
            [(header::SET_COOKIE, cookie)],
            Json(json!({ "data": opened.info })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
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
        .replace(
            &format!("\"{BUILT_BASE}"),
            &format!("\"{base}{BUILT_BASE}"),
        )
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
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        assert!(accepts_gzip(&headers));
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0"));
        assert!(!accepts_gzip(&headers));
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0.5"));
        assert!(accepts_gzip(&headers));
    }
}
