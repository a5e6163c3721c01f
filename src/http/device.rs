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
    pages::{self, Csrf, CsrfForm, PageApp},
};
use crate::{
    error::Error,
    request::RequestMeta,
    services::oauth::{device, scope_description, scopes_of, web},
    state::AppState,
    templates::{Value, context},
};

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
        Err(e) => return pages::error(&state.templates, &e),
    };
    let csrf = Csrf::for_request(&headers);
    let Some(user_code) = query.user_code.filter(|c| !c.trim().is_empty()) else {
        return pages::show(
            &state.templates,
            StatusCode::OK,
            "pages/device.html",
            context! { app_name => &app.display_name, action },
        );
    };
    let (found, client) = match device::pending(&state, app.id, user.user.id, &user_code).await {
        Ok(found) => found,
        Err(Error::NotFound(message)) => {
            return pages::show(
                &state.templates,
                StatusCode::NOT_FOUND,
                "pages/device.html",
                context! { app_name => &app.display_name, action, error => message },
            );
        }
        Err(e) => return pages::error(&state.templates, &e),
    };
    let scopes: Vec<Value> = scopes_of(&found.scopes)
        .iter()
        .map(|s| context! { name => s, description => scope_description(s).unwrap_or_default() })
        .collect();
    let response = pages::show(
        &state.templates,
        StatusCode::OK,
        "pages/device.html",
        context! {
            app_name => &app.display_name,
            action,
            client => context! {
                name => &client.name,
                logo_url => client.logo_url.as_deref().filter(|u| u.starts_with("https://")),
            },
            scopes,
            user_code => device::normalise(&user_code),
            csrf_token => csrf.token(),
        },
    );
    csrf.attach(&state, &cookie_path(&state, slug), response)
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
            return pages::message(
                &state.templates,
                StatusCode::BAD_REQUEST,
                "Something is not right",
                "Choose Allow or Deny.",
            );
        }
    };
    let user = match signed_in(&state, &page.app, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return pages::message(
                &state.templates,
                StatusCode::UNAUTHORIZED,
                "You are not signed in",
                "Your session has ended. Open the device page again and sign in.",
            );
        }
        Err(e) => return pages::error(&state.templates, &e),
    };
    match device::answer(&state, &page.app, &user, &form.user_code, approved, &meta).await {
        Ok(client) if approved => pages::message(
            &state.templates,
            StatusCode::OK,
            "Device connected",
            &format!(
                "{} is now connected. You can go back to the device.",
                client.name
            ),
        ),
        Ok(_) => pages::message(
            &state.templates,
            StatusCode::OK,
            "Request denied",
            "The device was not given access. You can close this page.",
        ),
        Err(e) => pages::error(&state.templates, &e),
    }
}
