//! Permissions: `resource` + separator + `action` (`invoice.read`, `billing:write`),
//! lowercase `[a-z0-9_-]`, with `*` as the whole action (`oauth_clients:*`) or the
//! whole permission. The separator is notation only: `invoice.read` and
//! `invoice:read` name the same permission.
//!
//! [`Permission`] names the ones Heimdall itself checks. Apps define any others in
//! their role catalogues; those are plain strings.

use std::fmt;

/// A permission Heimdall checks before one of its own operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission(&'static str);

impl Permission {
    /// Read users, their sessions and identities.
    pub const USER_READ: Self = Self("user.read");
    /// Create, change, deactivate and delete users; revoke their sessions.
    pub const USER_UPDATE: Self = Self("user.update");
    /// Invite users.
    pub const USER_INVITE: Self = Self("user.invite");
    /// Give users roles (never one with permissions the giver lacks).
    pub const ROLE_ASSIGN: Self = Self("role.assign");
    /// Create, change and delete roles.
    pub const ROLE_MANAGE: Self = Self("role.manage");
    /// Create and change tenants and their members.
    pub const TENANT_MANAGE: Self = Self("tenant.manage");
    /// See every OAuth client of the app, not only one's own.
    pub const OAUTH_CLIENTS_READ: Self = Self("oauth_clients:read");
    /// Change any OAuth client of the app.
    pub const OAUTH_CLIENTS_UPDATE: Self = Self("oauth_clients:update");
    /// Delete any OAuth client of the app.
    pub const OAUTH_CLIENTS_DELETE: Self = Self("oauth_clients:delete");
    /// Read the app's audit log.
    pub const AUDIT_READ: Self = Self("audit.read");

    /// Every permission Heimdall checks (the `admin` system role holds them all).
    pub const BUILTIN: [Self; 10] = [
        Self::USER_READ,
        Self::USER_UPDATE,
        Self::USER_INVITE,
        Self::ROLE_ASSIGN,
        Self::ROLE_MANAGE,
        Self::TENANT_MANAGE,
        Self::OAUTH_CLIENTS_READ,
        Self::OAUTH_CLIENTS_UPDATE,
        Self::OAUTH_CLIENTS_DELETE,
        Self::AUDIT_READ,
    ];

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl AsRef<str> for Permission {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn is_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 64
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Splits a valid permission into (resource, action); `*` is `("*", "*")`.
pub fn split(permission: &str) -> Option<(&str, &str)> {
    if permission == "*" {
        return Some(("*", "*"));
    }
    let at = permission.find(['.', ':'])?;
    let (resource, action) = (&permission[..at], &permission[at + 1..]);
    (is_part(resource) && (action == "*" || is_part(action))).then_some((resource, action))
}

/// Whether `held` grants `required`.
pub fn grants(held: &str, required: &str) -> bool {
    match (split(held), split(required)) {
        (Some(("*", "*")), Some(_)) => true,
        (Some((hr, ha)), Some((rr, ra))) => hr == rr && (ha == "*" || ha == ra),
        _ => false,
    }
}

/// Whether any of `held` grants `required`.
pub fn holds(held: &[String], required: &str) -> bool {
    held.iter().any(|h| grants(h, required))
}

/// The permissions of `required` that `held` does not grant.
pub fn missing<S: AsRef<str>>(held: &[String], required: &[S]) -> Vec<String> {
    required
        .iter()
        .map(AsRef::as_ref)
        .filter(|r| !holds(held, r))
        .map(str::to_owned)
        .collect()
}
