//! The hosted account page, `/{slug}/account` (docs/src/hosted-pages.md): the
//! signed-in browser's user sees and changes their profile, password, sessions,
//! linked providers, second factors and the OAuth apps they allowed. Every form
//! posts with its CSRF token and calls the same service as the `/{slug}/v1/me…`
//! API, with the capability the guard grants to the browser session.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    extract::ApiQuery,
    login::{cookie_path, page_url, see_other},
    pages::{self, Csrf, CsrfForm, PageApp, Ui},
};
use crate::{
    access::{Me, MfaSubject},
    error::Error,
    request::RequestMeta,
    services::{
        federation::identities,
        guard,
        mfa::{self, MfaPolicy, totp},
        oauth::{authorize, scopes_of, web},
        sessions, users,
    },
    state::AppState,
    templates::{Value, context},
};

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn device(ui: &Ui, user_agent: Option<&str>) -> String {
    match user_agent.map(str::trim).filter(|ua| !ua.is_empty()) {
        Some(ua) if ua.chars().count() > 60 => ua.chars().take(57).collect::<String>() + "…",
        Some(ua) => ua.to_owned(),
        None => ui.t("account-unknown-device"),
    }
}

/// The browser's user, or the response that stands instead (a redirect to sign
/// in for a page, a 401 page for a form).
async fn signed_in(
    state: &AppState,
    page: &PageApp,
    headers: &HeaderMap,
    is_form: bool,
) -> Result<(Me, MfaSubject), Response> {
    let cookie = pages::cookie(headers, web::COOKIE);
    match guard::browser_me(state, page.app.clone(), cookie.as_deref()).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) if is_form => Err(page.ui.message(
            StatusCode::UNAUTHORIZED,
            "not-signed-in-title",
            "session-ended",
            &[],
        )),
        Ok(None) => {
            let here = page_url(state, &page.slug, "account", None);
            Err(see_other(
                &page.ui,
                &page_url(state, &page.slug, "login", Some(&here)),
            ))
        }
        Err(e) => Err(page.ui.error(&e)),
    }
}

#[derive(Default)]
struct Feedback {
    notice: Option<&'static str>,
    error: Option<String>,
    errors: BTreeMap<&'static str, String>,
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "profile" => "account-done-profile",
        "password" => "account-done-password",
        "session" => "account-done-session",
        "identity" => "account-done-identity",
        "factor" => "account-done-factor",
        "totp" => "account-done-totp",
        "passkey" => "account-done-passkey",
        "consent" => "account-done-consent",
        _ => return None,
    })
}

async fn render(
    state: &AppState,
    page: &PageApp,
    me: &Me,
    subject: &MfaSubject,
    csrf: &Csrf,
    status: StatusCode,
    feedback: Feedback,
) -> Response {
    let loaded = async {
        let user = users::me(state, me).await?;
        let sessions = sessions::mine(state, me).await?;
        let identities = identities::mine(state, me).await?;
        let consents = authorize::consents_of(state, me).await?;
        let settings = state.apps.settings(&page.app).await;
        let mfa_enabled = settings.mfa_policy != MfaPolicy::Off;
        let overview = if mfa_enabled {
            Some(mfa::mine(state, subject).await?)
        } else {
            None
        };
        Ok::<_, Error>((user, sessions, identities, consents, overview, settings))
    }
    .await;
    let (user, sessions, identities, consents, overview, settings) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return page.ui.error(&e),
    };
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|s| {
            context! {
                id => s.id.to_string(),
                device => device(&page.ui, s.user_agent.as_deref()),
                ip => s.ip.as_deref(),
                created_at => when(s.created_at),
                current => s.id == me.session_id(),
            }
        })
        .collect();
    let identities: Vec<Value> = identities
        .iter()
        .map(|i| context! { id => i.id.to_string(), provider => &i.provider, email => i.email.as_deref() })
        .collect();
    let consents: Vec<Value> = consents
        .iter()
        .map(|(consent, client)| {
            context! {
                id => client.id.to_string(),
                name => &client.name,
                scopes => scopes_of(&consent.scopes).join(" "),
            }
        })
        .collect();
    let (factors, remaining): (Vec<Value>, u64) = match &overview {
        Some(o) => (
            o.factors
                .iter()
                .map(|f| {
                    context! {
                        id => f.id.to_string(),
                        name => &f.name,
                        kind => page.ui.t(if f.kind == "totp" { "account-kind-totp" } else { "account-kind-webauthn" }),
                        created_at => when(f.created_at),
                    }
                })
                .collect(),
            o.recovery_codes_remaining,
        ),
        None => (Vec::new(), 0),
    };
    // "Add a passkey" runs the page's only script (WebAuthn needs a domain name).
    let passkeys = overview.is_some() && mfa::webauthn::available(state, &page.app);
    let base = page_url(state, &page.slug, "account", None);
    let response = page.ui.show(
        status,
        "pages/account.html",
        context! {
            passkey => passkeys.then(|| context! {
                start => format!("{base}/passkeys/start"),
                action => format!("{base}/passkeys/finish"),
                script => format!("{base}/passkey.js"),
            }),
            app_name => page.name(),
            base => &base,
            csrf_token => csrf.token(),
            user => context! {
                email => &user.email,
                display_name => user.display_name.as_deref().unwrap_or_default(),
                has_password => user.password_hash.is_some(),
            },
            password_min_length => settings.password_min_length,
            sessions,
            identities,
            consents,
            mfa_enabled => overview.is_some(),
            factors,
            recovery_codes_remaining => remaining,
            notice => feedback.notice.map(|key| page.ui.t(key)),
            error => feedback.error,
            errors => feedback.errors,
        },
    );
    if passkeys {
        pages::allow_own_scripts(response)
    } else {
        response
    }
}

#[derive(Deserialize)]
pub struct AccountQuery {
    done: Option<String>,
}

pub async fn account_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Response {
    let (me, subject) = match signed_in(&state, &page, &headers, false).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let csrf = page.ui.csrf().clone();
    let feedback = Feedback {
        notice: notice_of(query.done.as_deref()),
        ..Feedback::default()
    };
    render(
        &state,
        &page,
        &me,
        &subject,
        &csrf,
        StatusCode::OK,
        feedback,
    )
    .await
}

/// After a change: back to the page with a notice (post/redirect/get), or the
/// page again with the error (at its field when the service names one).
#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &AppState,
    page: &PageApp,
    me: &Me,
    subject: &MfaSubject,
    csrf: &Csrf,
    done: &str,
    outcome: crate::error::Result<()>,
    fields: &[&'static str],
) -> Response {
    match outcome {
        Ok(()) => see_other(
            &page.ui,
            &format!(
                "{}?done={done}",
                page_url(state, &page.slug, "account", None)
            ),
        ),
        Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => page.ui.error(&e),
        Err(e) => {
            let mut feedback = Feedback::default();
            let named = match &e {
                Error::InvalidRequest {
                    details: Some(details),
                    ..
                } => details
                    .get("fields")
                    .and_then(|f| f.as_object())
                    .and_then(|f| f.iter().next())
                    .and_then(|(field, message)| {
                        let field = fields.iter().find(|f| **f == field.as_str())?;
                        Some((*field, message.as_str()?.to_owned()))
                    }),
                _ => None,
            };
            match named {
                Some((field, message)) => {
                    feedback
                        .errors
                        .insert(field, pages::field_problem(&page.ui, &message));
                    feedback.error = Some(page.ui.t("correct-marked-field"));
                }
                None => feedback.error = Some(e.to_string()),
            }
            render(state, page, me, subject, csrf, e.status(), feedback).await
        }
    }
}

macro_rules! signed_in_or_return {
    ($state:expr, $page:expr, $headers:expr) => {
        match signed_in(&$state, &$page, &$headers, true).await {
            Ok(found) => found,
            Err(response) => return response,
        }
    };
}

#[derive(Deserialize)]
pub struct ProfileForm {
    display_name: Option<String>,
}

pub async fn profile_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<ProfileForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let name = form
        .display_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let outcome = users::update_profile(&state, &me, Some(name), &meta)
        .await
        .map(|_| ());
    answer(
        &state,
        &page,
        &me,
        &subject,
        &csrf,
        "profile",
        outcome,
        &["display_name"],
    )
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    confirm_password: Option<String>,
}

pub async fn password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<PasswordForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let outcome = if form
        .confirm_password
        .as_deref()
        .is_some_and(|c| c != form.new_password)
    {
        Err(Error::invalid_field(
            "confirm_password",
            "is not the same as the new password",
        ))
    } else {
        sessions::change_password(
            &state,
            &me,
            &form.current_password,
            &form.new_password,
            &meta,
        )
        .await
    };
    answer(
        &state,
        &page,
        &me,
        &subject,
        &csrf,
        "password",
        outcome,
        &["current_password", "new_password", "confirm_password"],
    )
    .await
}

#[derive(Deserialize)]
pub struct IdForm {
    #[serde(default)]
    id: String,
}

fn parse_id(id: &str, what: &str) -> crate::error::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|_| Error::not_found(format!("{what} not found")))
}

pub async fn session_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<IdForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let outcome = match parse_id(&form.id, "session") {
        Ok(id) => sessions::revoke_mine(&state, &me, id, &meta).await,
        Err(e) => Err(e),
    };
    answer(&state, &page, &me, &subject, &csrf, "session", outcome, &[]).await
}

pub async fn identity_unlink(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<IdForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let outcome = match parse_id(&form.id, "identity") {
        Ok(id) => identities::unlink_mine(&state, &me, id, &meta).await,
        Err(e) => Err(e),
    };
    answer(
        &state,
        &page,
        &me,
        &subject,
        &csrf,
        "identity",
        outcome,
        &[],
    )
    .await
}

pub async fn factor_remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<IdForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let outcome = match parse_id(&form.id, "factor") {
        Ok(id) => mfa::remove(&state, &subject, id, &meta).await,
        Err(e) => Err(e),
    };
    answer(&state, &page, &me, &subject, &csrf, "factor", outcome, &[]).await
}

pub async fn consent_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<IdForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let outcome = authorize::revoke_consent(&state, &me, &form.id, &meta).await;
    answer(&state, &page, &me, &subject, &csrf, "consent", outcome, &[]).await
}

#[derive(Deserialize)]
pub struct EmptyForm {}

#[allow(clippy::too_many_arguments)]
fn totp_page(
    state: &AppState,
    page: &PageApp,
    csrf: &Csrf,
    status: StatusCode,
    factor_id: uuid::Uuid,
    qr: Option<String>,
    secret: Option<String>,
    error: Option<&str>,
) -> Response {
    let base = page_url(state, &page.slug, "account", None);
    page.ui.show(
        status,
        "pages/account_totp.html",
        context! {
            app_name => page.name(),
            action => format!("{base}/mfa/totp/confirm"),
            back => base,
            csrf_token => csrf.token(),
            factor_id => factor_id.to_string(),
            qr,
            secret,
            error,
        },
    )
}

pub async fn totp_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    CsrfForm { csrf, .. }: CsrfForm<EmptyForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    match totp::enroll(&state, &subject, None).await {
        Ok(e) => {
            let qr = format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(e.qr_svg.as_bytes())
            );
            totp_page(
                &state,
                &page,
                &csrf,
                StatusCode::OK,
                e.factor.id,
                Some(qr),
                Some(e.secret),
                None,
            )
        }
        Err(e) => answer(&state, &page, &me, &subject, &csrf, "totp", Err(e), &[]).await,
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    factor_id: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<ConfirmForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let id = match parse_id(&form.factor_id, "factor") {
        Ok(id) => id,
        Err(e) => return answer(&state, &page, &me, &subject, &csrf, "totp", Err(e), &[]).await,
    };
    match totp::confirm(&state, &subject, id, form.code.trim(), &meta).await {
        Ok(done) => match done.recovery_codes {
            Some(codes) => recovery_page(&state, &page, codes),
            None => answer(&state, &page, &me, &subject, &csrf, "totp", Ok(()), &[]).await,
        },
        Err(Error::Rejected {
            code: "invalid_code",
            ..
        }) => totp_page(
            &state,
            &page,
            &csrf,
            StatusCode::BAD_REQUEST,
            id,
            None,
            None,
            Some(&page.ui.t("totp-wrong-code")),
        ),
        Err(e) => answer(&state, &page, &me, &subject, &csrf, "totp", Err(e), &[]).await,
    }
}

#[derive(Deserialize)]
pub struct PasskeyStartForm {
    name: Option<String>,
}

/// `POST /{slug}/account/passkeys/start` (the page's script, with the form's CSRF
/// token) → `{id, publicKey}`: the options for `navigator.credentials.create`.
pub async fn passkey_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<PasskeyStartForm>,
) -> Response {
    use axum::response::IntoResponse;
    let (_, subject) = signed_in_or_return!(state, page, headers);
    let name = form
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    match mfa::webauthn::start_registration(&state, &subject, name.as_deref()).await {
        Ok((id, public_key)) => {
            axum::Json(serde_json::json!({ "id": id, "publicKey": public_key })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct PasskeyFinishForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    credential: String,
}

/// `POST /{slug}/account/passkeys/finish`: the authenticator's answer, posted by
/// the page's form; the first factor shows its recovery codes once.
pub async fn passkey_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<PasskeyFinishForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    let parsed = parse_id(&form.id, "registration").and_then(|id| {
        serde_json::from_str::<serde_json::Value>(&form.credential)
            .map(|credential| (id, credential))
            .map_err(|_| Error::invalid_field("credential", "is not a WebAuthn credential"))
    });
    let outcome = match parsed {
        Ok((id, credential)) => {
            mfa::webauthn::finish_registration(&state, &subject, id, credential, &meta).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(done) => match done.recovery_codes {
            Some(codes) => recovery_page(&state, &page, codes),
            None => answer(&state, &page, &me, &subject, &csrf, "passkey", Ok(()), &[]).await,
        },
        Err(e) => answer(&state, &page, &me, &subject, &csrf, "passkey", Err(e), &[]).await,
    }
}

/// The account page's passkey script (same origin, so the page's CSP allows it).
pub async fn passkey_script() -> Response {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        include_str!("../../assets/mfa/passkey_enroll.js"),
    )
        .into_response()
}

fn recovery_page(state: &AppState, page: &PageApp, codes: Vec<String>) -> Response {
    page.ui.show(
        StatusCode::OK,
        "pages/recovery_codes.html",
        context! {
            app_name => page.name(),
            codes,
            next => page_url(state, &page.slug, "account", None),
        },
    )
}

pub async fn recovery_codes(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { csrf, .. }: CsrfForm<EmptyForm>,
) -> Response {
    let (me, subject) = signed_in_or_return!(state, page, headers);
    match mfa::regenerate_recovery_codes(&state, &subject, &meta).await {
        Ok(codes) => recovery_page(&state, &page, codes),
        Err(e) => answer(&state, &page, &me, &subject, &csrf, "codes", Err(e), &[]).await,
    }
}

/// Signs the browser out: its session ends (as `POST /{slug}/v1/auth/signout`
/// would) and the cookie is cleared.
pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { .. }: CsrfForm<EmptyForm>,
) -> Response {
    let (me, _) = signed_in_or_return!(state, page, headers);
    if let Err(e) = sessions::signout(&state, &me, &meta).await {
        return page.ui.error(&e);
    }
    signed_out_page(&state, &page)
}

/// "You are signed out", clearing the browser's session cookie.
pub fn signed_out_page(state: &AppState, page: &PageApp) -> Response {
    let response = page.ui.message_with_link(
        StatusCode::OK,
        ("signed-out-title", "signed-out"),
        &[("app", page.name().into())],
        ("sign-in-again", &page_url(state, &page.slug, "login", None)),
    );
    pages::set_cookie(
        state,
        response,
        web::COOKIE,
        String::new(),
        &cookie_path(state, &page.slug),
        0,
    )
}
