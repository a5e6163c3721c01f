//! What the discovery documents (OpenID configuration and RFC 8414 metadata) say about
//! the OAuth extensions (docs/src/oauth-extensions.md).

use serde_json::{Value, json};

use super::registration::DynamicRegistration;
use crate::services::apps::AppSettings;

/// Client authentication methods of the token, revocation and PAR endpoints.
pub const AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

/// Algorithms of client assertions (RFC 7523).
pub const ASSERTION_ALGS: [&str; 4] = ["RS256", "ES256", "EdDSA", "HS256"];

/// Adds the extensions' fields to a discovery document.
pub fn extend(doc: &mut Value, settings: &AppSettings, endpoint_base: &str) {
    let Some(map) = doc.as_object_mut() else {
        return;
    };
    if settings.dynamic_registration != DynamicRegistration::Off {
        map.insert(
            "registration_endpoint".into(),
            json!(format!("{endpoint_base}/v1/oauth/register")),
        );
    }
    map.insert(
        "device_authorization_endpoint".into(),
        json!(format!("{endpoint_base}/v1/oauth/device_authorization")),
    );
    if let Some(Value::Array(grants)) = map.get_mut("grant_types_supported") {
        grants.push(json!(super::device::GRANT_TYPE));
        grants.push(json!(super::exchange::GRANT_TYPE));
    }
    map.insert(
        "pushed_authorization_request_endpoint".into(),
        json!(format!("{endpoint_base}/v1/oauth/par")),
    );
    map.insert(
        "require_pushed_authorization_requests".into(),
        json!(settings.require_pushed_authorization_requests),
    );
    for key in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        map.insert(key.into(), json!(AUTH_METHODS));
    }
    for key in [
        "token_endpoint_auth_signing_alg_values_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
    ] {
        map.insert(key.into(), json!(ASSERTION_ALGS));
    }
    // RFC 9449 §5.1.
    map.insert(
        "dpop_signing_alg_values_supported".into(),
        json!(super::dpop::ALGS),
    );
}
