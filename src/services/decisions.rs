//! Decisions for services that do not verify tokens or check permissions
//! themselves: `/{slug}/v1/verify`, `/{slug}/v1/authorize` and
//! `/{slug}/v1/authorize/batch`. The caller is any credential of the app (or
//! root); the decision is about what that credential holds.

use serde_json::Value;

use crate::{
    access::Principal,
    error::{Error, Result},
    services::{authz, guard, permissions},
    state::AppState,
};

pub const MAX_CHECKS: usize = 100;
pub const MAX_PERMISSIONS: usize = 100;

/// One check as asked: `{permission}` or `{permissions: [...]}` (and an `id` in a
/// batch).
#[derive(Debug, Clone, Default)]
pub struct Check {
    pub id: Option<String>,
    pub permission: Option<String>,
    pub permissions: Option<Vec<String>>,
}

/// The answer to one check.
#[derive(Debug, Clone)]
pub struct Decision {
    pub id: Option<String>,
    /// The permissions asked for that the caller does not hold; empty = authorized.
    pub missing: Vec<String>,
}

impl Decision {
    pub fn authorized(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The caller as `/verify` describes it (another app's credential is a 401).
pub async fn verify(state: &AppState, principal: &Principal, slug: &str) -> Result<Value> {
    let caller = guard::caller_of(state, principal, slug).await?;
    authz::describe(state, caller).await
}

/// One check, and the caller described.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    slug: &str,
    check: &Check,
) -> Result<(Decision, Value)> {
    let caller = guard::caller_of(state, principal, slug).await?;
    if check.id.is_some() {
        return Err(Error::invalid_field("id", "is only used in batch checks"));
    }
    let required = required(check, "permission")?;
    let held = authz::held_by(state, caller).await?;
    let decision = Decision {
        id: None,
        missing: missing(held.permissions(), &required),
    };
    Ok((decision, authz::describe_held(caller, &held)))
}

/// Up to [`MAX_CHECKS`] checks, each with an id, answered in order.
pub async fn authorize_batch(
    state: &AppState,
    principal: &Principal,
    slug: &str,
    checks: &[Check],
) -> Result<Vec<Decision>> {
    let caller = guard::caller_of(state, principal, slug).await?;
    if checks.is_empty() || checks.len() > MAX_CHECKS {
        return Err(Error::invalid_field(
            "checks",
            format!("give between 1 and {MAX_CHECKS} checks"),
        ));
    }
    let held = authz::held_by(state, caller).await?;
    let mut decisions = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
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
        decisions.push(Decision {
            id: Some(id),
            missing: missing(held.permissions(), &required),
        });
    }
    Ok(decisions)
}

/// The permissions a check asks for, validated.
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

fn missing(held: Option<&[String]>, required: &[String]) -> Vec<String> {
    match held {
        None => Vec::new(),
        Some(held) => permissions::missing(held, required),
    }
}
