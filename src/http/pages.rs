//! A small toolkit for Heimdall's hosted pages (password reset, email verification,
//! invite acceptance; the OAuth login and consent pages build on it too).
//!
//! Pages are plain server-rendered HTML without scripts. Building one:
//!
//! ```ignore
//! async fn show(State(state): State<AppState>, headers: HeaderMap, …) -> Response {
//!     let csrf = Csrf::for_request(&headers);
//!     let body = format!(
//!         "<h1>{}</h1>{}",
//!         escape(&app.display_name),
//!         form(&action, &csrf, &input("Email", "email", "email", "username"), "Continue"),
//!     );
//!     csrf.attach(&state, &cookie_path, page("Sign in", &body))
//! }
//!
//! async fn submit(State(state): State<AppState>, headers: HeaderMap,
//!                 ApiForm(form): ApiForm<MyForm>) -> Response {
//!     if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
//!         return refused.into_response(); // 403 page, nothing changed
//!     }
//!     …
//! }
//! ```
//!
//! Rules every page follows: every interpolated value goes through [`escape`]; every
//! form carries the CSRF field ([`Csrf::field`], or use [`form`]) and its handler
//! calls [`verify_csrf`] before changing anything; responses come from [`page`] /
//! [`page_with_status`] so they carry the security headers (CSP with
//! `frame-ancestors 'none'` and `form-action 'self'`, `X-Frame-Options: DENY`,
//! `Referrer-Policy: no-referrer`, `Cache-Control: no-store`).

use std::sync::LazyLock;

use axum::{
    extract::{FromRequest, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::de::DeserializeOwned;

use super::extract::read_body;
use crate::{crypto, error::Error, state::AppState};

/// The name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The cookie that carries the same token (double submit).
pub const CSRF_COOKIE: &str = "heimdall_csrf";

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;\
background:#f5f6f8;color:#1c1e21;margin:0;padding:2rem 1rem}\
main{max-width:26rem;margin:0 auto;background:#fff;border-radius:8px;padding:2rem;\
box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:1.4rem;margin-top:0}\
label{display:block;margin:1rem 0 .25rem;font-weight:600}\
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;\
padding:.6rem;border:1px solid #aab;border-radius:4px;font-size:1rem}\
button{margin-top:1.5rem;width:100%;padding:.7rem;border:0;border-radius:4px;\
background:#2456d3;color:#fff;font-size:1rem;cursor:pointer}\
button:focus,input:focus{outline:3px solid #8fb0ff}\
.error{color:#a40e26;background:#fdecee;padding:.6rem;border-radius:4px}\
.note{color:#555;font-size:.9rem}\
button.secondary{background:#e4e6eb;color:#1c1e21;margin-top:.75rem}\
.logo{max-width:64px;max-height:64px;display:block;margin:0 auto 1rem}\
ul.scopes{padding-left:1.2rem;line-height:1.5}";

/// `Content-Security-Policy` of every page: nothing loads but the inline style
/// (pinned by its hash); forms post only to Heimdall; no framing.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(crypto::sha256(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data: https:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
});

/// Escapes text for HTML element content and (double-quoted) attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Sets the hosted-page security headers on a response.
pub fn security_headers(headers: &mut HeaderMap) {
    if let Ok(csp) = HeaderValue::from_str(&CSP) {
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
    let csp = CSP.replace(
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

/// A complete page with status 200. `title` is escaped here; `body_html` is
/// inserted as is, so build it with [`escape`] around every value.
pub fn page(title: &str, body_html: &str) -> Response {
    page_with_status(StatusCode::OK, title, body_html)
}

/// A complete page with the given status (see [`page`]).
pub fn page_with_status(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body_html}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    security_headers(response.headers_mut());
    response
}

/// A page that only says something went wrong: `message` is escaped.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    page_with_status(
        status,
        title,
        &format!("<h1>{}</h1>\n<p>{}</p>", escape(title), escape(message)),
    )
}

/// A domain error as a page with the error's status.
pub fn error_page(error: &Error) -> Response {
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
    let message = match error {
        Error::Internal(_) => "Please try again later.".to_owned(),
        other => other.to_string(),
    };
    message_page(error.status(), title, &message)
}

/// A labelled input. `kind` is the input type (`text`, `email`, `password`, …),
/// `autocomplete` its autocomplete token (`new-password`, `username`, `name`, …).
pub fn input(label: &str, name: &str, kind: &str, autocomplete: &str) -> String {
    let id = escape(name);
    format!(
        "<label for=\"{id}\">{label}</label>\n<input id=\"{id}\" name=\"{id}\" type=\"{kind}\" \
         autocomplete=\"{autocomplete}\" required>\n",
        label = escape(label),
        kind = escape(kind),
        autocomplete = escape(autocomplete),
    )
}

/// A hidden field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        escape(name),
        escape(value)
    )
}

/// A `POST` form to `action` with the CSRF field, `fields_html` and a submit button.
pub fn form(action: &str, csrf: &Csrf, fields_html: &str, submit: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">\n{csrf}{fields_html}<button type=\"submit\">{submit}</button>\n</form>",
        action = escape(action),
        csrf = csrf.field(),
        submit = escape(submit),
    )
}

/// An error notice to show above a form (`message` is escaped).
pub fn notice(message: &str) -> String {
    format!(
        "<p class=\"error\" role=\"alert\">{}</p>\n",
        escape(message)
    )
}

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

/// The value of the request's cookie `name` (the first one sent), if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_owned())
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

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The hidden form field carrying the token.
    pub fn field(&self) -> String {
        hidden(CSRF_FIELD, &self.token)
    }

    /// The `Set-Cookie` value: `HttpOnly; SameSite=Lax`, `Secure` when the public
    /// URL is https, limited to `path` (the app's hosted pages, e.g. `/acme`).
    pub fn cookie(&self, state: &AppState, path: &str) -> String {
        format!(
            "{CSRF_COOKIE}={}; Path={}; HttpOnly; SameSite=Lax; Max-Age=3600{}",
            self.token,
            if path.is_empty() { "/" } else { path },
            if state.config.is_https() {
                "; Secure"
            } else {
                ""
            }
        )
    }

    /// Sets the cookie on `response` (a page that shows a form).
    pub fn attach(&self, state: &AppState, path: &str, mut response: Response) -> Response {
        if let Ok(value) = HeaderValue::from_str(&self.cookie(state, path)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

/// A refused CSRF check; its response is a 403 page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsrfRejected;

impl IntoResponse for CsrfRejected {
    fn into_response(self) -> Response {
        message_page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form could not be verified (its security token is missing or does not match). \
             Go back, reload the page and try again.",
        )
    }
}

/// Checks a submitted form's CSRF token against the cookie, in constant time. A
/// missing or different token is [`CsrfRejected`] (a 403 page): the handler must
/// return it and change nothing.
pub fn verify_csrf(headers: &HeaderMap, submitted: Option<&str>) -> Result<(), CsrfRejected> {
    match (cookie_token(headers), submitted) {
        (Some(cookie), Some(submitted))
            if crypto::ct_eq(cookie.as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(CsrfRejected),
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

/// An `application/x-www-form-urlencoded` body: 415 for another content type, 413
/// over the body limit, 400 for a malformed form (naming the field when it can).
/// Mirrors [`super::extract::ApiJson`].
pub struct ApiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiForm<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        if !is_form(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "the request body must be a form (Content-Type: application/x-www-form-urlencoded)"
                    .into(),
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_form(&bytes).map(ApiForm)
    }
}

/// Parses a urlencoded form.
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
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
    }

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
        assert!(verify_csrf(&headers, Some(fresh.token())).is_ok());
        assert!(verify_csrf(&headers, Some("x")).is_err());
        assert!(verify_csrf(&headers, None).is_err());
        assert!(verify_csrf(&HeaderMap::new(), Some(fresh.token())).is_err());
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
