//! Permissions: `resource` + separator + `action` (`invoice.read`, `billing:write`),
//! lowercase `[a-z0-9_-]`, with `*` as the whole action (`oauth_clients:*`) or the
//! whole permission. The separator is notation only: `invoice.read` and
//! `invoice:read` name the same permission.

use crate::error::{Error, Result};

/// Every permission Heimdall itself checks (the `admin` system role holds them all).
pub const BUILTIN_ADMIN: &[&str] = &[
    "user.read",
    "user.update",
    "user.invite",
    "role.assign",
    "role.manage",
    "tenant.manage",
    "oauth_clients:read",
    "oauth_clients:update",
    "oauth_clients:delete",
    "audit.read",
];

/// A system role: created with every app, never deleted or changed.
pub struct SystemRole {
    pub name: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    pub permissions: &'static [&'static str],
}

pub const SYSTEM_ROLES: &[SystemRole] = &[
    SystemRole {
        name: "owner",
        display_name: "Owner",
        description: "Every permission.",
        permissions: &["*"],
    },
    SystemRole {
        name: "admin",
        display_name: "Administrator",
        description: "Every built-in administration permission.",
        permissions: BUILTIN_ADMIN,
    },
    SystemRole {
        name: "developer",
        display_name: "Developer",
        description: "Manages OAuth clients and API keys.",
        permissions: &["oauth_clients:*", "api_keys:*"],
    },
    SystemRole {
        name: "member",
        display_name: "Member",
        description: "No permissions.",
        permissions: &[],
    },
];

pub fn system_role(name: &str) -> Option<&'static SystemRole> {
    SYSTEM_ROLES.iter().find(|r| r.name == name)
}

pub const MAX_PERMISSIONS_PER_ROLE: usize = 500;

fn is_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 64
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Splits a valid permission into (resource, action); `*` is `("*", "*")`.
fn split(permission: &str) -> Option<(&str, &str)> {
    if permission == "*" {
        return Some(("*", "*"));
    }
    let at = permission.find(['.', ':'])?;
    let (resource, action) = (&permission[..at], &permission[at + 1..]);
    (is_part(resource) && (action == "*" || is_part(action))).then_some((resource, action))
}

/// Validates one permission string.
pub fn validate(permission: &str) -> Result<()> {
    if split(permission).is_some() {
        Ok(())
    } else {
        Err(Error::InvalidRequest {
            message: format!(
                "'{permission}' is not a permission: use resource.action or resource:action \
                 (lowercase a-z, 0-9, '_', '-'; '*' as the whole action or the whole permission)"
            ),
            details: Some(
                serde_json::json!({ "fields": { "permissions": permission }, "invalid": [permission] }),
            ),
        })
    }
}

/// Validates a list, returning it sorted and without duplicates.
pub fn normalise(permissions: &[String]) -> Result<Vec<String>> {
    if permissions.len() > MAX_PERMISSIONS_PER_ROLE {
        return Err(Error::invalid_field(
            "permissions",
            format!("at most {MAX_PERMISSIONS_PER_ROLE} permissions per role"),
        ));
    }
    for p in permissions {
        validate(p)?;
    }
    let mut out = permissions.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
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

/// Reads a role's stored permission array.
pub fn of_json(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        for ok in [
            "invoice.read",
            "billing:write",
            "oauth_clients:*",
            "*",
            "a-b.c_d",
            "x1:y2",
            "user.read",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "invoice",
            "Invoice.read",
            "invoice.",
            ".read",
            "*.read",
            "invoice.re*d",
            "a.b.c",
            "a:b:c",
            "invoice read",
            "invoice.read\u{0}",
            "*:*x",
            "**",
            "invoice/read",
            "ü.read",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        let err = validate("Bad:Perm").unwrap_err();
        assert!(err.to_string().contains("Bad:Perm"));
    }

    #[test]
    fn wildcards_and_separators() {
        assert!(grants("*", "invoice.read"));
        assert!(grants("*", "oauth_clients:*"));
        assert!(grants("invoice:*", "invoice.refund"));
        assert!(grants("invoice.*", "invoice:refund"));
        assert!(
            grants("invoice.read", "invoice:read"),
            "the separator is notation"
        );
        assert!(!grants("invoice.read", "invoice.refund"));
        assert!(!grants("invoice.*", "billing.read"));
        assert!(
            !grants("invoice.read", "invoice:*"),
            "a wildcard requirement needs a wildcard"
        );
        assert!(grants("invoice:*", "invoice.*"));
        assert!(!grants("invoice.read", "*"));
        let held = vec!["billing:read".to_owned(), "invoice.*".to_owned()];
        assert_eq!(
            missing(&held, &["billing.read", "invoice.refund", "user.update"]),
            vec!["user.update"]
        );
    }

    #[test]
    fn normalise_sorts_and_dedups() {
        let out = normalise(&["b.x".into(), "a.y".into(), "b.x".into()]).unwrap();
        assert_eq!(out, vec!["a.y", "b.x"]);
    }
}
