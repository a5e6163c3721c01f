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
    pages::{self, Csrf, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        invites::{self, Acceptance},
        lifecycle::{self, TokenKind},
    },
    state::AppState,
    templates::context,
};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn cookie_path(state: &AppState, slug: &str) -> String {
    format!("{}/{slug}", state.config.base_path)
}

fn action(state: &AppState, slug: &str, page: &str) -> String {
    format!("{}/{slug}/{page}", state.config.base_path)
}

fn missing_token(state: &AppState) -> Response {
    pages::message(
        &state.templates,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
        "The link has no token. Open the link from your email again, without changing it.",
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
    let response = pages::show(
        &state.templates,
        status,
        "pages/reset_password.html",
        context! {
            app_name => &page.app.display_name,
            action => action(state, &page.slug, "reset-password"),
            csrf_token => csrf.token(),
            token,
            error,
        },
    );
    csrf.attach(state, &cookie_path(state, &page.slug), response)
}

pub async fn reset_password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&state);
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
        return pages::error(&state.templates, &e);
    }
    let csrf = Csrf::for_request(&headers);
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
        return retry("The two passwords are not the same.");
    }
    match lifecycle::reset_password(&state, &page.app, &form.token, &form.new_password, &meta).await
    {
        Ok(_) => pages::message(
            &state.templates,
            StatusCode::OK,
            "Your password has been changed",
            &format!(
                "You can now sign in to {} with your new password. For your safety, you have been \
                 signed out everywhere.",
                page.app.display_name
            ),
        ),
        Err(Error::InvalidRequest { details, message }) if is_password_error(details.as_ref()) => {
            retry(message.trim_start_matches("new_password: "))
        }
        Err(e) => pages::error(&state.templates, &e),
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
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&state);
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
        return pages::error(&state.templates, &e);
    }
    let csrf = Csrf::for_request(&headers);
    let response = pages::show(
        &state.templates,
        StatusCode::OK,
        "pages/verify_email.html",
        context! {
            app_name => &page.app.display_name,
            action => action(&state, &page.slug, "verify-email"),
            csrf_token => csrf.token(),
            token,
        },
    );
    csrf.attach(&state, &cookie_path(&state, &page.slug), response)
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
        Ok(user) => pages::message(
            &state.templates,
            StatusCode::OK,
            "Your email is verified",
            &format!(
                "Thank you: {} is verified for {}.",
                user.email, page.app.display_name
            ),
        ),
        Err(e) => pages::error(&state.templates, &e),
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
    let response = pages::show(
        &state.templates,
        status,
        "pages/accept_invite.html",
        context! {
            app_name => &page.app.display_name,
            action => action(state, &page.slug, "accept-invite"),
            csrf_token => csrf.token(),
            email => &invite.email,
            token,
            error,
        },
    );
    csrf.attach(state, &cookie_path(state, &page.slug), response)
}

pub async fn accept_invite_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let Some(token) = query.token else {
        return missing_token(&state);
    };
    let invite = match invites::usable_in(&state, &page.app, &token).await {
        Ok(invite) => invite,
        Err(e) => return pages::error(&state.templates, &e),
    };
    let csrf = Csrf::for_request(&headers);
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
        Err(e) => return pages::error(&state.templates, &e),
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
        return retry("The two passwords are not the same.");
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
        Ok(accepted) => pages::message(
            &state.templates,
            StatusCode::OK,
            "Welcome aboard",
            &format!(
                "Your {} account ({}) is ready. You can now sign in with your new password.",
                page.app.display_name, accepted.user.email
            ),
        ),
        Err(Error::InvalidRequest { message, .. }) => retry(&message),
        Err(e) => pages::error(&state.templates, &e),
    }
}
