//! The one guard: every REST handler and GraphQL resolver asks it for a capability
//! before calling a service. Cross-app requests are indistinguishable from requests
//! for things that do not exist (404 / `NOT_FOUND`).

use super::{AppAdmin, EndUser, Grants, Principal, RootAccess};
use crate::{
    error::{Error, Result},
    services::{authz, permissions},
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
        grants: Grants::All,
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

/// Access to an app for any principal of that app: keys may do everything; end users
/// and machine clients need every permission in `required` (403 with
/// `details.missing` otherwise) and get a capability limited to what they hold.
///
/// `tenant` scopes an end user's tenant role: with `Some(t)` their role in tenant
/// `t` counts too; with `None` only the app role does. Heimdall's app-wide
/// administration (users, roles, clients, audit) passes `None`, so that a tenant's
/// own administrator cannot administer the whole app; tenant-member administration
/// passes the tenant.
pub async fn app_access(
    state: &AppState,
    principal: &Principal,
    app: std::sync::Arc<entity::app::Model>,
    required: &[&str],
    tenant: Option<uuid::Uuid>,
) -> Result<AppAdmin> {
    let held = match principal {
        Principal::Root { .. } => None,
        Principal::AppKey { app_id, .. } if *app_id == app.id => None,
        Principal::EndUser(user) if user.app_id == app.id => {
            let effective = authz::effective(state, app.id, user.user_id, tenant).await?;
            Some(effective.permissions.clone())
        }
        Principal::M2m(client) if client.app_id == app.id => Some(client.scopes.clone()),
        // Third-party clients do not administer the app on a user's behalf.
        Principal::OAuth(access) if access.app_id == app.id => Some(Vec::new()),
        _ => return Err(Error::not_found(format!("app '{}' not found", app.name))),
    };
    let grants = match held {
        None => Grants::All,
        Some(held) => {
            let missing = permissions::missing(&held, required);
            if !missing.is_empty() {
                return Err(Error::missing_permissions(missing));
            }
            Grants::Only(std::sync::Arc::new(held))
        }
    };
    Ok(AppAdmin {
        app,
        actor: principal.actor(),
        grants,
    })
}

/// [`app_access`] on the consumer lane, where another app's token is not a
/// credential at all (401).
pub async fn consumer_access(
    state: &AppState,
    principal: &Principal,
    app: std::sync::Arc<entity::app::Model>,
    required: &[&str],
    tenant: Option<uuid::Uuid>,
) -> Result<AppAdmin> {
    if principal.app_id().is_some_and(|id| id != app.id) {
        return Err(Error::invalid_token("the token belongs to another app"));
    }
    app_access(state, principal, app, required, tenant).await
}

/// [`app_access`] for GraphQL: the app is named, or implied by an app-bound
/// credential; another app is `NOT_FOUND`.
pub async fn graphql_access(
    state: &AppState,
    principal: &Principal,
    app_ref: Option<&str>,
    required: &[&str],
    tenant: Option<uuid::Uuid>,
) -> Result<AppAdmin> {
    let app = match (app_ref, principal.app_id()) {
        (Some(reference), _) => state
            .apps
            .resolve(reference)
            .await?
            .ok_or_else(|| Error::not_found(format!("app '{reference}' not found")))?,
        (None, Some(app_id)) => state
            .apps
            .by_id(app_id)
            .await?
            .ok_or_else(|| Error::not_found("app not found"))?,
        (None, None) => return Err(Error::invalid_field("app", "is required with a root key")),
    };
    app_access(state, principal, app, required, tenant).await
}
