//! Capabilities: a value a service entry point takes, proving who the caller is in
//! which app and what they hold. Only `services::guard` grants them (a test checks
//! that no other module calls a `grant`); each service checks, on the capability
//! it is given, the permission its operation needs.
//!
//! | capability | who gets it | grants |
//! |---|---|---|
//! | [`RootAccess`] | a root key | operations across apps (create, delete, list apps) |
//! | [`AppAdmin`] | a root key or the app's key | everything inside one app |
//! | [`AppAccess`] | any principal of the app (keys, end users, machine clients, OAuth tokens) | what it holds: keys everything, others their permissions |
//! | [`TenantAccess`] | as [`AppAccess`], for one tenant | what it holds, the caller's role in that tenant included |
//! | [`Me`] | an end user's token of the app | the user's own account |
//! | [`MfaSubject`] | an end user's token, or a sign-in's `hm_mfa_` enrolment token | the user's own second factors |

use std::{ops::Deref, sync::Arc};

use entity::app;
use uuid::Uuid;

use super::{Actor, EndUser, Permission, permission};
use crate::error::{Error, Result};

/// The holder may do anything a root key may do.
#[derive(Clone, Debug)]
pub struct RootAccess {
    actor: Actor,
}

impl RootAccess {
    /// Granted by the guard only.
    pub fn grant(actor: Actor) -> Self {
        Self { actor }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

/// The holder administers one app with a key: a root key or the app's own key.
/// Everything inside the app is allowed.
#[derive(Clone, Debug)]
pub struct AppAdmin {
    app: Arc<app::Model>,
    actor: Actor,
}

impl AppAdmin {
    /// Granted by the guard only.
    pub fn grant(app: Arc<app::Model>, actor: Actor) -> Self {
        Self { app, actor }
    }

    pub fn app(&self) -> &app::Model {
        &self.app
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The same key as an [`AppAccess`] (which holds everything).
    pub fn access(&self) -> AppAccess {
        AppAccess {
            app: self.app.clone(),
            actor: self.actor.clone(),
            held: Held::All,
            user_id: None,
        }
    }
}

/// What a capability's holder holds: everything (root, app keys) or a set of
/// permissions (end users: their effective permissions; machine clients: their
/// scopes; OAuth tokens: nothing).
#[derive(Clone, Debug)]
pub enum Held {
    All,
    Only(Arc<Vec<String>>),
}

/// The holder is a principal of one app and holds [`Held`]. Services check the
/// permissions their operation needs with [`AppAccess::require`].
#[derive(Clone, Debug)]
pub struct AppAccess {
    app: Arc<app::Model>,
    actor: Actor,
    held: Held,
    user_id: Option<Uuid>,
}

impl AppAccess {
    /// Granted by the guard only. `user_id` is the end user acting, if any.
    pub fn grant(app: Arc<app::Model>, actor: Actor, held: Held, user_id: Option<Uuid>) -> Self {
        Self {
            app,
            actor,
            held,
            user_id,
        }
    }

    pub fn app(&self) -> &app::Model {
        &self.app
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn held(&self) -> &Held {
        &self.held
    }

    /// Root or the app's key: every permission.
    pub fn is_key(&self) -> bool {
        matches!(self.held, Held::All)
    }

    /// The end user behind the capability (their own token), for rules about
    /// one's own things (one's sessions, the OAuth clients one owns).
    pub fn acting_user(&self) -> Option<Uuid> {
        self.user_id
    }

    /// 403 with `details.missing` unless every permission of `required` is held.
    pub fn require(&self, required: &[Permission]) -> Result<()> {
        self.check_can_grant(required)
    }

    /// 403 unless one of `any_of` is held; the error names the last.
    pub fn require_any(&self, any_of: &[Permission]) -> Result<()> {
        let mut outcome = Ok(());
        for one in any_of {
            outcome = self.require(&[*one]);
            if outcome.is_ok() {
                break;
            }
        }
        outcome
    }

    /// Caller-narrowing: nobody grants (assigns, or puts into a role) a permission
    /// they do not hold. 403 with `details.missing` otherwise.
    pub fn check_can_grant<S: AsRef<str>>(&self, permissions: &[S]) -> Result<()> {
        match &self.held {
            Held::All => Ok(()),
            Held::Only(held) => {
                let missing = permission::missing(held, permissions);
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(Error::missing_permissions(missing))
                }
            }
        }
    }
}

/// [`AppAccess`] within one tenant: what the holder holds includes their role in
/// that tenant, so a tenant's own administrators administer its members.
#[derive(Clone, Debug)]
pub struct TenantAccess {
    access: AppAccess,
    tenant_id: Uuid,
}

impl TenantAccess {
    /// Granted by the guard only.
    pub fn grant(access: AppAccess, tenant_id: Uuid) -> Self {
        Self { access, tenant_id }
    }

    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

impl Deref for TenantAccess {
    type Target = AppAccess;

    fn deref(&self) -> &AppAccess {
        &self.access
    }
}

/// The holder is an end user of the app, acting on their own account.
#[derive(Clone, Debug)]
pub struct Me {
    app: Arc<app::Model>,
    user: EndUser,
}

impl Me {
    /// Granted by the guard only.
    pub fn grant(app: Arc<app::Model>, user: EndUser) -> Self {
        Self { app, user }
    }

    pub fn app(&self) -> &app::Model {
        &self.app
    }

    /// The verified claims of the user's access token.
    pub fn user(&self) -> &EndUser {
        &self.user
    }

    pub fn user_id(&self) -> Uuid {
        self.user.user_id
    }

    pub fn session_id(&self) -> Uuid {
        self.user.session_id
    }

    pub fn actor(&self) -> Actor {
        Actor {
            kind: "end_user",
            id: self.user.user_id.to_string(),
        }
    }
}

/// How an [`MfaSubject`] was admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaVia {
    /// The user's own access token, of this session.
    Session(Uuid),
    /// The `hm_mfa_` token of a sign-in that must enrol a factor before it gets
    /// tokens (this challenge): enrolment only.
    Enrolment(Uuid),
}

/// The holder manages the second factors of one end user of the app: the user
/// themselves (their access token), or a sign-in that must enrol a first factor.
#[derive(Clone, Debug)]
pub struct MfaSubject {
    app: Arc<app::Model>,
    user_id: Uuid,
    via: MfaVia,
}

impl MfaSubject {
    /// Granted by the guard only.
    pub fn grant(app: Arc<app::Model>, user_id: Uuid, via: MfaVia) -> Self {
        Self { app, user_id, via }
    }

    pub fn app(&self) -> &app::Model {
        &self.app
    }

    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    pub fn via(&self) -> MfaVia {
        self.via
    }

    pub fn actor(&self) -> Actor {
        Actor {
            kind: "end_user",
            id: self.user_id.to_string(),
        }
    }
}
