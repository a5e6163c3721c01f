//! Heimdall's hosted lifecycle pages, the default targets of mailed links:
//! `/{slug}/reset-password`, `/{slug}/verify-email` and `/{slug}/accept-invite`.
//! `GET` shows a form (it never consumes the token, so link scanners that prefetch
//! mail links change nothing); `POST` with the form's CSRF token does the work.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{
    extract::ApiQuery,
    login,
    pages::{self, Csrf, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        guard,
        invites::{self, Acceptance},
        lifecycle::{self, TokenKind},
        oauth::web,
        users,
    },
    state::AppState,
    templates::context,
};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn action(state: &AppState, slug: &str, page: &str) -> String {
    format!("{}/{slug}/{page}", state.config.base_path)
}

fn missing_token(page: &PageApp) -> Response {
    page.ui.message(
        StatusCode::BAD_REQUEST,
        "incomplete-link-title",
        "missing-token",
        &[],
    )
}

// ---------------------------------------------------------------------------------
// Password reset

fn reset_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    token: &str,
    csrf: &Csrf,
    error: Option<&str>,
) -> Response {
    page.ui.show(
        status,
        "pages/reset_password.html",
        context! {
            app_name => page.name(),
            action => action(state, &page.slug, "reset-password"),
            csrf_token => csrf.token(),
            token,
            error,
        },
    )
}

pub async fn reset_password_page(
    State(state): State<AppState>,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&page);
    };
    if let Err(e) = lifecycle::check(
        &*state.db,
        &state,
        &page.app,
        TokenKind::PasswordReset,
        &token,
    )
    .await
    {
        return page.ui.error(&e);
    }
    let csrf = page.ui.csrf().clone();
    reset_form(&state, &page, StatusCode::OK, &token, &csrf, None)
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    new_password: String,
    confirm_password: Option<String>,
}

pub async fn reset_password_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<ResetForm>,
) -> Response {
    let retry = |message: &str| {
        reset_form(
            &state,
            &page,
            StatusCode::BAD_REQUEST,
            &form.token,
            &csrf,
            Some(message),
        )
    };
    if form
        .confirm_password
        .as_deref()
        .is_some_and(|c| c != form.new_password)
    {
        return retry(&page.ui.t("passwords-differ"));
    }
    match lifecycle::reset_password(&state, &page.app, &form.token, &form.new_password, &meta).await
    {
        Ok(_) => page.ui.message(
            StatusCode::OK,
            "reset-done-title",
            "reset-done",
            &[("app", page.name().into())],
        ),
        Err(Error::InvalidRequest { details, message }) if is_password_error(details.as_ref()) => {
            retry(&pages::field_problem(
                &page.ui,
                message.trim_start_matches("new_password: "),
            ))
        }
        Err(e) => page.ui.error(&e),
    }
}

fn is_password_error(details: Option<&serde_json::Value>) -> bool {
    details
        .and_then(|d| d.get("fields"))
        .is_some_and(|f| f.get("new_password").is_some())
}

// ---------------------------------------------------------------------------------
// Email verification

pub async fn verify_email_page(
    State(state): State<AppState>,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&page);
    };
    if let Err(e) = lifecycle::check(
        &*state.db,
        &state,
        &page.app,
        TokenKind::EmailVerification,
        &token,
    )
    .await
    {
        return page.ui.error(&e);
    }
    let csrf = page.ui.csrf().clone();
    page.ui.show(
        StatusCode::OK,
        "pages/verify_email.html",
        context! {
            app_name => page.name(),
            action => action(&state, &page.slug, "verify-email"),
            csrf_token => csrf.token(),
            token,
        },
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
}

pub async fn verify_email_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<TokenForm>,
) -> Response {
    match lifecycle::verify_email(&state, &page.app, &form.token, &meta).await {
        Ok(user) => page.ui.message(
            StatusCode::OK,
            "verify-done-title",
            "verify-done",
            &[("email", user.email.into()), ("app", page.name().into())],
        ),
        Err(e) => page.ui.error(&e),
    }
}

// ---------------------------------------------------------------------------------
// Invite acceptance (the default `invite_url`)

fn invite_form(
    state: &AppState,
    page: &PageApp,
    status: StatusCode,
    invite: &entity::invite::Model,
    token: &str,
    csrf: &Csrf,
    error: Option<&str>,
) -> Response {
    page.ui.show(
        status,
        "pages/accept_invite.html",
        context! {
            app_name => page.name(),
            action => action(state, &page.slug, "accept-invite"),
            csrf_token => csrf.token(),
            email => &invite.email,
            token,
            error,
        },
    )
}

pub async fn accept_invite_page(
    State(state): State<AppState>,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&page);
    };
    let invite = match invites::usable_in(&state, &page.app, &token).await {
        Ok(invite) => invite,
        Err(e) => return page.ui.error(&e),
    };
    let csrf = page.ui.csrf().clone();
    invite_form(&state, &page, StatusCode::OK, &invite, &token, &csrf, None)
}

#[derive(Deserialize)]
pub struct InviteForm {
    token: String,
    display_name: Option<String>,
    password: String,
    confirm_password: Option<String>,
}

pub async fn accept_invite_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, csrf }: CsrfForm<InviteForm>,
) -> Response {
    let invite = match invites::usable_in(&state, &page.app, &form.token).await {
        Ok(invite) => invite,
        Err(e) => return page.ui.error(&e),
    };
    let retry = |message: &str| {
        invite_form(
            &state,
            &page,
            StatusCode::BAD_REQUEST,
            &invite,
            &form.token,
            &csrf,
            Some(message),
        )
    };
    if form
        .confirm_password
        .as_deref()
        .is_some_and(|c| c != form.password)
    {
        return retry(&page.ui.t("passwords-differ"));
    }
    let display_name = form.display_name.clone().filter(|n| !n.trim().is_empty());
    let accepted = invites::accept(
        &state,
        &form.token,
        Acceptance {
            display_name,
            password: Some(form.password.clone()),
        },
        None,
        &meta,
    )
    .await;
    match accepted {
        Ok(accepted) => page.ui.message(
            StatusCode::OK,
            "invite-done-title",
            "invite-done",
            &[
                ("app", page.name().into()),
                ("email", accepted.user.email.into()),
            ],
        ),
        Err(Error::InvalidRequest { message, .. }) => {
            let problem = message
                .split_once(": ")
                .map_or(message.as_str(), |(_, m)| m);
            retry(&pages::field_problem(&page.ui, problem))
        }
        Err(e) => page.ui.error(&e),
    }
}

// ---------------------------------------------------------------------------------
// The language picker of every page (docs/src/hosted-pages.md#languages)

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    lang: String,
    /// The page to return to (not `return_to`, which the page's own form may carry).
    back_to: Option<String>,
}

/// `POST /{slug}/language`: keeps the picked language in the language cookie (and
/// on the signed-in user, whose mail then goes out in it) and returns to the page.
pub async fn language_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<LanguageForm>,
) -> Response {
    let Some(lang) = state.templates.catalogs().supported(&form.lang) else {
        return page.ui.message(
            StatusCode::BAD_REQUEST,
            "error-bad-request",
            "language-unknown",
            &[],
        );
    };
    let lang = lang.to_owned();
    let back = match form.back_to.as_deref() {
        None | Some("") => login::page_url(&state, &page.slug, "login", None),
        Some(r) => match login::safe_return_to(&state, &page.slug, r) {
            Some(r) => r,
            None => return login::bad_return_to(&page.ui),
        },
    };
    let cookie = pages::cookie(&headers, web::COOKIE);
    if let Ok(Some((me, _))) = guard::browser_me(&state, page.app.clone(), cookie.as_deref()).await
        && let Err(e) = users::set_my_locale(&state, &me, &lang).await
    {
        return page.ui.error(&e);
    }
    let response = login::see_other(&page.ui, &back);
    pages::set_cookie(
        &state,
        response,
        pages::LANG_COOKIE,
        lang,
        &login::cookie_path(&state, &page.slug),
        pages::LANG_MAX_AGE,
    )
}
