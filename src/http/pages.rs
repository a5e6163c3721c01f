//! A small toolkit for Heimdall's hosted pages (password reset, email verification,
//! invite acceptance; the OAuth login and consent pages build on it too).
//!
//! Pages are plain server-rendered HTML without scripts, from the templates under
//! `templates/pages/` ([`crate::templates`]: auto-escaped, overridable from
//! `HEIMDALL_TEMPLATES_DIR`). Building one:
//!
//! ```ignore
//! async fn show(State(state): State<AppState>, headers: HeaderMap, page: PageApp) -> Response {
//!     let csrf = Csrf::for_request(&headers);
//!     let response = pages::show(&state.templates, StatusCode::OK, "pages/login.html",
//!         context! { app_name => &page.app.display_name, csrf_token => csrf.token(), … });
//!     csrf.attach(&state, &cookie_path, response)
//! }
//!
//! async fn submit(State(state): State<AppState>, page: PageApp,
//!                 form: CsrfForm<MyForm>) -> Response {
//!     // Only reached with a verified CSRF token: otherwise the 403 page, nothing changed.
//!     …
//! }
//! ```
//!
//! Rules every page follows: values reach the HTML only through a template; every
//! form carries the CSRF field (`csrf_token`) and its handler takes a [`CsrfForm`];
//! responses come from [`show`] / [`message`] / [`error`] so they carry the security
//! headers (CSP with `frame-ancestors 'none'` and `form-action 'self'`,
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, `Cache-Control:
//! no-store`); cookies are built by [`set_cookie`] and read by [`cookie`].

use std::sync::Arc;

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, de::DeserializeOwned};

use super::{
    consumer::app_of,
    extract::{ApiPath, read_body},
};
use crate::{
    crypto,
    error::Error,
    state::AppState,
    templates::{TemplateError, Templates, Value, context},
};

/// The name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The cookie that carries the same token (double submit).
pub const CSRF_COOKIE: &str = "heimdall_csrf";
/// How long a form's CSRF cookie lives, in seconds.
const CSRF_MAX_AGE: i64 = 3600;

/// `Content-Security-Policy` of every page: nothing loads but the inline style
/// (pinned by its hash, so an operator's `pages/style.css` is allowed as it is);
/// forms post only to Heimdall; no framing.
fn csp(style: &str) -> String {
    let hash = STANDARD.encode(crypto::sha256(style.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data: https:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Sets the hosted-page security headers on a response.
fn security_headers(headers: &mut HeaderMap, csp: &str) {
    if let Ok(csp) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Lets the page's forms end in a redirect to `target`'s origin (or, for a native
/// app's custom scheme, to that scheme). Browsers apply `form-action` to every
/// redirect that follows a form submission, so the sign-in and consent pages, whose
/// answers end at the OAuth client's `redirect_uri`, must name it.
pub fn allow_form_redirect(mut response: Response, target: &str) -> Response {
    let Ok(url) = url::Url::parse(target) else {
        return response;
    };
    let source = match url.origin() {
        origin @ url::Origin::Tuple(..) => origin.ascii_serialization(),
        url::Origin::Opaque(_) => format!("{}:", url.scheme()),
    };
    // Origins and schemes never contain spaces, `;` or `,`; refuse anything else.
    if source.is_empty() || source.contains([' ', ';', ',', '\'', '"']) {
        return response;
    }
    let Some(csp) = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    let csp = csp.replace(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Lets a page run Heimdall's own script files and call back to Heimdall (the
/// sign-in page's WebAuthn step): `script-src 'self'`, `connect-src 'self'`.
/// Inline scripts stay forbidden.
pub fn allow_own_scripts(mut response: Response) -> Response {
    let Some(csp) = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    let csp = csp.replace(
        "default-src 'none';",
        "default-src 'none'; script-src 'self'; connect-src 'self';",
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Renders page template `name` (which extends `pages/base.html`) with `context`
/// and the style; returns the HTML and the CSP that allows that style.
fn render(
    templates: &Templates,
    name: &str,
    context: Value,
) -> Result<(String, String), TemplateError> {
    let style = templates.render("pages/style.css", context! {})?;
    let style = style.trim_end().to_owned();
    let csp = csp(&style);
    let html = templates.render(
        name,
        context! { style => Value::from_safe_string(style), ..context },
    )?;
    Ok((html, csp))
}

fn respond(status: StatusCode, html: String, csp: &str) -> Response {
    let mut response = (status, Html(html)).into_response();
    security_headers(response.headers_mut(), csp);
    response
}

/// A complete page: template `name` (e.g. `pages/login.html`) with `context`, with
/// the given status and the security headers. A template that fails to render (an
/// operator's override can) is logged and answered with the built-in 500 page.
pub fn show(templates: &Templates, status: StatusCode, name: &str, context: Value) -> Response {
    match render(templates, name, context) {
        Ok((html, csp)) => respond(status, html, &csp),
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            let fallback = render(
                Templates::embedded(),
                "pages/message.html",
                context! {
                    title => "Something went wrong",
                    message => "Please try again later.",
                },
            );
            match fallback {
                Ok((html, csp)) => respond(StatusCode::INTERNAL_SERVER_ERROR, html, &csp),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

/// A page that only says something (`pages/message.html`).
pub fn message(templates: &Templates, status: StatusCode, title: &str, message: &str) -> Response {
    show(
        templates,
        status,
        "pages/message.html",
        context! { title, message },
    )
}

/// A domain error as a page with the error's status.
pub fn error(templates: &Templates, error: &Error) -> Response {
    error.log();
    let title = match error.status() {
        StatusCode::GONE => "This link is no longer valid",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Already done",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_client_error() => "Something is not right",
        _ => "Something went wrong",
    };
    let text = match error {
        Error::Internal(_) => "Please try again later.".to_owned(),
        other => other.to_string(),
    };
    message(templates, error.status(), title, &text)
}

// ---------------------------------------------------------------------------------
// Cookies

/// The value of the request's cookie `name`. This is the one place the pages read
/// cookies. When a browser sends several of that name (set for different paths),
/// the first one counts: RFC 6265 §5.4 sends the most specific path first.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Sets cookie `name` on `response`; the one place the pages build cookies:
/// `HttpOnly; SameSite=Lax`, `Secure` when the public URL is https (README "Hosted
/// pages"), limited to `path`, for `max_age` seconds.
pub fn set_cookie(
    state: &AppState,
    response: Response,
    name: &'static str,
    value: String,
    path: &str,
    max_age: i64,
) -> Response {
    let path = if path.is_empty() { "/" } else { path };
    let cookie = Cookie::build((name, value))
        .path(path.to_owned())
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.is_https())
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    (CookieJar::new().add(cookie), response).into_response()
}

// ---------------------------------------------------------------------------------
// CSRF

/// The CSRF token of a browser (double-submit cookie): the same random value in an
/// `HttpOnly; SameSite=Lax` cookie scoped to the app's path and in a hidden field
/// of every form. A cross-site page can make the browser send the cookie but
/// cannot read it, so it cannot put the value in the form.
#[derive(Clone, Debug)]
pub struct Csrf {
    token: String,
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, CSRF_COOKIE).filter(|value| well_formed(value))
}

impl Csrf {
    /// The browser's token from its cookie, or a new random one (256 bits). Keeping
    /// an existing token lets several tabs submit their forms.
    pub fn for_request(headers: &HeaderMap) -> Self {
        let token = cookie_token(headers).unwrap_or_else(|| {
            crypto::random_bytes(32)
                .map(|b| crypto::b64url(&b))
                .unwrap_or_default()
        });
        Self { token }
    }

    /// The token, for the form's `csrf_token` field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sets the cookie on `response` (a page that shows a form), limited to `path`
    /// (the app's hosted pages, e.g. `/acme`).
    pub fn attach(&self, state: &AppState, path: &str, response: Response) -> Response {
        set_cookie(
            state,
            response,
            CSRF_COOKIE,
            self.token.clone(),
            path,
            CSRF_MAX_AGE,
        )
    }
}

/// Checks a submitted token against the cookie's, in constant time.
fn verify_csrf(cookie: Option<String>, submitted: Option<&str>) -> Option<Csrf> {
    match (cookie, submitted) {
        (Some(cookie), Some(submitted))
            if crypto::ct_eq(cookie.as_bytes(), submitted.as_bytes()) =>
        {
            Some(Csrf { token: cookie })
        }
        _ => None,
    }
}

/// The browser's verified token when `submitted` matches its CSRF cookie, for an
/// endpoint that takes both forms of its own pages and posts of other sites (the
/// logout endpoint): only its own page's form counts as the user's confirmation.
pub fn csrf_confirmed(headers: &HeaderMap, submitted: Option<&str>) -> Option<Csrf> {
    verify_csrf(cookie_token(headers), submitted)
}

/// The 403 page of a form whose CSRF token is missing or wrong.
fn csrf_rejected(templates: &Templates) -> Response {
    message(
        templates,
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form could not be verified (its security token is missing or does not match). \
         Go back, reload the page and try again.",
    )
}

// ---------------------------------------------------------------------------------
// Extractors

/// A submitted page form whose CSRF token matched the browser's cookie: the
/// `application/x-www-form-urlencoded` body as `T` (415 for another content type,
/// 413 over the body limit, 400 for a malformed form, as [`super::extract::ApiJson`]),
/// and the verified token for a page that shows the form again. A missing or
/// different token is the 403 page, before the handler runs, so nothing changes.
pub struct CsrfForm<T> {
    pub form: T,
    pub csrf: Csrf,
}

#[derive(Deserialize)]
struct CsrfField {
    csrf_token: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        if !is_form(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "the request body must be a form (Content-Type: application/x-www-form-urlencoded)"
                    .into(),
            )
            .into_response());
        }
        let expected = cookie_token(req.headers());
        let bytes = read_body(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form: T = parse_form(&bytes).map_err(IntoResponse::into_response)?;
        let field: CsrfField = parse_form(&bytes).map_err(IntoResponse::into_response)?;
        match verify_csrf(expected, field.csrf_token.as_deref()) {
            Some(csrf) => Ok(Self { form, csrf }),
            None => Err(csrf_rejected(&state.templates)),
        }
    }
}

/// The app named by the page's `{slug}` path segment; an unknown app is the 404
/// page.
pub struct PageApp {
    pub app: Arc<entity::app::Model>,
    /// The slug as the path has it (the pages' own links repeat it).
    pub slug: String,
}

impl FromRequestParts<AppState> for PageApp {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ApiPath(slug) = ApiPath::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match app_of(state, &slug).await {
            Ok(app) => Ok(Self { app, slug }),
            Err(e) => Err(error(&state.templates, &e)),
        }
    }
}

/// Whether the request declares an `application/x-www-form-urlencoded` body.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Parses a urlencoded form, naming the field when it can.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        if path == "." || path.is_empty() {
            Error::invalid(format!("invalid form: {message}"))
        } else {
            Error::invalid_field(&path, message)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_cookie_round_trip() {
        let mut headers = HeaderMap::new();
        let fresh = Csrf::for_request(&headers);
        assert!(well_formed(fresh.token()));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {CSRF_COOKIE}={}", fresh.token())).unwrap(),
        );
        assert_eq!(Csrf::for_request(&headers).token(), fresh.token());
        let verify = |headers: &HeaderMap, submitted| verify_csrf(cookie_token(headers), submitted);
        assert!(verify(&headers, Some(fresh.token())).is_some());
        assert!(verify(&headers, Some("x")).is_none());
        assert!(verify(&headers, None).is_none());
        assert!(verify(&HeaderMap::new(), Some(fresh.token())).is_none());
    }

    #[test]
    fn the_first_cookie_of_a_name_counts() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("junk; a = 1 ;b=2; a=3"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("c=4"));
        assert_eq!(cookie(&headers, "a").as_deref(), Some("1"));
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "c").as_deref(), Some("4"));
        assert_eq!(cookie(&headers, "d"), None);
    }

    #[test]
    fn pages_pin_their_style_in_the_csp() {
        let response = message(
            Templates::embedded(),
            StatusCode::GONE,
            "Gone <now>",
            "it's \"over\"",
        );
        assert_eq!(response.status(), StatusCode::GONE);
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        let style = Templates::embedded()
            .render("pages/style.css", context! {})
            .unwrap();
        let hash = STANDARD.encode(crypto::sha256(style.trim_end().as_bytes()));
        assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
        let widened = allow_form_redirect(response, "https://client.example/cb?x=1");
        let csp = widened.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("form-action 'self' https://client.example;"),
            "{csp}"
        );
    }

    #[test]
    fn forms_parse_with_field_errors() {
        #[derive(serde::Deserialize, Debug)]
        struct F {
            #[allow(dead_code)]
            n: u8,
        }
        assert!(parse_form::<F>(b"n=3").is_ok());
        let err = parse_form::<F>(b"n=x").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(parse_form::<F>(b"").is_err());
    }
}
