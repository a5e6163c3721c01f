//! Who is calling, and what they may do. One extractor turns `Authorization` into a
//! [`Principal`] for REST and GraphQL alike; one guard ([`guard`]) turns a principal
//! into capabilities ([`AppAdmin`], [`RootAccess`]) that services require, so no
//! code path reaches an admin operation without passing the guard.

pub mod authenticate;
pub mod extract;
pub mod guard;

use std::sync::Arc;

use entity::app;
use serde::Serialize;
use uuid::Uuid;

/// An authenticated caller.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A root key; `key_id` is `None` for `HEIMDALL_ROOT_KEY`.
    Root { key_id: Option<Uuid> },
    /// An app key (PAK) of one app.
    AppKey { app_id: Uuid, key_id: Uuid },
    /// An end user's access token.
    EndUser(EndUser),
    /// A machine client's access token.
    M2m(M2m),
    /// An opaque access token (`hm_at_…`) issued to an OAuth client for a user.
    OAuth(OAuthAccess),
}

/// A live OAuth access token: the user it acts for, the client, the granted scopes.
#[derive(Clone, Debug)]
pub struct OAuthAccess {
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub client_id: Uuid,
    pub scopes: Vec<String>,
    pub token_id: Uuid,
    pub expires_at: i64,
    pub issued_at: i64,
}

/// The verified claims of an end-user access token (SPEC §4).
#[derive(Clone, Debug)]
pub struct EndUser {
    pub app_id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: String,
    pub org_id: Option<Uuid>,
    pub org_role: Option<String>,
    pub token_id: String,
    pub expires_at: i64,
    pub issued_at: i64,
}

/// The verified claims of an M2M access token (SPEC §4).
#[derive(Clone, Debug)]
pub struct M2m {
    pub app_id: Uuid,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub token_id: String,
    pub expires_at: i64,
    pub issued_at: i64,
}

impl Principal {
    /// The app a principal belongs to; `None` for root.
    pub fn app_id(&self) -> Option<Uuid> {
        match self {
            Principal::Root { .. } => None,
            Principal::AppKey { app_id, .. } => Some(*app_id),
            Principal::EndUser(u) => Some(u.app_id),
            Principal::M2m(m) => Some(m.app_id),
            Principal::OAuth(o) => Some(o.app_id),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::Root { key_id } => Actor {
                kind: "root",
                id: key_id
                    .map(|id| id.to_string())
                    .unwrap_or_else(|| "env".into()),
            },
            Principal::AppKey { key_id, .. } => Actor {
                kind: "api_key",
                id: key_id.to_string(),
            },
            Principal::EndUser(u) => Actor {
                kind: "end_user",
                id: u.user_id.to_string(),
            },
            Principal::M2m(m) => Actor {
                kind: "m2m",
                id: m.client_id.clone(),
            },
            // A user acting through a third-party client.
            Principal::OAuth(o) => Actor {
                kind: "end_user",
                id: o.user_id.to_string(),
            },
        }
    }

    /// Root or an app key: the administrative credentials.
    pub fn is_admin_key(&self) -> bool {
        matches!(self, Principal::Root { .. } | Principal::AppKey { .. })
    }
}

/// Who did something, as recorded in audit entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

/// Capability: the holder may do anything root may do. Only the guard creates it.
#[derive(Clone, Debug)]
pub struct RootAccess {
    actor: Actor,
}

impl RootAccess {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

/// What a capability's holder may grant: everything (root, app keys) or the
/// permissions it holds itself (end users and machine clients).
#[derive(Clone, Debug)]
pub enum Grants {
    All,
    Only(Arc<Vec<String>>),
}

/// Capability: the holder administers `app` — as a root key or the app's key, or as
/// an end user or machine client that passed the guard's permission check. Only the
/// guard creates it.
#[derive(Clone, Debug)]
pub struct AppAdmin {
    app: Arc<app::Model>,
    actor: Actor,
    grants: Grants,
}

impl AppAdmin {
    pub fn app(&self) -> &app::Model {
        &self.app
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Services re-check what they need (the guard checked the entry permission).
    pub fn require(&self, permissions: &[&str]) -> crate::error::Result<()> {
        self.check_can_grant(permissions)
    }

    /// Caller-narrowing: nobody grants (assigns, or puts into a role) a permission
    /// they do not hold. 403 with `details.missing` otherwise.
    pub fn check_can_grant<S: AsRef<str>>(&self, permissions: &[S]) -> crate::error::Result<()> {
        match &self.grants {
            Grants::All => Ok(()),
            Grants::Only(held) => {
                let missing = crate::services::permissions::missing(held, permissions);
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(crate::error::Error::missing_permissions(missing))
                }
            }
        }
    }
}
