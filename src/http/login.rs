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
    extract::ApiQuery,
    pages::{self, Csrf, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        mfa::signin::{self as mfa_signin, Proof},
        oauth::{authorize, scope_description, scopes_of, web},
        sessions::{self, PasswordStep},
        users,
    },
    state::AppState,
    templates::{Value, context},
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

fn see_other(state: &AppState, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => pages::message(
            &state.templates,
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "The address to return to is not valid.",
        ),
    }
}

fn bad_return_to(state: &AppState) -> Response {
    pages::message(
        &state.templates,
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
    /// `1`: the sign-in must use a second factor (an OAuth request's `acr_values`).
    mfa: Option<String>,
}

/// The sign-in form (again, with `error`, after a failed attempt).
#[allow(clippy::too_many_arguments)]
fn login_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    email: &str,
    return_to: Option<&str>,
    csrf: &Csrf,
    error: Option<&str>,
    mfa: bool,
) -> Response {
    let response = pages::show(
        &state.templates,
        status,
        "pages/login.html",
        context! {
            app_name => &page.app.display_name,
            action => format!("{}/{}/login", state.config.base_path, page.slug),
            csrf_token => csrf.token(),
            return_to,
            email,
            error,
            mfa,
        },
    );
    let response = csrf.attach(state, &cookie_path(state, &page.slug), response);
    with_return_target(response, return_to)
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Response {
    let app = &page.app;
    let return_to = match query.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&state),
        },
    };
    // Already signed in: straight on (unless asked to sign in again).
    let demand_mfa = query.mfa.as_deref() == Some("1");
    let force = query.prompt.as_deref() == Some("login") || demand_mfa;
    if let Some(cookie) = pages::cookie(&headers, web::COOKIE).filter(|_| !force) {
        match web::resolve(&state, app.id, &cookie).await {
            Ok(Some(session)) => {
                if let Some(return_to) = &return_to {
                    return see_other(&state, return_to);
                }
                return match users::find(&*state.db, app.id, session.user_id).await {
                    Ok(user) => signed_in_page(&state, &app.display_name, &user.email),
                    Err(e) => pages::error(&state.templates, &e),
                };
            }
            Ok(None) => {}
            Err(e) => return pages::error(&state.templates, &e),
        }
    }
    let csrf = Csrf::for_request(&headers);
    login_form(
        &state,
        &page,
        StatusCode::OK,
        "",
        return_to.as_deref(),
        &csrf,
        None,
        demand_mfa,
    )
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

fn signed_in_page(state: &AppState, app_name: &str, email: &str) -> Response {
    pages::message(
        &state.templates,
        StatusCode::OK,
        "You are signed in",
        &format!("You are signed in to {app_name} as {email}. You can close this page."),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    return_to: Option<String>,
    mfa: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<LoginForm>,
) -> Response {
    let app = &page.app;
    let return_to = match form.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&state),
        },
    };
    let demand_mfa = form.mfa.as_deref() == Some("1");
    let opened = sessions::password_session(
        &state,
        app,
        &form.email,
        &form.password,
        None,
        demand_mfa,
        &meta,
    )
    .await;
    let (session, user) = match opened {
        Ok(PasswordStep::Session(session, _refresh, user)) => (session, user),
        Ok(PasswordStep::SecondFactor(pending)) => {
            if pending.enrollment_required {
                return pages::message(
                    &state.templates,
                    StatusCode::FORBIDDEN,
                    "A second factor is required",
                    "This app requires a second factor (an authenticator app or a passkey). \
                     Add one to your account, then sign in again.",
                );
            }
            return mfa_form(
                &state,
                &page,
                StatusCode::OK,
                &pending.token,
                &pending.methods,
                return_to.as_deref(),
                &csrf,
                None,
            );
        }
        Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => {
            return pages::error(&state.templates, &e);
        }
        Err(e) => {
            // The form again, with the reason (never which of email or password).
            let message = match e.status() {
                StatusCode::UNAUTHORIZED => "The email or password is not correct.".to_owned(),
                _ => e.to_string(),
            };
            let mut response = login_form(
                &state,
                &page,
                e.status(),
                &form.email,
                return_to.as_deref(),
                &csrf,
                Some(&message),
                demand_mfa,
            );
            if let Error::RateLimited { retry_after } = e
                && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    };
    signed_in(&state, &page, &session, &user, return_to.as_deref()).await
}

/// Binds the browser to a new session and goes on (to `return_to`, or a note).
async fn signed_in(
    state: &AppState,
    page: &PageApp,
    session: &entity::session::Model,
    user: &entity::user::Model,
    return_to: Option<&str>,
) -> Response {
    let secret = match web::create(state, session).await {
        Ok(secret) => secret,
        Err(e) => return pages::error(&state.templates, &e),
    };
    let max_age = (session.expires_at - state.now()).num_seconds().max(0);
    let response = match return_to {
        Some(return_to) => see_other(state, return_to),
        None => signed_in_page(state, &page.app.display_name, &user.email),
    };
    pages::set_cookie(
        state,
        response,
        web::COOKIE,
        secret,
        &cookie_path(state, &page.slug),
        max_age,
    )
}

// ---------------------------------------------------------------------------------
// Second factor (docs/src/mfa.md)

/// The second step of signing in: a TOTP field, a WebAuthn button (Heimdall's
/// own script) and a recovery-code form, as the user's factors allow.
#[allow(clippy::too_many_arguments)]
fn mfa_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    mfa_token: &str,
    methods: &[&str],
    return_to: Option<&str>,
    csrf: &Csrf,
    error: Option<&str>,
) -> Response {
    let base = &state.config.base_path;
    let slug = &page.slug;
    let webauthn = methods.contains(&"webauthn");
    let response = pages::show(
        &state.templates,
        status,
        "pages/mfa.html",
        context! {
            app_name => &page.app.display_name,
            action => format!("{base}/{slug}/login/mfa"),
            webauthn_start => format!("{base}/{slug}/v1/auth/mfa/webauthn/start"),
            script => format!("{base}/{slug}/login/webauthn.js"),
            csrf_token => csrf.token(),
            mfa_token,
            return_to,
            error,
            totp => methods.contains(&"totp"),
            webauthn,
            recovery => methods.contains(&"recovery_code"),
        },
    );
    let response = csrf.attach(state, &cookie_path(state, slug), response);
    let response = if webauthn {
        pages::allow_own_scripts(response)
    } else {
        response
    };
    with_return_target(response, return_to)
}

#[derive(Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    mfa_token: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    credential: String,
    return_to: Option<String>,
}

pub async fn mfa_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<MfaForm>,
) -> Response {
    let return_to = match form.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&state),
        },
    };
    let proof = match form.method.as_str() {
        "totp" => Proof::Totp(form.code.clone()),
        "recovery_code" => Proof::RecoveryCode(form.code.clone()),
        "webauthn" => match serde_json::from_str(&form.credential) {
            Ok(credential) => Proof::Webauthn(credential),
            Err(_) => Proof::Webauthn(serde_json::Value::Null),
        },
        _ => {
            return pages::message(
                &state.templates,
                StatusCode::BAD_REQUEST,
                "Something is not right",
                "Choose a way to confirm it is you.",
            );
        }
    };
    match mfa_signin::verify(&state, &page.app, &form.mfa_token, proof, &meta).await {
        Ok(done) => {
            signed_in(
                &state,
                &page,
                &done.session,
                &done.user,
                return_to.as_deref(),
            )
            .await
        }
        Err(
            e @ Error::Rejected {
                code: "invalid_code",
                ..
            },
        ) => {
            let methods = mfa_signin::methods_of(&state, &page.app, &form.mfa_token)
                .await
                .unwrap_or_default();
            if methods.is_empty() {
                return expired_mfa(&state);
            }
            mfa_form(
                &state,
                &page,
                e.status(),
                &form.mfa_token,
                &methods,
                return_to.as_deref(),
                &csrf,
                Some("That did not work. Check the code and try again."),
            )
        }
        Err(Error::Rejected { .. }) => expired_mfa(&state),
        Err(e) => pages::error(&state.templates, &e),
    }
}

fn expired_mfa(state: &AppState) -> Response {
    pages::message(
        &state.templates,
        StatusCode::UNAUTHORIZED,
        "Sign in again",
        "This sign-in has expired or had too many wrong attempts. Go back and sign in again.",
    )
}

/// The sign-in page's WebAuthn script (same origin; the CSP forbids inline code).
pub async fn webauthn_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        include_str!("../../assets/mfa/webauthn.js"),
    )
        .into_response()
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

/// A link of the client's (website, policies) when it is an http(s) URL.
fn link(label: &str, url: Option<&str>) -> Option<Value> {
    url.filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .map(|url| context! { label, url })
}

pub async fn consent_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<ConsentQuery>,
) -> Response {
    let (app, slug) = (&page.app, &page.slug);
    let Some(request_id) = query.request.filter(|r| !r.is_empty()) else {
        return pages::message(
            &state.templates,
            StatusCode::BAD_REQUEST,
            "This link is incomplete",
            "The consent page needs the authorization request it is about.",
        );
    };
    let user_id = match browser_user(&state, app, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            let encoded: String =
                url::form_urlencoded::byte_serialize(request_id.as_bytes()).collect();
            let here = format!(
                "{}/{slug}/consent?request={encoded}",
                state.config.base_path
            );
            let encoded: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return see_other(
                &state,
                &format!(
                    "{}/{slug}/login?return_to={encoded}",
                    state.config.base_path
                ),
            );
        }
        Err(e) => return pages::error(&state.templates, &e),
    };
    let (request, client) = match authorize::pending(&state, app.id, user_id, &request_id).await {
        Ok(found) => found,
        Err(e) => return pages::error(&state.templates, &e),
    };
    let scopes: Vec<Value> = scopes_of(&request.scopes)
        .iter()
        .map(|s| {
            context! {
                name => s,
                description => scope_description(s).unwrap_or_default(),
            }
        })
        .collect();
    let links: Vec<Value> = [
        link("Website", client.homepage_url.as_deref()),
        link("Privacy policy", client.privacy_policy_url.as_deref()),
        link("Terms of service", client.terms_of_service_url.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let csrf = Csrf::for_request(&headers);
    let response = pages::show(
        &state.templates,
        StatusCode::OK,
        "pages/consent.html",
        context! {
            app_name => &app.display_name,
            client => context! {
                name => &client.name,
                // Only an https logo: the page loads it.
                logo_url => client.logo_url.as_deref().filter(|u| u.starts_with("https://")),
                description => client.description.as_deref().filter(|d| !d.is_empty()),
                links,
            },
            scopes,
            action => format!("{}/{slug}/consent", state.config.base_path),
            csrf_token => csrf.token(),
            request => &request_id,
        },
    );
    let response = csrf.attach(&state, &cookie_path(&state, slug), response);
    pages::allow_form_redirect(response, &request.redirect_uri)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    request: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<ConsentForm>,
) -> Response {
    let approved = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return pages::message(
                &state.templates,
                StatusCode::BAD_REQUEST,
                "Something is not right",
                "Choose Allow or Deny.",
            );
        }
    };
    let user_id = match browser_user(&state, &page.app, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            return pages::message(
                &state.templates,
                StatusCode::UNAUTHORIZED,
                "You are not signed in",
                "Your session has ended. Go back to the app and sign in again.",
            );
        }
        Err(e) => return pages::error(&state.templates, &e),
    };
    match authorize::answer(&state, &page.app, user_id, &form.request, approved, &meta).await {
        Ok(location) => see_other(&state, &location),
        Err(e) => pages::error(&state.templates, &e),
    }
}
