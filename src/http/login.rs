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
    pages::{self, Csrf, CsrfForm, PageApp, Ui},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        federation::providers,
        guard,
        mfa::signin::{self as mfa_signin, Proof},
        mfa::totp,
        oauth::{authorize, scope_description, scopes_of, web},
        sessions::{self, PasswordStep},
        users,
    },
    state::AppState,
    templates::{Value, context},
};

/// Where the browser cookies of an app's pages apply: the app's paths, or the whole
/// base path for the default app (whose OAuth endpoints are also at the root).
pub(super) fn cookie_path(state: &AppState, slug: &str) -> String {
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

pub(super) fn see_other(ui: &Ui, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => ui.message(
            StatusCode::BAD_REQUEST,
            "bad-link-title",
            "bad-return-address",
            &[],
        ),
    }
}

pub(super) fn bad_return_to(ui: &Ui) -> Response {
    ui.message(
        StatusCode::BAD_REQUEST,
        "bad-link-title",
        "bad-return-to",
        &[],
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
pub(super) async fn login_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    email: &str,
    return_to: Option<&str>,
    csrf: &Csrf,
    error: Option<&str>,
    mfa: bool,
) -> Response {
    let settings = state.apps.settings(&page.app).await;
    let passkeys = settings.mfa_policy != crate::services::mfa::MfaPolicy::Off
        && crate::services::mfa::webauthn::available(state, &page.app);
    let providers: Vec<Value> = providers::buttons(state, page.app.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|b| {
            context! {
                label => b.label,
                url => page_url(state, &page.slug, &format!("login/with/{}", b.name), return_to),
            }
        })
        .collect();
    let response = page.ui.show(
        status,
        "pages/login.html",
        context! {
            app_name => page.name(),
            action => format!("{}/{}/login", state.config.base_path, page.slug),
            csrf_token => csrf.token(),
            return_to,
            email,
            error,
            mfa,
            forgot_url => page_url(state, &page.slug, "forgot-password", None),
            passkey => passkeys.then(|| context! {
                action => format!("{}/{}/login/passkey", state.config.base_path, page.slug),
                start => format!("{}/{}/v1/auth/passkey/start", state.config.base_path, page.slug),
                script => format!("{}/{}/login/passkey.js", state.config.base_path, page.slug),
            }),
            signup_url => settings.signup_enabled
                .then(|| page_url(state, &page.slug, "signup", return_to)),
            providers,
        },
    );
    let response = if passkeys {
        pages::allow_own_scripts(response)
    } else {
        response
    };
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
            None => return bad_return_to(&page.ui),
        },
    };
    // Already signed in: straight on (unless asked to sign in again).
    let demand_mfa = query.mfa.as_deref() == Some("1");
    let force = query.prompt.as_deref() == Some("login") || demand_mfa;
    if let Some(cookie) = pages::cookie(&headers, web::COOKIE).filter(|_| !force) {
        match web::resolve(&state, app.id, &cookie).await {
            Ok(Some(session)) => {
                if let Some(return_to) = &return_to {
                    return see_other(&page.ui, return_to);
                }
                return match users::find(&*state.db, app.id, session.user_id).await {
                    Ok(user) => signed_in_page(&page, &user.email),
                    Err(e) => page.ui.error(&e),
                };
            }
            Ok(None) => {}
            Err(e) => return page.ui.error(&e),
        }
    }
    let csrf = page.ui.csrf().clone();
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
    .await
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

pub(super) fn signed_in_page(page: &PageApp, email: &str) -> Response {
    page.ui.message(
        StatusCode::OK,
        "signed-in-title",
        "signed-in-message",
        &[("app", page.name().into()), ("email", email.into())],
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
            None => return bad_return_to(&page.ui),
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
                return enrol_form(
                    &state,
                    &page,
                    &pending.token,
                    None,
                    return_to.as_deref(),
                    &csrf,
                    None,
                )
                .await;
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
            return page.ui.error(&e);
        }
        Err(e) => {
            // The form again, with the reason (never which of email or password).
            let message = match e.status() {
                StatusCode::UNAUTHORIZED => page.ui.t("login-wrong-credentials"),
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
            )
            .await;
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

/// `{base}/{slug}/{page}`, with `return_to` in the query when there is one.
pub(super) fn page_url(
    state: &AppState,
    slug: &str,
    page: &str,
    return_to: Option<&str>,
) -> String {
    let base = &state.config.base_path;
    match return_to {
        Some(r) => {
            let encoded: String = url::form_urlencoded::byte_serialize(r.as_bytes()).collect();
            format!("{base}/{slug}/{page}?return_to={encoded}")
        }
        None => format!("{base}/{slug}/{page}"),
    }
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
        Err(e) => return page.ui.error(&e),
    };
    let max_age = (session.expires_at - state.now()).num_seconds().max(0);
    let response = match return_to {
        Some(return_to) => see_other(&page.ui, return_to),
        None => signed_in_page(page, &user.email),
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
pub(super) fn mfa_form(
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
    let response = page.ui.show(
        status,
        "pages/mfa.html",
        context! {
            app_name => page.name(),
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
            None => return bad_return_to(&page.ui),
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
            return page.ui.message(
                StatusCode::BAD_REQUEST,
                "error-bad-request",
                "mfa-choose-method",
                &[],
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
                return expired_mfa(&page.ui);
            }
            mfa_form(
                &state,
                &page,
                e.status(),
                &form.mfa_token,
                &methods,
                return_to.as_deref(),
                &csrf,
                Some(&page.ui.t("mfa-wrong-code")),
            )
        }
        Err(Error::Rejected { .. }) => expired_mfa(&page.ui),
        Err(e) => page.ui.error(&e),
    }
}

fn expired_mfa(ui: &Ui) -> Response {
    ui.message(
        StatusCode::UNAUTHORIZED,
        "mfa-expired-title",
        "mfa-expired",
        &[],
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
        return page.ui.message(
            StatusCode::BAD_REQUEST,
            "incomplete-link-title",
            "consent-incomplete",
            &[],
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
                &page.ui,
                &format!(
                    "{}/{slug}/login?return_to={encoded}",
                    state.config.base_path
                ),
            );
        }
        Err(e) => return page.ui.error(&e),
    };
    let (request, client) = match authorize::pending(&state, app.id, user_id, &request_id).await {
        Ok(found) => found,
        Err(e) => return page.ui.error(&e),
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
        link(
            &page.ui.t("consent-website"),
            client.homepage_url.as_deref(),
        ),
        link(
            &page.ui.t("consent-privacy"),
            client.privacy_policy_url.as_deref(),
        ),
        link(
            &page.ui.t("consent-terms"),
            client.terms_of_service_url.as_deref(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let csrf = page.ui.csrf().clone();
    // Only an https logo: the page loads it.
    let logo_url = client
        .logo_url
        .as_deref()
        .filter(|u| u.starts_with("https://"));
    let response = page.ui.show(
        StatusCode::OK,
        "pages/consent.html",
        context! {
            app_name => page.name(),
            client => context! {
                name => &client.name,
                logo_url,
                description => client.description.as_deref().filter(|d| !d.is_empty()),
                links,
            },
            scopes,
            action => format!("{}/{slug}/consent", state.config.base_path),
            csrf_token => csrf.token(),
            request => &request_id,
        },
    );
    let response = pages::allow_image(response, logo_url);
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
            return page.ui.message(
                StatusCode::BAD_REQUEST,
                "error-bad-request",
                "consent-choose",
                &[],
            );
        }
    };
    let user_id = match browser_user(&state, &page.app, &headers).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => {
            return page.ui.message(
                StatusCode::UNAUTHORIZED,
                "not-signed-in-title",
                "consent-session-ended",
                &[],
            );
        }
        Err(e) => return page.ui.error(&e),
    };
    match authorize::answer(&state, &page.app, user_id, &form.request, approved, &meta).await {
        Ok(location) => see_other(&page.ui, &location),
        Err(e) => page.ui.error(&e),
    }
}

// ---------------------------------------------------------------------------------
// Enrolling a second factor while signing in (an app with `mfa_policy: required`)

/// The enrolment step: a new pending TOTP factor for the sign-in's user, shown as
/// a QR code and a key (`factor` set: the form again after a wrong code, for the
/// factor already shown).
#[allow(clippy::too_many_arguments)]
pub(super) async fn enrol_form(
    state: &AppState,
    page: &PageApp,
    mfa_token: &str,
    factor: Option<uuid::Uuid>,
    return_to: Option<&str>,
    csrf: &Csrf,
    error: Option<&str>,
) -> Response {
    let subject = match guard::mfa_enrolment(state, &page.slug, mfa_token).await {
        Ok(subject) => subject,
        Err(_) => return expired_mfa(&page.ui),
    };
    let (factor_id, qr, secret) = match factor {
        Some(id) => (id, None, None),
        None => match totp::enroll(state, &subject, None).await {
            Ok(e) => {
                let qr = format!(
                    "data:image/svg+xml;base64,{}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        e.qr_svg.as_bytes()
                    )
                );
                (e.factor.id, Some(qr), Some(e.secret))
            }
            Err(e) => return page.ui.error(&e),
        },
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let response = page.ui.show(
        status,
        "pages/mfa_enroll.html",
        context! {
            app_name => page.name(),
            action => format!("{}/{}/login/mfa/enroll", state.config.base_path, page.slug),
            login_url => page_url(state, &page.slug, "login", return_to),
            csrf_token => csrf.token(),
            mfa_token,
            factor_id => factor_id.to_string(),
            qr,
            secret,
            return_to,
            error,
        },
    );
    with_return_target(response, return_to)
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    mfa_token: String,
    #[serde(default)]
    factor_id: String,
    #[serde(default)]
    code: String,
    return_to: Option<String>,
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<EnrolForm>,
) -> Response {
    let return_to = match form.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&page.ui),
        },
    };
    let Ok(factor_id) = uuid::Uuid::parse_str(&form.factor_id) else {
        return page.ui.message(
            StatusCode::BAD_REQUEST,
            "error-bad-request",
            "enrol-incomplete",
            &[],
        );
    };
    let subject = match guard::mfa_enrolment(&state, &page.slug, &form.mfa_token).await {
        Ok(subject) => subject,
        Err(_) => return expired_mfa(&page.ui),
    };
    match totp::confirm(&state, &subject, factor_id, form.code.trim(), &meta).await {
        Ok(done) => {
            let Some(completed) = done.signed_in else {
                return expired_mfa(&page.ui);
            };
            let secret = match web::create(&state, &completed.session).await {
                Ok(secret) => secret,
                Err(e) => return page.ui.error(&e),
            };
            let next = return_to.unwrap_or_else(|| page_url(&state, &page.slug, "account", None));
            let response = page.ui.show(
                StatusCode::OK,
                "pages/recovery_codes.html",
                context! {
                    app_name => page.name(),
                    codes => done.recovery_codes.unwrap_or_default(),
                    next,
                },
            );
            let max_age = (completed.session.expires_at - state.now())
                .num_seconds()
                .max(0);
            pages::set_cookie(
                &state,
                response,
                web::COOKIE,
                secret,
                &cookie_path(&state, &page.slug),
                max_age,
            )
        }
        Err(Error::Rejected {
            code: "invalid_code",
            ..
        }) => {
            enrol_form(
                &state,
                &page,
                &form.mfa_token,
                Some(factor_id),
                return_to.as_deref(),
                &csrf,
                Some(&page.ui.t("totp-wrong-code")),
            )
            .await
        }
        Err(e @ (Error::Gone(_) | Error::NotFound(_))) => page.ui.error(&e),
        Err(Error::Rejected { .. } | Error::Unauthenticated { .. }) => expired_mfa(&page.ui),
        Err(e) => page.ui.error(&e),
    }
}

// ---------------------------------------------------------------------------------
// Federated sign-in from the hosted page (docs/src/hosted-pages.md)

/// The cookie that marks a federated sign-in as started from the hosted sign-in
/// page, holding where to go afterwards (`-`: nowhere in particular). Named after
/// the flow's state like the binding cookie, and sent to the callback only.
pub fn hosted_flow_cookie(state_param: &str) -> String {
    format!(
        "hm_fedpage_{}",
        &crate::crypto::sha256_hex(state_param.as_bytes())[..16]
    )
}

#[derive(Deserialize)]
pub struct FederatedQuery {
    return_to: Option<String>,
}

/// `GET /{slug}/login/with/{provider}`: starts the provider's browser flow, and
/// remembers that the hosted page asked, so that the callback sets the hosted
/// session and resumes `return_to`.
pub async fn federated_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    super::extract::ApiPath((slug, provider)): super::extract::ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<FederatedQuery>,
) -> Response {
    let page = match super::consumer::app_of(&state, &slug).await {
        Ok(app) => PageApp::of(&state, &headers, &uri, app, slug).await,
        Err(e) => return Ui::plain(&state, &headers).error(&e),
    };
    let return_to = match query.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&page.ui),
        },
    };
    let started = if provider == providers::APPLE {
        crate::services::federation::apple::start(&state, &page.app, true).await
    } else {
        crate::services::federation::oidc::start(&state, &page.app, &provider, true).await
    };
    let (started, url) = match started {
        Ok(started) => started,
        Err(e) => return page.ui.error(&e),
    };
    let response = match super::federation::started_response(&state, &page.slug, &started, &url) {
        Ok(response) => response,
        Err(e) => return page.ui.error(&e),
    };
    let value = return_to.unwrap_or_else(|| "-".to_owned());
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let cookie = super::federation::binding_cookie(
        &state,
        &page.slug,
        &hosted_flow_cookie(&started.state),
        &encoded,
        crate::services::federation::flow::FLOW_TTL.num_seconds(),
    );
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Ends a federated sign-in the hosted page started: the hosted session is set
/// and the browser goes to `return_to` (an OAuth authorization resumes), or the
/// second step follows, or the sign-in page shows what went wrong.
pub async fn federated_finish(
    state: &AppState,
    headers: &HeaderMap,
    slug: &str,
    return_to: &str,
    outcome: crate::error::Result<crate::services::federation::identities::SignedIn>,
) -> Response {
    use crate::services::federation::identities::Outcome;
    let page = match state.apps.by_name(slug).await {
        Ok(Some(app)) => {
            let uri = axum::http::Uri::from_static("/");
            PageApp::of(state, headers, &uri, app, slug.to_owned()).await
        }
        Ok(None) => {
            return Ui::plain(state, headers).error(&Error::not_found("app not found"));
        }
        Err(e) => return Ui::plain(state, headers).error(&e),
    };
    let return_to = safe_return_to(state, slug, return_to);
    let csrf = page.ui.csrf().clone();
    match outcome {
        Ok(signed) => match signed.outcome {
            Outcome::Tokens(tokens) => {
                let (secret, max_age) =
                    match web::create_for_session(state, tokens.session_id).await {
                        Ok(created) => created,
                        Err(e) => return page.ui.error(&e),
                    };
                let response = match return_to.as_deref() {
                    Some(return_to) => see_other(&page.ui, return_to),
                    None => see_other(&page.ui, &page_url(state, slug, "account", None)),
                };
                pages::set_cookie(
                    state,
                    response,
                    web::COOKIE,
                    secret,
                    &cookie_path(state, slug),
                    max_age,
                )
            }
            Outcome::SecondFactor(pending) if pending.enrollment_required => {
                enrol_form(
                    state,
                    &page,
                    &pending.token,
                    None,
                    return_to.as_deref(),
                    &csrf,
                    None,
                )
                .await
            }
            Outcome::SecondFactor(pending) => mfa_form(
                state,
                &page,
                StatusCode::OK,
                &pending.token,
                &pending.methods,
                return_to.as_deref(),
                &csrf,
                None,
            ),
        },
        Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => page.ui.error(&e),
        Err(e) => {
            e.log();
            login_form(
                state,
                &page,
                e.status(),
                "",
                return_to.as_deref(),
                &csrf,
                Some(
                    &page
                        .ui
                        .tr("login-provider-failed", &[("reason", e.to_string().into())]),
                ),
                false,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------
// Passwordless passkey sign-in from the sign-in page (docs/src/mfa.md)

#[derive(Deserialize)]
pub struct PasskeyForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    credential: String,
    return_to: Option<String>,
}

/// `POST /{slug}/login/passkey`: the assertion the page's script got for the
/// challenge of `POST /{slug}/v1/auth/passkey/start`; signs the browser in.
pub async fn passkey_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<PasskeyForm>,
) -> Response {
    let return_to = match form.return_to.as_deref() {
        None | Some("") => None,
        Some(r) => match safe_return_to(&state, &page.slug, r) {
            Some(r) => Some(r),
            None => return bad_return_to(&page.ui),
        },
    };
    let (Ok(id), Ok(credential)) = (
        uuid::Uuid::parse_str(&form.id),
        serde_json::from_str::<serde_json::Value>(&form.credential),
    ) else {
        return page.ui.message(
            StatusCode::BAD_REQUEST,
            "error-bad-request",
            "passkey-no-answer",
            &[],
        );
    };
    match mfa_signin::passkey_finish(&state, &page.app, id, credential, &meta).await {
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
        Err(e) => page.ui.error(&e),
    }
}

/// The sign-in page's passkey script (same origin; the CSP forbids inline code).
pub async fn passkey_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        include_str!("../../assets/mfa/passkey.js"),
    )
        .into_response()
}
