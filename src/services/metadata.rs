//! Custom attributes of users (docs/src/importing-users-and-scim.md): `user_metadata`
//! (the user may edit it) and `app_metadata` (administrators only), JSON objects of
//! at most 16 KiB each; list filters by top-level key equality; and the app setting
//! `token_claims` that copies chosen values into access and ID tokens.

use std::collections::BTreeMap;

use entity::user;
use sea_orm::{DbBackend, sea_query::Expr};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Largest accepted metadata object, serialised, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;

/// Which of the two objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    User,
    App,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::User => "user_metadata",
            Which::App => "app_metadata",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Which::User => "user_metadata",
            Which::App => "app_metadata",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user_metadata" => Some(Which::User),
            "app_metadata" => Some(Which::App),
            _ => None,
        }
    }
}

/// Checks a metadata value: a JSON object of at most [`MAX_BYTES`]; 400 naming
/// `field` otherwise.
pub fn check(field: &str, value: &Value) -> Result<Value> {
    if !value.is_object() {
        return Err(Error::invalid_field(field, "must be a JSON object"));
    }
    let size = value.to_string().len();
    if size > MAX_BYTES {
        return Err(Error::invalid_field(
            field,
            format!("must be at most {MAX_BYTES} bytes of JSON (is {size})"),
        ));
    }
    if contains_nul(value) {
        return Err(Error::invalid_field(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(value.clone())
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// The stored object, `{}` when none is stored.
pub fn object_of(stored: &Option<Value>) -> Value {
    match stored {
        Some(value @ Value::Object(_)) => value.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// RFC 7396 merge patch of `patch` onto `current` (`null` removes a key), checked.
pub fn merged(field: &str, current: &Option<Value>, patch: &Value) -> Result<Value> {
    if !patch.is_object() {
        return Err(Error::invalid_field(field, "must be a JSON object"));
    }
    let mut out = object_of(current);
    merge(&mut out, patch);
    check(field, &out)
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    let slot = target.entry(key.clone()).or_insert(Value::Null);
                    if slot.is_object() && value.is_object() {
                        merge(slot, value);
                    } else {
                        *slot = value.clone();
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// A list filter: the top-level `key` of one object equals `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub which: Which,
    pub key: String,
    pub value: Value,
}

fn key_ok(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Filter {
    /// From a query parameter `app_metadata.plan=pro`: the value is JSON when it
    /// parses as JSON (`5`, `true`, `"007"`), else the string itself.
    pub fn from_param(name: &str, value: &str) -> Result<Option<Self>> {
        let Some((object, key)) = name.split_once('.') else {
            return Ok(None);
        };
        let Some(which) = Which::parse(object) else {
            return Ok(None);
        };
        Self::new(which, key, value).map(Some)
    }

    pub fn new(which: Which, key: &str, value: &str) -> Result<Self> {
        let field = format!("{}.{key}", which.name());
        if !key_ok(key) {
            return Err(Error::invalid_field(
                &field,
                "metadata filters name a top-level key of 1-64 characters of A-Z, a-z, 0-9, '_' and '-'",
            ));
        }
        let value = serde_json::from_str::<Value>(value)
            .ok()
            .filter(|v| !v.is_object() && !v.is_array())
            .unwrap_or_else(|| Value::String(value.to_owned()));
        if let Value::String(s) = &value
            && (s.contains('\0') || s.len() > 1024)
        {
            return Err(Error::invalid_field(&field, "is not a valid filter value"));
        }
        Ok(Self {
            which,
            key: key.to_owned(),
            value,
        })
    }

    /// The SQL condition, per backend. The key is restricted to `[A-Za-z0-9_-]`
    /// (checked in [`Filter::new`]), so it may stand in the JSON path; the value is
    /// a bound parameter.
    pub fn condition(&self, backend: DbBackend) -> sea_orm::sea_query::SimpleExpr {
        let column = self.which.column();
        let value = self.value.to_string();
        match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                format!(
                    "(\"users\".\"{column}\"::jsonb -> '{}') = CAST($1 AS jsonb)",
                    self.key
                ),
                [value],
            ),
            _ => Expr::cust_with_values(
                format!(
                    "(json_type(\"users\".\"{column}\", '$.\"{key}\"') IS NOT NULL AND \
                     json_extract(\"users\".\"{column}\", '$.\"{key}\"') IS json_extract(?, '$'))",
                    key = self.key
                ),
                [value],
            ),
        }
    }
}

/// Claims registered by Heimdall, JWT (RFC 7519) and OpenID Connect: never set from
/// metadata.
pub const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "aid",
    "sid",
    "role",
    "type",
    "org_id",
    "org_role",
    "permissions",
    "amr",
    "auth_time",
    "acr",
    "azp",
    "nonce",
    "at_hash",
    "c_hash",
    "s_hash",
    "scope",
    "scopes",
    "client_id",
    "cnf",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "roles",
    "role_ids",
    "sid",
    "act",
    "may_act",
    "events",
    "typ",
];

/// Validates the `token_claims` setting: claim name → `app_metadata.<path>` or
/// `user_metadata.<path>`.
pub fn check_token_claims(field: &str, claims: &BTreeMap<String, String>) -> Result<()> {
    if claims.len() > 50 {
        return Err(Error::invalid_field(field, "at most 50 claims"));
    }
    for (claim, source) in claims {
        let field = format!("{field}.{claim}");
        if !key_ok(claim) {
            return Err(Error::invalid_field(
                &field,
                "claim names are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'",
            ));
        }
        if REGISTERED_CLAIMS.contains(&claim.as_str()) {
            return Err(Error::invalid_field(
                &field,
                "is a registered claim and cannot be mapped from metadata",
            ));
        }
        let valid = source.split_once('.').is_some_and(|(object, path)| {
            Which::parse(object).is_some() && path.split('.').all(key_ok)
        });
        if !valid {
            return Err(Error::invalid_field(
                &field,
                "must be app_metadata.<key> or user_metadata.<key> (keys separated by '.')",
            ));
        }
    }
    Ok(())
}

/// The claims `token_claims` maps for `user`: only values present, never a
/// registered claim.
pub fn token_claims(mapping: &BTreeMap<String, String>, user: &user::Model) -> Map<String, Value> {
    let mut out = Map::new();
    for (claim, source) in mapping {
        if REGISTERED_CLAIMS.contains(&claim.as_str()) {
            continue;
        }
        let Some((object, path)) = source.split_once('.') else {
            continue;
        };
        let root = match Which::parse(object) {
            Some(Which::App) => &user.app_metadata,
            Some(Which::User) => &user.user_metadata,
            None => continue,
        };
        let mut at = match root {
            Some(value) => value,
            None => continue,
        };
        let mut found = true;
        for key in path.split('.') {
            match at.get(key) {
                Some(next) => at = next,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found && !at.is_null() {
            out.insert(claim.clone(), at.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn size_and_shape() {
        assert!(check("m", &json!([])).is_err());
        assert!(check("m", &json!({"a": "x".repeat(MAX_BYTES)})).is_err());
        assert!(check("m", &json!({"a": 1})).is_ok());
        let merged = merged(
            "m",
            &Some(json!({"a": 1, "b": {"c": 1}})),
            &json!({"a": null, "b": {"d": 2}}),
        )
        .unwrap();
        assert_eq!(merged, json!({"b": {"c": 1, "d": 2}}));
    }

    #[test]
    fn filters_and_claims() {
        let f = Filter::from_param("app_metadata.plan", "pro")
            .unwrap()
            .unwrap();
        assert_eq!(f.value, json!("pro"));
        let f = Filter::from_param("app_metadata.seats", "5")
            .unwrap()
            .unwrap();
        assert_eq!(f.value, json!(5));
        assert!(Filter::from_param("app_metadata.a'b", "5").is_err());
        assert!(Filter::from_param("limit", "5").unwrap().is_none());
        let mut mapping = BTreeMap::new();
        mapping.insert("plan".to_owned(), "app_metadata.billing.plan".to_owned());
        assert!(check_token_claims("settings.token_claims", &mapping).is_ok());
        mapping.insert("sub".to_owned(), "app_metadata.x".to_owned());
        assert!(check_token_claims("settings.token_claims", &mapping).is_err());
    }
}
