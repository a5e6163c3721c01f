//! `GET /metrics` (Prometheus text format) and the per-request series
//! (docs/src/production.md#metrics). Served on its own listener
//! (`HEIMDALL_METRICS_BIND`), or on the main one behind a bearer of its own
//! (`HEIMDALL_METRICS_TOKEN`); neither set, there is no `/metrics` at all.

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{error::Error, services::observe, state::AppState};

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn render(state: &AppState) -> Response {
    match observe::install() {
        Some(handle) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            observe::render(state, &handle).await,
        )
            .into_response(),
        None => Error::Unavailable("metrics are not available".into()).into_response(),
    }
}

/// `/metrics` on the main listener: only with `Authorization: Bearer <HEIMDALL_METRICS_TOKEN>`.
async fn protected(State(state): State<AppState>, request: Request) -> Response {
    let Some(expected) = state.config.metrics_token.as_ref() else {
        return Error::not_found("no such route").into_response();
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::crypto::ct_eq(
        &crate::crypto::sha256(presented.as_bytes()),
        &crate::crypto::sha256(expected.expose().as_bytes()),
    ) {
        return Error::unauthenticated("/metrics requires the metrics bearer token")
            .into_response();
    }
    render(&state).await
}

async fn open(State(state): State<AppState>) -> Response {
    render(&state).await
}

/// The route on the main router (present only with a metrics token).
pub fn routes(state: &AppState) -> Router<AppState> {
    if state.config.metrics_token.is_some() {
        Router::new().route("/metrics", get(protected))
    } else {
        Router::new()
    }
}

/// The router of the separate metrics listener (`HEIMDALL_METRICS_BIND`).
pub fn listener_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(open)).with_state(state)
}

/// Counts and times every request that matched a route.
pub async fn track(request: Request, next: Next) -> Response {
    if !observe::on() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    observe::http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
