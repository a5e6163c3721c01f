//! Role catalogues' permissions: validation, the system roles, stored form. The
//! grammar and matching rules are `access::permission`'s.

pub use crate::access::permission::{grants, holds, missing};
use crate::{
    access::{Permission, permission::split},
    error::{Error, Result},
};

/// Every permission Heimdall itself checks (the `admin` system role holds them all).
pub const BUILTIN_ADMIN: &[&str] = &{
    let mut names = [""; Permission::BUILTIN.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Permission::BUILTIN[i].as_str();
        i += 1;
    }
    names
};

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
