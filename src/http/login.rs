//! Heimdall's hosted sign-in and consent pages for the OAuth provider:
//! `/{slug}/login` and `/{slug}/consent`.
//!
//! Signing in here opens an ordinary Heimdall session and binds a browser cookie
//! (`hm_session`: `HttpOnly`, `SameSite=Lax`, `Secure` on https) to it, so signing
//! out or revoking the session ends the browser session too. `return_to` is only
//! ever a path of this app on this origin. Every form carries the CSRF token.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    consumer::app_of,
    extract::{ApiPath, ApiQuery},
    pages::{
        self, ApiForm, Csrf, error_page, escape, hidden, message_page, notice, page_with_status,
        verify_csrf,
    },
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        oauth::{authorize, scope_description, scopes_of, web},
        sessions, users,
    },
    state::AppState,
};

/// Where the browser cookies of an app's pages apply: the app's paths, or the whole
/// base path for the default app (whose OAuth endpoints are also at the root).
fn cookie_path(state: &AppState, slug: &str) -> String {
    if state.config.default_app.as_deref() == Some(slug) {
        if state.config.base_path.is_empty() {
            "/".to_owned()
        } else {
            state.config.base_path.clone()
        }
    } else {
        format!("{}/{slug}", state.config.base_path)
    }
}

/// `return_to` when it is a path of this app on this origin; `None` otherwise.
/// Absolute URLs, scheme-relative `//host` paths, backslashes and control characters
/// are refused, so the page can never send the browser elsewhere.
pub fn safe_return_to(state: &AppState, slug: &str, return_to: &str) -> Option<String> {
    let prefix = format!("{}/{slug}/", state.config.base_path);
    let ok = return_to.starts_with(&prefix)
        && !return_to.starts_with("//")
        && return_to.len() <= 4096
        && !return_to.chars().any(|c| c == '\\' || c.is_control());
    ok.then(|| return_to.to_owned())
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => message_page(
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "The address to return to is not valid.",
        ),
    }
}

fn bad_return_to() -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        "This link is not valid",
        "The address to return to after signing in must be a page of this app.",
    )
}

// ---------------------------------------------------------------------------------
// Sign-in

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    /// `login`: show the form even to a signed-in browser (OIDC `prompt=login`).
    prompt: Option<String>,
}

fn login_form(
    state: &AppState,
    slug: &str,
    app_name: &str,
    email: &str,
    return_to: Option<&str>,
    csrf: &Csrf,
    error: Option<&str>,
) -> String {
    let action = format!("{}/{slug}/login", state.config.base_path);
    format!(
        "<h1>Sign in to {app}</h1>\n{error}<form method=\"post\" action=\"{action}\">\n{csrf}{return_to}\
         <label for=\"email\">Email</label>\n\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" value=\"{email}\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>",
        app = escape(app_name),
        error = error.map(notice).unwrap_or_default(),
        action = escape(&action),
        csrf = csrf.field(),
        return_to = return_to
            .map(|r| hidden("return_to", r))
            .unwrap_or_default(),
        email = escape(email),
    )
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Response {
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let return_to = match query.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(),
        },
    };
    // Already signed in: straight on (unless asked to sign in again).
    let force = query.prompt.as_deref() == Some("login");
    if let Some(cookie) = pages::cookie(&headers, web::COOKIE).filter(|_| !force) {
        match web::resolve(&state, app.id, &cookie).await {
            Ok(Some(session)) => {
                if let Some(return_to) = &return_to {
                    return see_other(return_to);
                }
                return match users::find(&*state.db, app.id, session.user_id).await {
                    Ok(user) => signed_in_page(&app.display_name, &user.email),
                    Err(e) => error_page(&e),
                };
            }
            Ok(None) => {}
            Err(e) => return error_page(&e),
        }
    }
    let csrf = Csrf::for_request(&headers);
    let body = login_form(
        &state,
        &slug,
        &app.display_name,
        "",
        return_to.as_deref(),
        &csrf,
        None,
    );
    let response = csrf.attach(
        &state,
        &cookie_path(&state, &slug),
        page_with_status(
            StatusCode::OK,
            &format!("Sign in to {}", app.display_name),
            &body,
        ),
    );
    with_return_target(response, return_to.as_deref())
}

/// When signing in continues an authorization, the form's redirects end at the
/// client's `redirect_uri`: the page's `form-action` must allow it.
fn with_return_target(response: Response, return_to: Option<&str>) -> Response {
    let target = return_to
        .and_then(|r| r.split_once('?'))
        .and_then(|(_, query)| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "redirect_uri")
                .map(|(_, value)| value.into_owned())
        });
    match target {
        Some(target) => pages::allow_form_redirect(response, &target),
        None => response,
    }
}

fn signed_in_page(app_name: &str, email: &str) -> Response {
    message_page(
        StatusCode::OK,
        "You are signed in",
        &format!("You are signed in to {app_name} as {email}. You can close this page."),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    return_to: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiForm(form): ApiForm<LoginForm>,
) -> Response {
    if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
        return refused.into_response();
    }
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let return_to = match form.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(),
        },
    };
    let opened =
        sessions::password_session(&state, &app, &form.email, &form.password, None, &meta).await;
    let (session, user) = match opened {
        Ok((session, _refresh, user)) => (session, user),
        Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => return error_page(&e),
        Err(e) => {
            // The form again, with the reason (never which of email or password).
            let csrf = Csrf::for_request(&headers);
            let message = match e.status() {
                StatusCode::UNAUTHORIZED => "The email or password is not correct.".to_owned(),
                _ => e.to_string(),
            };
            let body = login_form(
                &state,
                &slug,
                &app.display_name,
                &form.email,
                return_to.as_deref(),
                &csrf,
                Some(&message),
            );
            let mut response = csrf.attach(
                &state,
                &cookie_path(&state, &slug),
                page_with_status(
                    e.status(),
                    &format!("Sign in to {}", app.display_name),
                    &body,
                ),
            );
            response = with_return_target(response, return_to.as_deref());
            if let Error::RateLimited { retry_after } = e
                && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    };
    let secret = match web::create(&state, &session).await {
        Ok(secret) => secret,
        Err(e) => return error_page(&e),
    };
    let max_age = (session.expires_at - state.now()).num_seconds().max(0);
    let cookie = format!(
        "{}={secret}; Path={}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        web::COOKIE,
        cookie_path(&state, &slug),
        if state.config.is_https() {
            "; Secure"
        } else {
            ""
        }
    );
    let mut response = match &return_to {
        Some(return_to) => see_other(return_to),
        None => signed_in_page(&app.display_name, &user.email),
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

// ---------------------------------------------------------------------------------
// Consent

#[derive(Deserialize)]
pub struct ConsentQuery {
    request: Option<String>,
}

/// The signed-in user of the browser, or where to send it to sign in.
async fn browser_user(
    state: &AppState,
    app: &entity::app::Model,
    headers: &HeaderMap,
) -> Result<Option<uuid::Uuid>, Error> {
    let Some(cookie) = pages::cookie(headers, web::COOKIE) else {
        return Ok(None);
    };
    Ok(web::resolve(state, app.id, &cookie)
        .await?
        .map(|s| s.user_id))
}

fn link(label: &str, url: Option<&str>) -> String {
    match url {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
            escape(url),
            escape(label)
        ),
        _ => String::new(),
    }
}

pub async fn consent_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<ConsentQuery>,
) -> Response {
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let Some(request_id) = query.request.filter(|r| !r.is_empty()) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "The consent page needs the authorization request it is about.",
        );
    };
    let user_id = match browser_user(&state, &app, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(request_id.as_bytes()).collect();
            let here = format!(
                "{}/{slug}/consent?request={encoded}",
                state.config.base_path
            );
            let encoded: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return see_other(&format!(
                "{}/{slug}/login?return_to={encoded}",
                state.config.base_path
            ));
        }
        Err(e) => return error_page(&e),
    };
    let (request, client) = match authorize::pending(&state, app.id, user_id, &request_id).await {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let scopes: String = scopes_of(&request.scopes)
        .iter()
        .map(|s| {
            format!(
                "<li><strong>{}</strong>: {}</li>\n",
                escape(s),
                escape(scope_description(s).unwrap_or_default())
            )
        })
        .collect();
    let logo = match client.logo_url.as_deref() {
        Some(url) if url.starts_with("https://") => {
            format!("<img class=\"logo\" src=\"{}\" alt=\"\">\n", escape(url))
        }
        _ => String::new(),
    };
    let links: Vec<String> = [
        link("Website", client.homepage_url.as_deref()),
        link("Privacy policy", client.privacy_policy_url.as_deref()),
        link("Terms of service", client.terms_of_service_url.as_deref()),
    ]
    .into_iter()
    .filter(|l| !l.is_empty())
    .collect();
    let links = if links.is_empty() {
        String::new()
    } else {
        format!("<p class=\"note\">{}</p>\n", links.join(" · "))
    };
    let csrf = Csrf::for_request(&headers);
    let action = format!("{}/{slug}/consent", state.config.base_path);
    let body = format!(
        "{logo}<h1>{client} wants to access your {app} account</h1>\n{description}\
         <p>It will be able to:</p>\n<ul class=\"scopes\">\n{scopes}</ul>\n{links}\
         <form method=\"post\" action=\"{action}\">\n{csrf}{request}\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button>\n</form>",
        client = escape(&client.name),
        app = escape(&app.display_name),
        description = client
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("<p class=\"note\">{}</p>\n", escape(d)))
            .unwrap_or_default(),
        action = escape(&action),
        csrf = csrf.field(),
        request = hidden("request", &request_id),
    );
    let response = csrf.attach(
        &state,
        &cookie_path(&state, &slug),
        page_with_status(StatusCode::OK, &format!("Allow {}?", client.name), &body),
    );
    pages::allow_form_redirect(response, &request.redirect_uri)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf_token: Option<String>,
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiForm(form): ApiForm<ConsentForm>,
) -> Response {
    if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
        return refused.into_response();
    }
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let approved = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "Something is not right",
                "Choose Allow or Deny.",
            );
        }
    };
    let user_id = match browser_user(&state, &app, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            return message_page(
                StatusCode::UNAUTHORIZED,
                "You are not signed in",
                "Your session has ended. Go back to the app and sign in again.",
            );
        }
        Err(e) => return error_page(&e),
    };
    match authorize::answer(&state, &app, user_id, &form.request, approved, &meta).await {
        Ok(location) => see_other(&location),
        Err(e) => error_page(&e),
    }
}
