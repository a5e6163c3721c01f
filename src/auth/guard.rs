//! The one guard: every REST handler and GraphQL resolver asks it for a capability
//! before calling a service. Cross-app requests are indistinguishable from requests
//! for things that do not exist (404 / `NOT_FOUND`).

use super::{AppAdmin, EndUser, Principal, RootAccess};
use crate::{
    error::{Error, Result},
    state::AppState,
};

/// Root only (create or delete apps, list every app).
pub fn require_root(principal: &Principal) -> Result<RootAccess> {
    match principal {
        Principal::Root { .. } => Ok(RootAccess {
            actor: principal.actor(),
        }),
        _ => Err(Error::forbidden("this operation requires a root key")),
    }
}

/// Administration of one app: root, or that app's key. Another app's credential
/// gets 404 (the app does not exist for it); an end user or machine client of the
/// same app gets 403 (the admin lane takes keys, not tokens).
pub async fn app_admin(state: &AppState, principal: &Principal, app_ref: &str) -> Result<AppAdmin> {
    let not_found = || Error::not_found(format!("app '{app_ref}' not found"));
    let app = state.apps.resolve(app_ref).await?.ok_or_else(not_found)?;
    match principal {
        Principal::Root { .. } => {}
        other if other.app_id() != Some(app.id) => return Err(not_found()),
        Principal::AppKey { .. } => {}
        _ => {
            return Err(Error::forbidden(
                "the admin lane requires a root key or this app's key",
            ));
        }
    }
    Ok(AppAdmin {
        app,
        actor: principal.actor(),
    })
}

/// Administration of the principal's own app when no app is named (GraphQL, where an
/// app key or token implies its app), or of the named one.
pub async fn app_admin_of(
    state: &AppState,
    principal: &Principal,
    app_ref: Option<&str>,
) -> Result<AppAdmin> {
    match (app_ref, principal.app_id()) {
        (Some(app_ref), _) => app_admin(state, principal, app_ref).await,
        (None, Some(app_id)) => app_admin(state, principal, &app_id.to_string()).await,
        (None, None) => Err(Error::invalid_field("app", "is required with a root key")),
    }
}

/// The consumer lane's end user: a token of this app. Another app's token is 401
/// (it is not a credential here); a key or machine token is 403.
pub fn end_user<'a>(principal: &'a Principal, app: &entity::app::Model) -> Result<&'a EndUser> {
    match principal {
        Principal::EndUser(user) if user.app_id == app.id => Ok(user),
        other if other.app_id().is_some_and(|id| id != app.id) => {
            Err(Error::invalid_token("the token belongs to another app"))
        }
        _ => Err(Error::forbidden(
            "this endpoint requires an end user's access token",
        )),
    }
}
