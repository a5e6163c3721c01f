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
    branding::Look,
    consumer::app_of,
    extract::{ApiPath, read_body},
};
use crate::{
    crypto,
    error::Error,
    i18n::{Arg, Preferences, Source},
    state::AppState,
    templates::{TemplateError, Templates, Value, context},
};

/// The name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The cookie that carries the same token (double submit).
pub const CSRF_COOKIE: &str = "heimdall_csrf";
/// How long a form's CSRF cookie lives, in seconds.
const CSRF_MAX_AGE: i64 = 3600;
/// The cookie that keeps the language picked on the pages (or asked for by
/// `ui_locales`), for a year.
pub const LANG_COOKIE: &str = "heimdall_lang";
pub const LANG_MAX_AGE: i64 = 365 * 24 * 3600;

/// `Content-Security-Policy` of every page: nothing loads but the inline styles
/// (pinned by their hashes, so an operator's `pages/style.css` is allowed as it
/// is), the app's own logo and style sheet (their exact URLs) and images of this
/// origin; forms post only to Heimdall; no framing. The consent and device pages
/// add the client's logo ([`allow_image`]).
fn csp(styles: &[&str], look: &Look) -> String {
    let mut style_src: Vec<String> = styles
        .iter()
        .map(|style| {
            format!(
                "'sha256-{}'",
                STANDARD.encode(crypto::sha256(style.as_bytes()))
            )
        })
        .collect();
    style_src.extend(look.style_source.clone());
    let mut img_src = vec!["'self'".to_owned(), "data:".to_owned()];
    img_src.extend(look.img_source.clone());
    format!(
        "default-src 'none'; style-src {}; img-src {}; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        style_src.join(" "),
        img_src.join(" ")
    )
}

/// Lets the page show an image from `url` (an https client logo): its exact URL
/// joins `img-src`.
pub fn allow_image(mut response: Response, url: Option<&str>) -> Response {
    let Some(source) = url
        .and_then(|u| url::Url::parse(u).ok())
        .filter(|u| u.scheme() == "https")
        .and_then(|u| {
            let host = u.host_str()?.to_owned();
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            Some(format!("https://{host}{port}{}", u.path()))
        })
        .filter(|s| !s.contains([' ', ';', ',', '\'', '"']))
    else {
        return response;
    };
    let Some(csp) = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
    else {
        return response;
    };
    let csp = csp.replace(
        "img-src 'self' data:",
        &format!("img-src 'self' data: {source}"),
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
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

/// Renders page template `name` (which extends `pages/base.html`) with `context`,
/// the style and the page's language and look; returns the HTML and the CSP that
/// allows them.
fn render(
    templates: &Templates,
    (lang, look, picker): (&str, &Look, Option<Value>),
    name: &str,
    context: Value,
) -> Result<(String, String), TemplateError> {
    let style = templates.render("pages/style.css", context! {})?;
    let style = style.trim_end().to_owned();
    let brand_style = look.style.clone();
    let mut styles = vec![style.as_str()];
    styles.extend(brand_style.as_deref());
    let csp = csp(&styles, look);
    let languages: Vec<Value> = templates
        .catalogs()
        .languages()
        .map(|(tag, name)| context! { tag, name, current => tag == lang })
        .collect();
    let mut shared = context! {
        lang,
        languages,
        picker,
        brand => context! { logo_url => &look.logo_url, css_url => &look.css_url },
        brand_style => brand_style.clone().map(Value::from_safe_string),
        style => Value::from_safe_string(style.clone()),
    };
    if let Some(product) = &look.product_name {
        shared = context! { app_name => product, ..shared };
    }
    let html = templates.render(name, context! { ..shared, ..context })?;
    Ok((html, csp))
}

fn respond(status: StatusCode, html: String, csp: &str) -> Response {
    let mut response = (status, Html(html)).into_response();
    security_headers(response.headers_mut(), csp);
    response
}

/// A complete page in `ui`'s language and look: template `name` (e.g.
/// `pages/login.html`) with `context`, with the given status and the security
/// headers. A template that fails to render (an operator's override can) is
/// logged and answered with the built-in 500 page.
fn show_page(
    templates: &Templates,
    ui: &Ui,
    status: StatusCode,
    name: &str,
    context: Value,
) -> Response {
    let picker = ui.picker.as_ref().map(|(action, back_to)| {
        context! { action, back_to, csrf_token => ui.csrf.token() }
    });
    match render(templates, (&ui.lang, &ui.look, picker), name, context) {
        Ok((html, csp)) => respond(status, html, &csp),
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            let fallback = render(
                Templates::embedded(),
                (&ui.lang, &ui.look, None),
                "pages/message.html",
                context! {
                    title => Templates::embedded().text(&ui.lang, "error-internal", &[]),
                    message => Templates::embedded().text(&ui.lang, "error-try-later", &[]),
                },
            );
            match fallback {
                Ok((html, csp)) => respond(StatusCode::INTERNAL_SERVER_ERROR, html, &csp),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

/// The title of the page of a domain error, by its status.
fn error_title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::GONE => "error-gone",
        StatusCode::NOT_FOUND => "error-not-found",
        StatusCode::FORBIDDEN => "error-forbidden",
        StatusCode::CONFLICT => "error-conflict",
        StatusCode::TOO_MANY_REQUESTS => "error-rate-limited",
        s if s.is_client_error() => "error-bad-request",
        _ => "error-internal",
    }
}

/// What a page says about a service's field error (`"is not an email address"`),
/// as a sentence in the page's language; a message without a translation is shown
/// as the service wrote it.
pub fn field_problem(ui: &Ui, message: &str) -> String {
    let number = |prefix: &str, suffix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .and_then(|n| n.parse::<u32>().ok())
    };
    let key = match message {
        "is required" | "must not be empty" => Some(("problem-required", None)),
        "is not an email address" => Some(("problem-email", None)),
        "must not contain control characters" => Some(("problem-control", None)),
        "is incorrect" => Some(("problem-incorrect", None)),
        "is not the same as the new password" => Some(("problem-password-same", None)),
        "is too long" => Some(("problem-too-long", None)),
        _ => None,
    }
    .or_else(|| number("must be at least ", " characters").map(|n| ("problem-min", Some(n))))
    .or_else(|| number("must be at most ", " characters").map(|n| ("problem-max", Some(n))));
    match key {
        Some((key, Some(n))) => ui.tr(key, &[("n", n.into())]),
        Some((key, None)) => ui.t(key),
        None => {
            let mut chars = message.chars();
            match chars.next() {
                Some(first) => {
                    let mut text = first.to_uppercase().collect::<String>() + chars.as_str();
                    if !text.ends_with('.') {
                        text.push('.');
                    }
                    text
                }
                None => String::new(),
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The language and look of a page

/// What a page needs besides its own values: the language chosen for the request,
/// the app's branding, the language picker (a form posting to
/// `/{slug}/language`) and the browser's CSRF token, which every page sets since
/// every page has that form.
#[derive(Clone)]
pub struct Ui {
    state: AppState,
    /// The language tag (`de`), a supported one.
    pub lang: String,
    source: Source,
    look: Look,
    /// Where the picker posts and where it returns to.
    picker: Option<(String, String)>,
    csrf: Csrf,
    cookie_path: String,
}

/// The `ui_locales` a page was asked for: its own query's, or that of the
/// authorization request it returns to (the sign-in page's `return_to`).
fn ui_locales_of(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query?.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((_, v)) = pairs.iter().find(|(k, _)| k == "ui_locales") {
        return Some(v.clone());
    }
    let (_, return_to) = pairs.iter().find(|(k, _)| k == "return_to")?;
    let (_, inner) = return_to.split_once('?')?;
    url::form_urlencoded::parse(inner.as_bytes())
        .find(|(k, _)| k == "ui_locales")
        .map(|(_, v)| v.into_owned())
}

impl Ui {
    /// The page of a request to app `slug` (with its settings): the language from
    /// `ui_locales`, the cookie, `Accept-Language` or the app's default; the app's
    /// look; the picker returning to this page.
    pub fn for_app(
        state: &AppState,
        headers: &HeaderMap,
        method: &axum::http::Method,
        uri: &axum::http::Uri,
        slug: &str,
        settings: &crate::services::apps::AppSettings,
    ) -> Self {
        let ui_locales = ui_locales_of(uri.query());
        let cookie = cookie(headers, LANG_COOKIE);
        let (lang, source) = state.templates.catalogs().negotiate(&Preferences {
            ui_locales: ui_locales.as_deref(),
            cookie: cookie.as_deref(),
            accept_language: headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
            default: settings.default_locale.as_deref(),
        });
        // The picker returns to this page: a GET as it was asked for, a form's
        // answer to the page of its form (the form's values are not repeated; the
        // steps of signing in and the account's forms post to paths of their own).
        // Under a base path the router sees the path without it.
        let base = &state.config.base_path;
        let here = if method == axum::http::Method::GET {
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            format!("{base}{path}")
        } else {
            let app_path = format!("/{slug}/");
            let page = uri
                .path()
                .strip_prefix(&app_path)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default();
            match page {
                "login" | "account" => format!("{base}{app_path}{page}"),
                _ => format!("{base}{}", uri.path()),
            }
        };
        let return_to = super::login::safe_return_to(state, slug, &here)
            .unwrap_or_else(|| super::login::page_url(state, slug, "login", None));
        Self {
            state: state.clone(),
            lang,
            source,
            look: Look::of(&settings.branding, &state.config.public_origin()),
            picker: Some((
                format!("{}/{slug}/language", state.config.base_path),
                return_to,
            )),
            csrf: Csrf::for_request(headers),
            cookie_path: super::login::cookie_path(state, slug),
        }
    }

    /// A page outside any app (an unknown app's 404): the language from the cookie
    /// or `Accept-Language`, the default look, no picker.
    pub fn plain(state: &AppState, headers: &HeaderMap) -> Self {
        let cookie = cookie(headers, LANG_COOKIE);
        let (lang, source) = state.templates.catalogs().negotiate(&Preferences {
            cookie: cookie.as_deref(),
            accept_language: headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
            ..Preferences::default()
        });
        Self {
            state: state.clone(),
            lang,
            source,
            look: Look::default(),
            picker: None,
            csrf: Csrf::for_request(headers),
            cookie_path: "/".to_owned(),
        }
    }

    /// The browser's CSRF token (the one every form of the page carries).
    pub fn csrf(&self) -> &Csrf {
        &self.csrf
    }

    /// Message `key` in the page's language.
    pub fn t(&self, key: &str) -> String {
        self.state.templates.text(&self.lang, key, &[])
    }

    /// Message `key` with `args` in the page's language.
    pub fn tr(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.state.templates.text(&self.lang, key, args)
    }

    /// A complete page (see [`show_page`]), with the CSRF cookie for its forms and,
    /// when `ui_locales` chose the language, the language cookie, so the flow's
    /// next pages (form answers) keep it.
    pub fn show(&self, status: StatusCode, name: &str, context: Value) -> Response {
        let response = show_page(&self.state.templates, self, status, name, context);
        if self.picker.is_none() {
            return response;
        }
        let response = self.csrf.attach(&self.state, &self.cookie_path, response);
        if self.source == Source::UiLocales {
            set_cookie(
                &self.state,
                response,
                LANG_COOKIE,
                self.lang.clone(),
                &self.cookie_path,
                LANG_MAX_AGE,
            )
        } else {
            response
        }
    }

    /// A page that only says something (`pages/message.html`): messages
    /// `title` and `message` with `args`.
    pub fn message(
        &self,
        status: StatusCode,
        title: &str,
        message: &str,
        args: &[(&str, Arg<'_>)],
    ) -> Response {
        self.show(
            status,
            "pages/message.html",
            context! { title => self.tr(title, args), message => self.tr(message, args) },
        )
    }

    /// [`Ui::message`] with a link under the text (label message `label`).
    pub fn message_with_link(
        &self,
        status: StatusCode,
        (title, message): (&str, &str),
        args: &[(&str, Arg<'_>)],
        (label, url): (&str, &str),
    ) -> Response {
        self.show(
            status,
            "pages/message.html",
            context! {
                title => self.tr(title, args),
                message => self.tr(message, args),
                link => context! { label => self.t(label), url },
            },
        )
    }

    /// A page saying `text` as it is (a service's words), under message `title`.
    pub fn text_page(&self, status: StatusCode, title: &str, text: &str) -> Response {
        self.show(
            status,
            "pages/message.html",
            context! { title => self.t(title), message => text },
        )
    }

    /// A domain error as a page with the error's status. The title is translated;
    /// the text is the service's (in English) unless it is an internal error.
    pub fn error(&self, error: &Error) -> Response {
        error.log();
        let text = match error {
            Error::Internal(_) => self.t("error-try-later"),
            other => other.to_string(),
        };
        self.show(
            error.status(),
            "pages/message.html",
            context! { title => self.t(error_title(error.status())), message => text },
        )
    }
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
fn csrf_rejected(ui: &Ui) -> Response {
    ui.message(
        StatusCode::FORBIDDEN,
        "form-expired-title",
        "form-expired",
        &[],
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
        // The page's language and look, as the `PageApp` extractor before found them.
        let ui = req
            .extensions()
            .get::<Ui>()
            .cloned()
            .unwrap_or_else(|| Ui::plain(state, req.headers()));
        let bytes = read_body(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form: T = parse_form(&bytes).map_err(IntoResponse::into_response)?;
        let field: CsrfField = parse_form(&bytes).map_err(IntoResponse::into_response)?;
        match verify_csrf(expected, field.csrf_token.as_deref()) {
            Some(csrf) => Ok(Self { form, csrf }),
            None => Err(csrf_rejected(&ui)),
        }
    }
}

/// The app named by the page's `{slug}` path segment, with the page's language
/// and look ([`Ui`]); an unknown app is the 404 page.
pub struct PageApp {
    pub app: Arc<entity::app::Model>,
    /// The slug as the path has it (the pages' own links repeat it).
    pub slug: String,
    pub ui: Ui,
}

impl PageApp {
    /// The name the pages show: the brand's product name, else the app's.
    pub fn name(&self) -> &str {
        self.ui
            .look
            .product_name
            .as_deref()
            .unwrap_or(&self.app.display_name)
    }

    /// The page of app `app` for a request that did not go through the extractor
    /// (a route with more path parameters, the federation callback).
    pub async fn of(
        state: &AppState,
        headers: &HeaderMap,
        uri: &axum::http::Uri,
        app: Arc<entity::app::Model>,
        slug: String,
    ) -> Self {
        let settings = state.apps.settings(&app).await;
        let ui = Ui::for_app(
            state,
            headers,
            &axum::http::Method::GET,
            uri,
            &slug,
            &settings,
        );
        Self { app, slug, ui }
    }
}

impl FromRequestParts<AppState> for PageApp {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ApiPath(slug) = ApiPath::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match app_of(state, &slug).await {
            Ok(app) => {
                let settings = state.apps.settings(&app).await;
                let ui = Ui::for_app(
                    state,
                    &parts.headers,
                    &parts.method,
                    &parts.uri,
                    &slug,
                    &settings,
                );
                // For the form extractor's 403 page.
                parts.extensions.insert(ui.clone());
                Ok(Self { app, slug, ui })
            }
            Err(e) => Err(Ui::plain(state, &parts.headers).error(&e)),
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
        let (html, csp) = render(
            Templates::embedded(),
            ("en", &Look::default(), None),
            "pages/message.html",
            context! { title => "Gone <now>", message => "it's \"over\"" },
        )
        .unwrap();
        assert!(html.contains("<html lang=\"en\">"));
        let response = respond(StatusCode::GONE, html, &csp);
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
