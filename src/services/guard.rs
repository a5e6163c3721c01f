//! The one guard: the only code that grants capabilities. A handler or resolver
//! makes one call here, turning the principal and the app it addresses into the
//! capability a service takes; the service then checks the permission its
//! operation needs. Nothing here knows which operation follows.
//!
//! Where an app's credentials may not reach another app, the lanes answer alike
//! otherwise: on the admin lane and in GraphQL another app does not exist for the
//! caller (404 / `NOT_FOUND`); on the consumer lane another app's token is not a
//! credential at all (401).

use std::sync::Arc;

use entity::app;
use uuid::Uuid;

use crate::{
    access::{
        AppAccess, AppAdmin, EndUser, Held, Me, MfaSubject, MfaVia, Principal, RootAccess,
        TenantAccess,
    },
    error::{Error, Result},
    services::authz,
    state::AppState,
};

/// Where a request came in, which decides who is admitted and how another app is
/// reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// `/v1/apps/{app}/…`: root keys and the app's keys only.
    Admin,
    /// `/{slug}/v1/…`: any principal of the app; another app's token is a 401.
    Consumer,
    /// `/graphql`: any principal; the app is named or implied by an app-bound
    /// credential; another app is `NOT_FOUND`.
    GraphQl,
}

/// The app named by a path or argument: by slug on the consumer lane, by id or
/// slug elsewhere. 404 when there is none.
pub async fn find_app(state: &AppState, lane: Lane, reference: &str) -> Result<Arc<app::Model>> {
    let found = match lane {
        Lane::Consumer => state.apps.by_name(reference).await?,
        Lane::Admin | Lane::GraphQl => state.apps.resolve(reference).await?,
    };
    found.ok_or_else(|| Error::not_found(format!("app '{reference}' not found")))
}

/// The app a request addresses: the one named, or (without a name) the one the
/// credential belongs to.
async fn addressed(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
) -> Result<Arc<app::Model>> {
    match (app_ref, principal.app_id()) {
        (Some(reference), _) => find_app(state, lane, reference).await,
        (None, Some(app_id)) => state
            .apps
            .by_id(app_id)
            .await?
            .ok_or_else(|| Error::not_found("app not found")),
        (None, None) => Err(Error::invalid_field("app", "is required with a root key")),
    }
}

/// Refuses a credential of another app, as the lane reports it.
fn same_app(principal: &Principal, lane: Lane, app: &app::Model) -> Result<()> {
    match principal.app_id() {
        Some(id) if id != app.id => Err(match lane {
            Lane::Consumer => Error::invalid_token("the token belongs to another app"),
            Lane::Admin | Lane::GraphQl => {
                Error::not_found(format!("app '{}' not found", app.name))
            }
        }),
        _ => Ok(()),
    }
}

/// A root key.
pub fn root(principal: &Principal) -> Result<RootAccess> {
    match principal {
        Principal::Root { .. } => Ok(RootAccess::grant(principal.actor())),
        _ => Err(Error::forbidden("this operation requires a root key")),
    }
}

/// A root key or the app's key, administering the app (`app_ref`, or the key's own
/// app when none is named). End users and machine clients of the app get 403.
pub async fn app_admin(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
) -> Result<AppAdmin> {
    let app = addressed(state, principal, lane, app_ref).await?;
    same_app(principal, lane, &app)?;
    match principal {
        Principal::Root { .. } | Principal::AppKey { .. } => {
            Ok(AppAdmin::grant(app, principal.actor()))
        }
        _ => Err(Error::forbidden(
            "the admin lane requires a root key or this app's key",
        )),
    }
}

/// Any principal of the app, holding what it holds at app level (a tenant role
/// does not count: a tenant's administrator does not administer the whole app).
/// The admin lane admits keys only.
pub async fn app_access(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
) -> Result<AppAccess> {
    if lane == Lane::Admin {
        return Ok(app_admin(state, principal, lane, app_ref).await?.access());
    }
    let app = addressed(state, principal, lane, app_ref).await?;
    same_app(principal, lane, &app)?;
    access_in(state, principal, app, None).await
}

/// [`app_access`] within one tenant: the caller's role in `tenant_id` counts too.
pub async fn tenant_access(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
    tenant_id: Uuid,
) -> Result<TenantAccess> {
    let access = if lane == Lane::Admin {
        app_admin(state, principal, lane, app_ref).await?.access()
    } else {
        let app = addressed(state, principal, lane, app_ref).await?;
        same_app(principal, lane, &app)?;
        access_in(state, principal, app, Some(tenant_id)).await?
    };
    Ok(TenantAccess::grant(access, tenant_id))
}

async fn access_in(
    state: &AppState,
    principal: &Principal,
    app: Arc<app::Model>,
    tenant: Option<Uuid>,
) -> Result<AppAccess> {
    let (held, user_id) = match principal {
        Principal::Root { .. } | Principal::AppKey { .. } => (Held::All, None),
        Principal::EndUser(user) => {
            let effective = authz::effective(state, app.id, user.user_id, tenant).await?;
            (
                Held::Only(Arc::new(effective.permissions.clone())),
                Some(user.user_id),
            )
        }
        Principal::M2m(client) => (Held::Only(Arc::new(client.scopes.clone())), None),
        // Third-party clients do not administer the app on a user's behalf.
        Principal::OAuth(_) => (Held::Only(Arc::new(Vec::new())), None),
    };
    Ok(AppAccess::grant(app, principal.actor(), held, user_id))
}

/// The end user of the app acting on their own account. Another app's token is a
/// 401 on the consumer lane; a key or a machine token is 403.
pub async fn me(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
) -> Result<Me> {
    if app_ref.is_none() && !matches!(principal, Principal::EndUser(_)) {
        return Err(not_an_end_user(lane));
    }
    let app = addressed(state, principal, lane, app_ref).await?;
    me_in(principal, lane, app)
}

/// [`me`] for an app already at hand.
pub fn me_in(principal: &Principal, lane: Lane, app: Arc<app::Model>) -> Result<Me> {
    match principal {
        Principal::EndUser(user) if user.app_id == app.id => Ok(Me::grant(app, user.clone())),
        other if other.app_id().is_some_and(|id| id != app.id) => Err(match lane {
            Lane::GraphQl | Lane::Admin => Error::not_found("app not found"),
            Lane::Consumer => Error::invalid_token("the token belongs to another app"),
        }),
        _ => Err(not_an_end_user(lane)),
    }
}

fn not_an_end_user(lane: Lane) -> Error {
    Error::forbidden(match lane {
        Lane::GraphQl => "this field requires an end user's access token",
        Lane::Consumer | Lane::Admin => "this endpoint requires an end user's access token",
    })
}

/// The caller of the consumer lane's protocol endpoints (`/verify`,
/// `/authorize`): any credential of this app, or root. Another app's token is 401.
pub async fn caller_of<'p>(
    state: &AppState,
    principal: &'p Principal,
    slug: &str,
) -> Result<&'p Principal> {
    let app = find_app(state, Lane::Consumer, slug).await?;
    same_app(principal, Lane::Consumer, &app)?;
    Ok(principal)
}

/// An end user's verified token, when that is all a flow needs (the OAuth
/// authorization endpoint's API path).
pub fn end_user_of<'p>(principal: &'p Principal, app: &app::Model) -> Result<&'p EndUser> {
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

/// The end user managing their own second factors ([`me`], as an [`MfaSubject`]).
pub async fn mfa_subject(
    state: &AppState,
    principal: &Principal,
    lane: Lane,
    app_ref: Option<&str>,
) -> Result<MfaSubject> {
    let me = me(state, principal, lane, app_ref).await?;
    Ok(MfaSubject::grant(
        Arc::new(me.app().clone()),
        me.user_id(),
        MfaVia::Session(me.session_id()),
    ))
}

/// A sign-in that must enrol a first factor, by its `hm_mfa_` token, on the
/// consumer lane's enrolment routes (docs/src/mfa.md). Anything else is a 401.
pub async fn mfa_enrolment(state: &AppState, slug: &str, token: &str) -> Result<MfaSubject> {
    let app = find_app(state, Lane::Consumer, slug).await?;
    let (challenge_id, user_id) = crate::services::mfa::signin::enrolment_of(state, &app, token)
        .await?
        .ok_or_else(|| Error::invalid_token("the mfa_token is invalid, expired or used"))?;
    Ok(MfaSubject::grant(
        app,
        user_id,
        MfaVia::Enrolment(challenge_id),
    ))
}

/// The operator at the machine (`heimdall apps …`, `heimdall users …`): the admin
/// command line runs on the same services as the APIs, with root's reach, and its
/// audit entries name the actor `cli` (docs/src/production.md#the-admin-command-line).
pub fn cli_actor() -> crate::access::Actor {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default();
    crate::access::Actor {
        kind: "cli",
        id: who,
    }
}

/// Root reach for the admin command line.
pub fn cli_root() -> RootAccess {
    RootAccess::grant(cli_actor())
}

/// The admin command line administering one app (by id or slug); 404 when none.
pub async fn cli_app_admin(state: &AppState, app_ref: &str) -> Result<AppAdmin> {
    let app = find_app(state, Lane::Admin, app_ref).await?;
    Ok(AppAdmin::grant(app, cli_actor()))
}

/// The signed-in user of a hosted page's browser session (the `hm_session`
/// cookie), acting on their own account (the account page, docs/src/hosted-pages.md):
/// [`Me`] and the [`MfaSubject`] of that session. `None` when the cookie is
/// missing, unknown, expired or its session revoked.
pub async fn browser_me(
    state: &AppState,
    app: Arc<app::Model>,
    cookie: Option<&str>,
) -> Result<Option<(Me, MfaSubject)>> {
    let Some(cookie) = cookie else {
        return Ok(None);
    };
    let Some(session) = crate::services::oauth::web::resolve(state, app.id, cookie).await? else {
        return Ok(None);
    };
    let user = crate::services::users::find(&*state.db, app.id, session.user_id).await?;
    if user.status != crate::services::users::STATUS_ACTIVE {
        return Ok(None);
    }
    let end_user = EndUser {
        app_id: app.id,
        user_id: user.id,
        session_id: session.id,
        role: user.role.clone(),
        org_id: session.tenant_id,
        org_role: None,
        token_id: String::new(),
        expires_at: session.expires_at.timestamp(),
        issued_at: session.created_at.timestamp(),
        amr: crate::services::mfa::session_amr(&session),
        auth_time: Some(crate::services::mfa::session_auth_time(&session).timestamp()),
    };
    let subject = MfaSubject::grant(app.clone(), user.id, MfaVia::Session(session.id));
    Ok(Some((Me::grant(app, end_user), subject)))
}

/// The SCIM client of the app at `/{slug}/scim/v2/` (docs/src/importing-users-and-scim.md),
/// by its `hm_scim_` token: an [`AppAccess`] holding what provisioning needs (reading
/// and writing users, tenants as groups). Another app's token, or anything else, is a
/// 401.
pub async fn scim(state: &AppState, slug: &str, token: &str) -> Result<AppAccess> {
    let app = find_app(state, Lane::Consumer, slug).await?;
    let found = crate::services::scim::tokens::authenticate(state, app.id, token)
        .await?
        .ok_or_else(|| Error::invalid_token("the SCIM token is invalid or revoked"))?;
    let held = [
        crate::access::Permission::USER_READ,
        crate::access::Permission::USER_UPDATE,
        crate::access::Permission::TENANT_MANAGE,
    ]
    .iter()
    .map(|p| p.as_str().to_owned())
    .collect();
    Ok(AppAccess::grant(
        app,
        crate::access::Actor {
            kind: "scim_token",
            id: found.id.to_string(),
        },
        Held::Only(Arc::new(held)),
        None,
    ))
}
