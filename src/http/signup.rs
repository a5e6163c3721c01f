//! The hosted sign-up and forgot-password pages: `/{slug}/signup` and
//! `/{slug}/forgot-password` (docs/src/hosted-pages.md). They call the same
//! services as `POST /{slug}/v1/auth/signup` and `POST /{slug}/v1/password/forgot`.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use serde::Deserialize;

use super::{
    extract::ApiQuery,
    login::{bad_return_to, cookie_path, enrol_form, page_url, safe_return_to, see_other},
    pages::{self, Csrf, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        lifecycle,
        oauth::web,
        sessions::{self, Signup},
    },
    state::AppState,
    templates::context,
};

#[derive(Deserialize)]
pub struct ReturnQuery {
    return_to: Option<String>,
}

/// `return_to` of a page: `Some(None)` when absent, `Some(path)` for a path of this
/// app, `None` for anything else (the 400 page).
fn checked_return_to(
    state: &AppState,
    slug: &str,
    return_to: Option<&str>,
) -> Option<Option<String>> {
    match return_to {
        None | Some("") => Some(None),
        Some(r) => safe_return_to(state, slug, r).map(Some),
    }
}

fn with_retry_after(mut response: Response, error: &Error) -> Response {
    if let Error::RateLimited { retry_after } = error
        && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The field a validation error names (`details.fields`), with its message.
fn field_error(error: &Error) -> Option<(String, String)> {
    let Error::InvalidRequest {
        details: Some(details),
        ..
    } = error
    else {
        return None;
    };
    let (field, message) = details.get("fields")?.as_object()?.iter().next()?;
    Some((field.clone(), message.as_str()?.to_owned()))
}

fn check_your_mail(state: &AppState, page: &PageApp, email: &str) -> Response {
    page.ui.message_with_link(
        StatusCode::OK,
        ("check-mail-title", "signup-check-mail"),
        &[("email", email.into()), ("app", page.name().into())],
        (
            "back-to-sign-in",
            &page_url(state, &page.slug, "login", None),
        ),
    )
}

// ---------------------------------------------------------------------------------
// Sign-up

#[derive(Default)]
struct SignupValues<'a> {
    email: &'a str,
    display_name: &'a str,
    errors: BTreeMap<String, String>,
    error: Option<&'a str>,
}

fn signup_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    return_to: Option<&str>,
    csrf: &Csrf,
    values: SignupValues<'_>,
    min_length: u32,
) -> Response {
    page.ui.show(
        status,
        "pages/signup.html",
        context! {
            app_name => page.name(),
            action => format!("{}/{}/signup", state.config.base_path, page.slug),
            login_url => page_url(state, &page.slug, "login", return_to),
            csrf_token => csrf.token(),
            return_to,
            email => values.email,
            display_name => values.display_name,
            errors => values.errors,
            error => values.error,
            password_min_length => min_length,
        },
    )
}

fn signup_closed(state: &AppState, page: &PageApp) -> Response {
    page.ui.message_with_link(
        StatusCode::FORBIDDEN,
        ("signup-closed-title", "signup-closed"),
        &[("app", page.name().into())],
        (
            "back-to-sign-in",
            &page_url(state, &page.slug, "login", None),
        ),
    )
}

pub async fn signup_page(
    State(state): State<AppState>,
    page: PageApp,
    ApiQuery(query): ApiQuery<ReturnQuery>,
) -> Response {
    let Some(return_to) = checked_return_to(&state, &page.slug, query.return_to.as_deref()) else {
        return bad_return_to(&page.ui);
    };
    let settings = state.apps.settings(&page.app).await;
    if !settings.signup_enabled {
        return signup_closed(&state, &page);
    }
    let csrf = page.ui.csrf().clone();
    signup_form(
        &state,
        &page,
        StatusCode::OK,
        return_to.as_deref(),
        &csrf,
        SignupValues::default(),
        settings.password_min_length,
    )
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    confirm_password: Option<String>,
    display_name: Option<String>,
    return_to: Option<String>,
}

pub async fn signup_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<SignupForm>,
) -> Response {
    let Some(return_to) = checked_return_to(&state, &page.slug, form.return_to.as_deref()) else {
        return bad_return_to(&page.ui);
    };
    let settings = state.apps.settings(&page.app).await;
    if !settings.signup_enabled {
        return signup_closed(&state, &page);
    }
    let display_name = form.display_name.clone().unwrap_or_default();
    let marked = page.ui.t("correct-marked-field");
    let again = |status: StatusCode, field: &str, message: String| {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_owned(), message);
        signup_form(
            &state,
            &page,
            status,
            return_to.as_deref(),
            &csrf,
            SignupValues {
                email: &form.email,
                display_name: &display_name,
                errors,
                error: Some(&marked),
            },
            settings.password_min_length,
        )
    };
    if form
        .confirm_password
        .as_deref()
        .is_some_and(|c| c != form.password)
    {
        return again(
            StatusCode::BAD_REQUEST,
            "confirm_password",
            page.ui.t("passwords-differ"),
        );
    }
    let name = Some(display_name.trim().to_owned()).filter(|n| !n.is_empty());
    match sessions::signup(
        &state,
        &page.app,
        &form.email,
        &form.password,
        name,
        Some(&page.ui.lang),
        &meta,
    )
    .await
    {
        Ok(Signup::SignedIn(tokens, user)) => {
            let (secret, max_age) = match web::create_for_session(&state, tokens.session_id).await {
                Ok(created) => created,
                Err(e) => return page.ui.error(&e),
            };
            let response = match return_to.as_deref() {
                Some(return_to) => see_other(&page.ui, return_to),
                None => see_other(&page.ui, &page_url(&state, &page.slug, "account", None)),
            };
            let _ = user;
            pages::set_cookie(
                &state,
                response,
                web::COOKIE,
                secret,
                &cookie_path(&state, &page.slug),
                max_age,
            )
        }
        Ok(Signup::VerificationRequired(user)) => check_your_mail(&state, &page, &user.email),
        Ok(Signup::CheckMail) => check_your_mail(&state, &page, form.email.trim()),
        Ok(Signup::SecondFactor(pending, _)) => {
            enrol_form(
                &state,
                &page,
                &pending.token,
                None,
                return_to.as_deref(),
                &csrf,
                None,
            )
            .await
        }
        Err(e @ Error::Conflict { .. }) => again(e.status(), "email", page.ui.t("signup-exists")),
        Err(e @ Error::InvalidRequest { .. }) => match field_error(&e) {
            Some((field, message)) => again(
                StatusCode::BAD_REQUEST,
                &field,
                pages::field_problem(&page.ui, &message),
            ),
            None => again(
                StatusCode::BAD_REQUEST,
                "email",
                pages::field_problem(&page.ui, &e.to_string()),
            ),
        },
        Err(e @ Error::RateLimited { .. }) => with_retry_after(page.ui.error(&e), &e),
        Err(e) => page.ui.error(&e),
    }
}

// ---------------------------------------------------------------------------------
// Forgot password

fn forgot_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    csrf: &Csrf,
    email: &str,
    error: Option<String>,
) -> Response {
    let mut errors = BTreeMap::new();
    if let Some(error) = error {
        errors.insert("email", error);
    }
    page.ui.show(
        status,
        "pages/forgot_password.html",
        context! {
            app_name => page.name(),
            action => format!("{}/{}/forgot-password", state.config.base_path, page.slug),
            login_url => page_url(state, &page.slug, "login", None),
            csrf_token => csrf.token(),
            email,
            errors,
        },
    )
}

pub async fn forgot_page(State(state): State<AppState>, page: PageApp) -> Response {
    let csrf = page.ui.csrf().clone();
    forgot_form(&state, &page, StatusCode::OK, &csrf, "", None)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether or not an account exists (the service mails only
/// existing accounts, after answering).
pub async fn forgot_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<ForgotForm>,
) -> Response {
    match lifecycle::forgot_password(&state, &page.app, &form.email, &meta).await {
        Ok(()) => page.ui.message_with_link(
            StatusCode::OK,
            ("check-mail-title", "forgot-check-mail"),
            &[
                ("email", form.email.trim().into()),
                ("app", page.name().into()),
            ],
            (
                "back-to-sign-in",
                &page_url(&state, &page.slug, "login", None),
            ),
        ),
        Err(e @ Error::InvalidRequest { .. }) => {
            let message = field_error(&e)
                .map(|(_, m)| pages::field_problem(&page.ui, &m))
                .unwrap_or_else(|| pages::field_problem(&page.ui, &e.to_string()));
            forgot_form(
                &state,
                &page,
                StatusCode::BAD_REQUEST,
                &csrf,
                &form.email,
                Some(message),
            )
        }
        Err(e @ Error::RateLimited { .. }) => with_retry_after(page.ui.error(&e), &e),
        Err(e) => page.ui.error(&e),
    }
}
