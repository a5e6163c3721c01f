//! `GET`/`POST /{slug}/v1/oauth/logout`: OpenID Connect RP-Initiated Logout 1.0,
//! the discovery document's `end_session_endpoint` (docs/src/hosted-pages.md#signing-out).
//! With a valid `id_token_hint` for the signed-in user the browser is signed out
//! at once; otherwise the user confirms on a page first (so that another site
//! cannot sign them out). Then the browser goes to the client's registered
//! `post_logout_redirect_uri` (with `state`), or sees "You are signed out".

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
};
use serde::Deserialize;

use super::{
    account::signed_out_page,
    extract::read_body,
    login::{cookie_path, see_other},
    pages::{self, PageApp},
};
use crate::{
    request::RequestMeta,
    services::{
        guard,
        oauth::{
            logout::{self, LogoutRequest},
            web,
        },
        sessions,
    },
    state::AppState,
    templates::{Value, context},
};

#[derive(Deserialize, Default)]
struct Params {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    /// The confirmation page's own form.
    confirm: Option<String>,
    csrf_token: Option<String>,
}

fn bad_request(page: &PageApp, message: &str) -> Response {
    page.ui
        .message(StatusCode::BAD_REQUEST, "logout-bad-title", message, &[])
}

pub async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    page: PageApp,
    request: Request,
) -> Response {
    let headers: HeaderMap = request.headers().clone();
    let raw = if request.method() == Method::POST {
        if !pages::is_form(&headers) {
            return bad_request(&page, "logout-not-form");
        }
        match read_body(request, &state).await {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => return page.ui.error(&e),
        }
    } else {
        request
            .uri()
            .query()
            .unwrap_or_default()
            .as_bytes()
            .to_vec()
    };
    let Ok(params) = serde_urlencoded::from_bytes::<Params>(&raw) else {
        return bad_request(&page, "logout-malformed");
    };
    let logout_request = LogoutRequest {
        id_token_hint: params.id_token_hint.clone(),
        client_id: params.client_id.clone(),
        post_logout_redirect_uri: params.post_logout_redirect_uri.clone(),
        state: params.state.clone(),
    };
    let plan = match logout::check(&state, &page.app, &logout_request).await {
        Ok(plan) => plan,
        Err(e) => return page.ui.error(&e),
    };
    let cookie = pages::cookie(&headers, web::COOKIE);
    let browser = match guard::browser_me(&state, page.app.clone(), cookie.as_deref()).await {
        Ok(browser) => browser,
        Err(e) => return page.ui.error(&e),
    };
    let finish = |state: &AppState| match &plan.redirect {
        Some(target) => {
            let response = see_other(&page.ui, target);
            pages::set_cookie(
                state,
                response,
                web::COOKIE,
                String::new(),
                &cookie_path(state, &page.slug),
                0,
            )
        }
        None => signed_out_page(state, &page),
    };
    let Some((me, _)) = browser else {
        // Nobody is signed in in this browser: nothing to end.
        return finish(&state);
    };
    let confirmed = (params.confirm.as_deref() == Some("yes")
        && pages::csrf_confirmed(&headers, params.csrf_token.as_deref()).is_some())
        || plan.hinted_user == Some(me.user_id());
    if !confirmed {
        let email = crate::services::users::me(&state, &me)
            .await
            .map(|u| u.email)
            .unwrap_or_default();
        let csrf = page.ui.csrf().clone();
        let params: Vec<Value> = [
            ("id_token_hint", &params.id_token_hint),
            ("client_id", &params.client_id),
            ("post_logout_redirect_uri", &params.post_logout_redirect_uri),
            ("state", &params.state),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| context! { name, value => v }))
        .collect();
        let response = page.ui.show(
            StatusCode::OK,
            "pages/logout.html",
            context! {
                app_name => page.name(),
                client_name => plan.client.as_ref().map(|c| c.name.clone()),
                email,
                action => format!("{}/{}/v1/oauth/logout", state.config.base_path, page.slug),
                csrf_token => csrf.token(),
                params,
            },
        );
        return match &plan.redirect {
            Some(target) => pages::allow_form_redirect(response, target),
            None => response,
        };
    }
    if let Err(e) = sessions::signout(&state, &me, &meta).await {
        return page.ui.error(&e);
    }
    finish(&state)
}
