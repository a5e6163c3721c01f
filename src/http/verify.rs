//! One-call verification for services that do not verify tokens themselves:
//! `/{slug}/v1/verify`, `/{slug}/v1/authorize` and `/{slug}/v1/authorize/batch`
//! (the decisions are `services::decisions`').

use axum::{extract::State, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiPath};
use crate::{
    access::Principal,
    error::Result,
    services::decisions::{self, Decision},
    state::AppState,
};

pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<impl IntoResponse> {
    let described = decisions::verify(&state, &principal, &slug).await?;
    Ok(axum::Json(json!({ "valid": true, "principal": described })))
}

/// `{permission}` or `{permissions: [...]}` (with `id` in a batch).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PermissionCheck)]
pub struct Check {
    id: Option<String>,
    permission: Option<String>,
    permissions: Option<Vec<String>>,
}

impl From<Check> for decisions::Check {
    fn from(c: Check) -> Self {
        Self {
            id: c.id,
            permission: c.permission,
            permissions: c.permissions,
        }
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Check>,
) -> Result<impl IntoResponse> {
    let (decision, described) =
        decisions::authorize(&state, &principal, &slug, &body.into()).await?;
    let authorized = decision.authorized();
    let answer = Answer {
        authorized,
        reason: (!authorized)
            .then(|| format!("missing permissions: {}", decision.missing.join(", "))),
        missing: (!authorized).then_some(&decision.missing),
        principal: described,
    };
    Ok(axum::Json(answer).into_response())
}

/// The answer of `POST /authorize`, serialised straight from the decision (fields in
/// the order a JSON object of them had before).
#[derive(serde::Serialize)]
struct Answer<'a> {
    authorized: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<&'a Vec<String>>,
    principal: Value,
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    checks: Vec<Check>,
}

fn result(decision: Decision) -> Value {
    let mut result = json!({ "id": decision.id, "authorized": decision.authorized() });
    if !decision.authorized() {
        result["missing"] = json!(decision.missing);
    }
    result
}

pub async fn authorize_batch(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Batch>,
) -> Result<impl IntoResponse> {
    let checks: Vec<decisions::Check> = body.checks.into_iter().map(Into::into).collect();
    let decided = decisions::authorize_batch(&state, &principal, &slug, &checks).await?;
    let results: Vec<Value> = decided.into_iter().map(result).collect();
    Ok(axum::Json(json!({ "results": results })))
}
