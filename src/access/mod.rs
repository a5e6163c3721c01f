//! Who is calling and what they may do: the bottom of the authorization design.
//!
//! - [`Principal`]: an authenticated caller (root key, app key, an end user's or a
//!   machine client's token, an OAuth client's token), and the [`Actor`] that audit
//!   entries record for it.
//! - [`Permission`]: the permissions Heimdall itself checks, as typed constants, and
//!   the matching rules (`*` wildcards, `.` and `:` alike).
//! - Capabilities ([`RootAccess`], [`AppAdmin`], [`AppAccess`], [`TenantAccess`],
//!   [`Me`]): what a service entry point takes. The guard
//!   (`services::guard`) is the only code that grants them; every service checks
//!   the permission its operation needs on the capability it is given. Handlers and
//!   resolvers ask the guard for a capability and call a service: they name no
//!   permission, so REST and GraphQL cannot disagree.
//!
//! This module imports nothing above it (no services, http or graphql).

pub mod capability;
pub mod permission;

pub use capability::{AppAccess, AppAdmin, Held, Me, MfaSubject, MfaVia, RootAccess, TenantAccess};
pub use permission::Permission;

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
    /// The DPoP key the token is bound to (RFC 9449 `cnf.jkt`).
    pub dpop_jkt: Option<String>,
    /// The API resource the token is for (RFC 8707; `aud`).
    pub resource: Option<String>,
    /// The acting party of an exchanged token (RFC 8693 `act`).
    pub act: Option<serde_json::Value>,
}

/// The verified claims of an end-user access token.
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
    /// How the session authenticated (RFC 8176 `amr`), from the token.
    pub amr: Vec<String>,
    /// When the user authenticated (`auth_time`), from the token.
    pub auth_time: Option<i64>,
}

/// The verified claims of an M2M access token.
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
