//! `/healthz` (process up) and `/readyz` (database reachable).

use axum::{Json, extract::State, response::IntoResponse};
use serde_json::json;

use crate::{error::Error, state::AppState};

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, Error> {
    state
        .db
        .ping()
        .await
        .map_err(|e| Error::Unavailable(format!("database unreachable: {e}")))?;
    Ok(Json(json!({ "status": "ready" })))
}
