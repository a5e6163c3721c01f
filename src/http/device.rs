//! The hosted `/{slug}/device` page of the device authorization grant (RFC 8628;
//! docs/src/oauth-extensions.md#device-authorization-grant): the signed-in user enters
//! the code a device shows and approves or denies it.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    extract::ApiQuery,
    pages::{self, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::oauth::{device, scope_description, scopes_of, web},
    state::AppState,
    templates::{Value, context},
};

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => Error::invalid("the location is not a valid header value").into_response(),
    }
}

async fn signed_in(
    state: &AppState,
    app: &entity::app::Model,
    headers: &HeaderMap,
) -> Result<Option<web::SignedIn>, Error> {
    let cookie = pages::cookie(headers, web::COOKIE);
    web::signed_in(state, app, None, cookie.as_deref()).await
}

#[derive(Deserialize, Default)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

/// `GET /{slug}/device[?user_code=…]`.
pub async fn device_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: PageApp,
    ApiQuery(query): ApiQuery<DeviceQuery>,
) -> Response {
    let (app, slug) = (&page.app, &page.slug);
    let action = format!("{}/{slug}/device", state.config.base_path);
    let user = match signed_in(&state, app, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let mut here = action.clone();
            if let Some(code) = query.user_code.as_deref().filter(|c| !c.is_empty()) {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
                here.push_str(&format!("?user_code={encoded}"));
            }
            let encoded: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return see_other(&format!(
                "{}/{slug}/login?return_to={encoded}",
                state.config.base_path
            ));
        }
        Err(e) => return page.ui.error(&e),
    };
    let csrf = page.ui.csrf().clone();
    let Some(user_code) = query.user_code.filter(|c| !c.trim().is_empty()) else {
        return page.ui.show(
            StatusCode::OK,
            "pages/device.html",
            context! { app_name => page.name(), action },
        );
    };
    let (found, client) = match device::pending(&state, app.id, user.user.id, &user_code).await {
        Ok(found) => found,
        Err(Error::NotFound(message)) => {
            return page.ui.show(
                StatusCode::NOT_FOUND,
                "pages/device.html",
                context! { app_name => page.name(), action, error => message },
            );
        }
        Err(e) => return page.ui.error(&e),
    };
    let scopes: Vec<Value> = scopes_of(&found.scopes)
        .iter()
        .map(|s| context! { name => s, description => scope_description(s).unwrap_or_default() })
        .collect();
    let logo_url = client
        .logo_url
        .as_deref()
        .filter(|u| u.starts_with("https://"));
    let response = page.ui.show(
        StatusCode::OK,
        "pages/device.html",
        context! {
            app_name => page.name(),
            action,
            client => context! {
                name => &client.name,
                logo_url,
            },
            scopes,
            user_code => device::normalise(&user_code),
            csrf_token => csrf.token(),
        },
    );
    pages::allow_image(response, logo_url)
}

#[derive(Deserialize)]
pub struct DeviceForm {
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    decision: String,
}

/// `POST /{slug}/device`: the user's answer.
pub async fn device_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    page: PageApp,
    CsrfForm { form, .. }: CsrfForm<DeviceForm>,
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
    let user = match signed_in(&state, &page.app, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return page.ui.message(
                StatusCode::UNAUTHORIZED,
                "not-signed-in-title",
                "device-session-ended",
                &[],
            );
        }
        Err(e) => return page.ui.error(&e),
    };
    match device::answer(&state, &page.app, &user, &form.user_code, approved, &meta).await {
        Ok(client) if approved => page.ui.message(
            StatusCode::OK,
            "device-connected-title",
            "device-connected",
            &[("client", client.name.into())],
        ),
        Ok(_) => page
            .ui
            .message(StatusCode::OK, "device-denied-title", "device-denied", &[]),
        Err(e) => page.ui.error(&e),
    }
}
