//! One-call verification for services that do not verify tokens themselves:
//! `/{slug}/v1/verify`, `/{slug}/v1/authorize` and `/{slug}/v1/authorize/batch`.

use axum::{extract::State, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    consumer::app_of,
    extract::{ApiJson, ApiPath},
};
use crate::{
    auth::Principal,
    error::{Error, Result},
    services::{authz, permissions},
    state::AppState,
};

pub const MAX_CHECKS: usize = 100;
pub const MAX_PERMISSIONS: usize = 100;

/// The bearer must be a credential of this app (another app's token is a 401).
async fn caller(state: &AppState, principal: &Principal, slug: &str) -> Result<()> {
    let app = app_of(state, slug).await?;
    match principal.app_id() {
        Some(id) if id != app.id => Err(Error::invalid_token("the token belongs to another app")),
        _ => Ok(()),
    }
}

pub async fn verify(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
) -> Result<impl IntoResponse> {
    caller(&state, &principal, &slug).await?;
    let described = authz::describe(&state, &principal).await?;
    Ok(axum::Json(json!({ "valid": true, "principal": described })))
}

/// `{permission}` or `{permissions: [...]}`, validated.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Check {
    id: Option<String>,
    permission: Option<String>,
    permissions: Option<Vec<String>>,
}

fn required(check: &Check, field: &str) -> Result<Vec<String>> {
    let list = match (&check.permission, &check.permissions) {
        (Some(one), None) => vec![one.clone()],
        (None, Some(many)) if !many.is_empty() => many.clone(),
        (None, Some(_)) => {
            return Err(Error::invalid_field(field, "permissions must not be empty"));
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid_field(
                field,
                "give either permission or permissions, not both",
            ));
        }
        (None, None) => {
            return Err(Error::invalid_field(
                field,
                "permission or permissions is required",
            ));
        }
    };
    if list.len() > MAX_PERMISSIONS {
        return Err(Error::invalid_field(
            field,
            format!("at most {MAX_PERMISSIONS} permissions"),
        ));
    }
    for p in &list {
        permissions::validate(p).map_err(|e| Error::invalid_field(field, e.to_string()))?;
    }
    Ok(list)
}

fn missing(held: &Option<Vec<String>>, required: &[String]) -> Vec<String> {
    match held {
        None => Vec::new(),
        Some(held) => permissions::missing(held, required),
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Check>,
) -> Result<impl IntoResponse> {
    caller(&state, &principal, &slug).await?;
    if body.id.is_some() {
        return Err(Error::invalid_field("id", "is only used in batch checks"));
    }
    let required = required(&body, "permission")?;
    let held = authz::held_by(&state, &principal).await?;
    let missing = missing(&held, &required);
    let described = authz::describe(&state, &principal).await?;
    let mut out = json!({
        "authorized": missing.is_empty(),
        "reason": if missing.is_empty() { Value::Null } else { json!(format!("missing permissions: {}", missing.join(", "))) },
        "principal": described,
    });
    if !missing.is_empty() {
        out["missing"] = json!(missing);
    }
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    checks: Vec<Check>,
}

pub async fn authorize_batch(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<Batch>,
) -> Result<impl IntoResponse> {
    caller(&state, &principal, &slug).await?;
    if body.checks.is_empty() || body.checks.len() > MAX_CHECKS {
        return Err(Error::invalid_field(
            "checks",
            format!("give between 1 and {MAX_CHECKS} checks"),
        ));
    }
    let held = authz::held_by(&state, &principal).await?;
    let mut results = Vec::with_capacity(body.checks.len());
    for (i, check) in body.checks.iter().enumerate() {
        let field = format!("checks[{i}]");
        let id = match &check.id {
            Some(id) if !id.is_empty() && id.len() <= 200 => id.clone(),
            _ => {
                return Err(Error::invalid_field(
                    &format!("{field}.id"),
                    "must be 1-200 characters",
                ));
            }
        };
        let required = required(check, &field)?;
        let missing = missing(&held, &required);
        let mut result = json!({ "id": id, "authorized": missing.is_empty() });
        if !missing.is_empty() {
            result["missing"] = json!(missing);
        }
        results.push(result);
    }
    Ok(axum::Json(json!({ "results": results })))
}
