//! Effective permissions: the union of the user's app role and, with a tenant, of
//! their tenant role. This is the one resolution the guard uses everywhere.
//!
//! Cached per instance; every write to roles, role assignments or memberships bumps
//! the app's generation here and, through `services::bus`, on every other instance,
//! so the next check recomputes at once ([`AUTHZ_CACHE_TTL`] is only the backstop).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use entity::{app, session, tenant_member, user};
use moka::future::Cache;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    error::{Error, Result},
    services::bus::{Bus, Change},
    services::roles,
    state::AppState,
};

pub const AUTHZ_CACHE_TTL: Duration = Duration::from_secs(60);

/// A user's live role, tenant role and flat permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub role: String,
    pub org_id: Option<Uuid>,
    /// `None` without an active tenant, or when the user is no longer a member.
    pub org_role: Option<String>,
    /// Sorted, without duplicates.
    pub permissions: Vec<String>,
}

type Key = (Uuid, u64, Uuid, Option<Uuid>);

pub struct AuthzCache {
    cache: Cache<Key, Arc<Effective>>,
    generations: Mutex<HashMap<Uuid, u64>>,
    bus: Bus,
}

impl AuthzCache {
    pub fn new(bus: Bus) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(AUTHZ_CACHE_TTL)
                .build(),
            generations: Mutex::new(HashMap::new()),
            bus,
        }
    }

    /// Another instance changed the app's roles or memberships.
    pub fn apply(&self, app_id: Uuid) {
        let mut map = match self.generations.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        *map.entry(app_id).or_insert(0) += 1;
    }

    pub fn flush(&self) {
        self.cache.invalidate_all();
    }

    fn generation(&self, app_id: Uuid) -> u64 {
        match self.generations.lock() {
            Ok(map) => map.get(&app_id).copied().unwrap_or(0),
            Err(poisoned) => poisoned.into_inner().get(&app_id).copied().unwrap_or(0),
        }
    }

    /// Invalidates every cached resolution of the app, on every instance.
    pub fn bump(&self, app_id: Uuid) {
        self.apply(app_id);
        self.bus.publish(Change::Authz { app_id });
    }
}

/// The effective permissions of `user_id` in `app_id`, with `tenant_id` active.
pub async fn effective(
    state: &AppState,
    app_id: Uuid,
    user_id: Uuid,
    tenant_id: Option<Uuid>,
) -> Result<Arc<Effective>> {
    let key = (app_id, state.authz.generation(app_id), user_id, tenant_id);
    let cached = state.authz.cache.get(&key).await;
    crate::services::observe::cache("authz", cached.is_some());
    if let Some(hit) = cached {
        return Ok(hit);
    }
    let user = user::Entity::find_by_id(user_id)
        .filter(user::Column::AppId.eq(app_id))
        .one(&*state.db)
        .await?
        .ok_or_else(|| Error::invalid_token("the user no longer exists"))?;
    let mut permissions = roles::permissions_of(&*state.db, app_id, &user.role).await?;
    let mut org_role = None;
    if let Some(tenant_id) = tenant_id
        && let Some(member) = tenant_member::Entity::find_by_id((tenant_id, user_id))
            .one(&*state.db)
            .await?
        && member.app_id == app_id
    {
        permissions.extend(roles::permissions_of(&*state.db, app_id, &member.role).await?);
        org_role = Some(member.role);
    }
    permissions.sort();
    permissions.dedup();
    let effective = Arc::new(Effective {
        role: user.role,
        org_id: org_role.as_ref().and(tenant_id),
        org_role,
        permissions,
    });
    state.authz.cache.insert(key, effective.clone()).await;
    Ok(effective)
}

/// The caller's live role, tenant role (of their token's active tenant) and
/// effective permissions (`me/permissions`).
pub async fn mine(state: &AppState, me: &crate::access::Me) -> Result<Arc<Effective>> {
    effective(state, me.app().id, me.user_id(), me.user().org_id).await
}

/// `org_role` and (when the app embeds them) `permissions` for a new access token.
pub async fn token_extras(
    state: &AppState,
    app: &app::Model,
    user: &user::Model,
    session: &session::Model,
) -> Result<(Option<String>, Option<Vec<String>>)> {
    let effective = effective(state, app.id, user.id, session.tenant_id).await?;
    let embed = state.apps.settings(app).await.embed_permissions;
    Ok((
        effective.org_role.clone(),
        embed.then(|| effective.permissions.clone()),
    ))
}

/// What a principal holds in its app, for `/authorize`: an end user's effective
/// permissions (app role ∪ the token's tenant role), a machine client's scopes, or
/// everything for keys.
pub enum Held<'a> {
    /// Root and app keys hold every permission.
    Everything,
    /// An end user (or an OAuth client with the `permissions` scope, for its user):
    /// the live effective permissions, shared with the cache.
    Live(Arc<Effective>),
    /// A machine client's scopes, or nothing for an OAuth client without the
    /// `permissions` scope.
    Listed(&'a [String]),
}

impl Held<'_> {
    /// The permissions held, `None` for everything.
    pub fn permissions(&self) -> Option<&[String]> {
        match self {
            Held::Everything => None,
            Held::Live(live) => Some(&live.permissions),
            Held::Listed(list) => Some(list),
        }
    }
}

/// What a principal holds (one cache read for an end user).
pub async fn held_by<'a>(
    state: &AppState,
    principal: &'a crate::access::Principal,
) -> Result<Held<'a>> {
    use crate::access::Principal;
    Ok(match principal {
        Principal::Root { .. } | Principal::AppKey { .. } => Held::Everything,
        Principal::EndUser(user) => {
            Held::Live(effective(state, user.app_id, user.user_id, user.org_id).await?)
        }
        Principal::M2m(client) => Held::Listed(&client.scopes),
        // With the `permissions` scope, a client may check the user's permissions.
        Principal::OAuth(access) => {
            if access.scopes.iter().any(|s| s == "permissions") {
                Held::Live(effective(state, access.app_id, access.user_id, None).await?)
            } else {
                Held::Listed(&[])
            }
        }
    })
}

/// The principal as `/verify` and `/authorize` describe it.
pub async fn describe(
    state: &AppState,
    principal: &crate::access::Principal,
) -> Result<serde_json::Value> {
    let live = match principal {
        crate::access::Principal::EndUser(user) => {
            Some(effective(state, user.app_id, user.user_id, user.org_id).await?)
        }
        _ => None,
    };
    Ok(describe_with(principal, live.as_deref()))
}

/// [`describe`] with what [`held_by`] already read (`/authorize`: one cache read).
pub fn describe_held(principal: &crate::access::Principal, held: &Held<'_>) -> serde_json::Value {
    match (principal, held) {
        (crate::access::Principal::EndUser(_), Held::Live(live)) => {
            describe_with(principal, Some(live))
        }
        _ => describe_with(principal, None),
    }
}

/// `live` is the end user's effective access (required for an end user).
fn describe_with(
    principal: &crate::access::Principal,
    live: Option<&Effective>,
) -> serde_json::Value {
    use crate::access::Principal;
    use serde_json::json;
    match principal {
        Principal::Root { key_id } => json!({ "id": key_id, "type": "root" }),
        Principal::AppKey { app_id, key_id } => {
            json!({ "id": key_id, "type": "api_key", "app_id": app_id })
        }
        Principal::EndUser(user) => {
            let mut out = json!({
                "id": user.user_id,
                "type": "end_user",
                "app_id": user.app_id,
                "session_id": user.session_id,
            });
            if let Some(live) = live {
                out["role"] = json!(live.role);
                if let Some(org_id) = live.org_id {
                    out["org_id"] = json!(org_id);
                    out["org_role"] = json!(live.org_role);
                }
            }
            out
        }
        Principal::M2m(client) => json!({
            "id": client.client_id,
            "type": "m2m",
            "app_id": client.app_id,
            "scopes": client.scopes,
        }),
        Principal::OAuth(access) => json!({
            "id": access.user_id,
            "type": "oauth",
            "app_id": access.app_id,
            "client_id": access.client_id,
            "scopes": access.scopes,
        }),
    }
}
