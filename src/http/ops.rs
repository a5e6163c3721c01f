//! `/healthz` (process up) and `/readyz` (database reachable).

use axum::{Json, extract::State, response::IntoResponse};
use serde_json::json;

use crate::{error::Error, state::AppState};

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers within two seconds.
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, Error> {
    match tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(e)) => Err(Error::Unavailable(format!("database unreachable: {e}"))),
        Err(_) => Err(Error::Unavailable(
            "the database did not answer in time".into(),
        )),
    }
}
