//! Heimdall's hosted lifecycle pages, the default targets of mailed links:
//! `/{slug}/reset-password`, `/{slug}/verify-email` and `/{slug}/accept-invite`.
//! `GET` shows a form (it never consumes the token, so link scanners that prefetch
//! mail links change nothing); `POST` with the form's CSRF token does the work.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    consumer::app_of,
    extract::{ApiPath, ApiQuery},
    pages::{
        ApiForm, Csrf, error_page, escape, form, hidden, input, message_page, notice, page,
        page_with_status, verify_csrf,
    },
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::{
        invites::{self, Acceptance},
        lifecycle::{self, TokenKind},
    },
    state::AppState,
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

fn missing_token() -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
        "The link has no token. Open the link from your email again, without changing it.",
    )
}

// ---------------------------------------------------------------------------------
// Password reset

fn reset_form(
    state: &AppState,
    slug: &str,
    app_name: &str,
    token: &str,
    csrf: &Csrf,
    error: Option<&str>,
) -> String {
    let fields = format!(
        "{}{}{}",
        hidden("token", token),
        input("New password", "new_password", "password", "new-password"),
        input(
            "Repeat the new password",
            "confirm_password",
            "password",
            "new-password"
        ),
    );
    format!(
        "<h1>Choose a new password</h1>\n<p class=\"note\">for your {} account</p>\n{}{}",
        escape(app_name),
        error.map(notice).unwrap_or_default(),
        form(
            &action(state, slug, "reset-password"),
            csrf,
            &fields,
            "Set the new password"
        ),
    )
}

pub async fn reset_password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let Some(token) = query.token else {
        return missing_token();
    };
    if let Err(e) =
        lifecycle::check(&*state.db, &state, &app, TokenKind::PasswordReset, &token).await
    {
        return error_page(&e);
    }
    let csrf = Csrf::for_request(&headers);
    let body = reset_form(&state, &slug, &app.display_name, &token, &csrf, None);
    csrf.attach(
        &state,
        &cookie_path(&state, &slug),
        page("Choose a new password", &body),
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    csrf_token: Option<String>,
    token: String,
    new_password: String,
    confirm_password: Option<String>,
}

pub async fn reset_password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiForm(form): ApiForm<ResetForm>,
) -> Response {
    if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
        return refused.into_response();
    }
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let retry = |message: &str| {
        let csrf = Csrf::for_request(&headers);
        let body = reset_form(
            &state,
            &slug,
            &app.display_name,
            &form.token,
            &csrf,
            Some(message),
        );
        csrf.attach(
            &state,
            &cookie_path(&state, &slug),
            page_with_status(StatusCode::BAD_REQUEST, "Choose a new password", &body),
        )
    };
    if form
        .confirm_password
        .as_deref()
        .is_some_and(|c| c != form.new_password)
    {
        return retry("The two passwords are not the same.");
    }
    match lifecycle::reset_password(&state, &app, &form.token, &form.new_password, &meta).await {
        Ok(_) => message_page(
            StatusCode::OK,
            "Your password has been changed",
            &format!(
                "You can now sign in to {} with your new password. For your safety, you have been \
                 signed out everywhere.",
                app.display_name
            ),
        ),
        Err(Error::InvalidRequest { details, message }) if is_password_error(details.as_ref()) => {
            retry(message.trim_start_matches("new_password: "))
        }
        Err(e) => error_page(&e),
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
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let Some(token) = query.token else {
        return missing_token();
    };
    if let Err(e) = lifecycle::check(
        &*state.db,
        &state,
        &app,
        TokenKind::EmailVerification,
        &token,
    )
    .await
    {
        return error_page(&e);
    }
    let csrf = Csrf::for_request(&headers);
    let body = format!(
        "<h1>Verify your email</h1>\n<p>Confirm this address for your {} account.</p>\n{}",
        escape(&app.display_name),
        form(
            &action(&state, &slug, "verify-email"),
            &csrf,
            &hidden("token", &token),
            "Verify my email"
        ),
    );
    csrf.attach(
        &state,
        &cookie_path(&state, &slug),
        page("Verify your email", &body),
    )
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
    token: String,
}

pub async fn verify_email_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiForm(form): ApiForm<TokenForm>,
) -> Response {
    if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
        return refused.into_response();
    }
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    match lifecycle::verify_email(&state, &app, &form.token, &meta).await {
        Ok(user) => message_page(
            StatusCode::OK,
            "Your email is verified",
            &format!(
                "Thank you: {} is verified for {}.",
                user.email, app.display_name
            ),
        ),
        Err(e) => error_page(&e),
    }
}

// ---------------------------------------------------------------------------------
// Invite acceptance (the default `invite_url`)

fn invite_form(
    state: &AppState,
    slug: &str,
    app_name: &str,
    email: &str,
    token: &str,
    csrf: &Csrf,
    error: Option<&str>,
) -> String {
    let fields = format!(
        "{}<label for=\"email\">Email</label>\n<input id=\"email\" type=\"email\" value=\"{}\" \
         readonly>\n{}{}{}",
        hidden("token", token),
        escape(email),
        input("Your name", "display_name", "text", "name"),
        input("Choose a password", "password", "password", "new-password"),
        input(
            "Repeat the password",
            "confirm_password",
            "password",
            "new-password"
        ),
    );
    format!(
        "<h1>Join {}</h1>\n<p>You have been invited. Create your account to accept.</p>\n{}{}",
        escape(app_name),
        error.map(notice).unwrap_or_default(),
        form(
            &action(state, slug, "accept-invite"),
            csrf,
            &fields,
            "Create my account"
        ),
    )
}

async fn usable_invite(
    state: &AppState,
    app: &entity::app::Model,
    token: &str,
) -> Result<entity::invite::Model, Error> {
    let invite = invites::find_usable(&*state.db, state, token).await?;
    if invite.app_id != app.id {
        return Err(Error::not_found("invite not found"));
    }
    Ok(invite)
}

pub async fn accept_invite_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Response {
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let Some(token) = query.token else {
        return missing_token();
    };
    let invite = match usable_invite(&state, &app, &token).await {
        Ok(invite) => invite,
        Err(e) => return error_page(&e),
    };
    let csrf = Csrf::for_request(&headers);
    let body = invite_form(
        &state,
        &slug,
        &app.display_name,
        &invite.email,
        &token,
        &csrf,
        None,
    );
    csrf.attach(
        &state,
        &cookie_path(&state, &slug),
        page("Accept the invitation", &body),
    )
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf_token: Option<String>,
    token: String,
    display_name: Option<String>,
    password: String,
    confirm_password: Option<String>,
}

pub async fn accept_invite_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(slug): ApiPath<String>,
    ApiForm(form): ApiForm<InviteForm>,
) -> Response {
    if let Err(refused) = verify_csrf(&headers, form.csrf_token.as_deref()) {
        return refused.into_response();
    }
    let app = match app_of(&state, &slug).await {
        Ok(app) => app,
        Err(e) => return error_page(&e),
    };
    let invite = match usable_invite(&state, &app, &form.token).await {
        Ok(invite) => invite,
        Err(e) => return error_page(&e),
    };
    let retry = |message: &str| {
        let csrf = Csrf::for_request(&headers);
        let body = invite_form(
            &state,
            &slug,
            &app.display_name,
            &invite.email,
            &form.token,
            &csrf,
            Some(message),
        );
        csrf.attach(
            &state,
            &cookie_path(&state, &slug),
            page_with_status(StatusCode::BAD_REQUEST, "Accept the invitation", &body),
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
        Ok(accepted) => message_page(
            StatusCode::OK,
            "Welcome aboard",
            &format!(
                "Your {} account ({}) is ready. You can now sign in with your new password.",
                app.display_name, accepted.user.email
            ),
        ),
        Err(Error::InvalidRequest { message, .. }) => retry(&message),
        Err(e) => error_page(&e),
    }
}
