//! Client authentication with a JWT assertion (RFC 7523 §2.2, OIDC Core §9):
//! `private_key_jwt` (signed with a key of the client's registered `jwks`, or of the
//! set it publishes at its `jwks_uri`) and
//! `client_secret_jwt` (HMAC with the client secret). The assertion's `iss` and `sub`
//! are the client, its `aud` names this authorization server, it expires within an
//! hour, and its `jti` is accepted once (docs/src/oauth-extensions.md).

use entity::{oauth_client, oauth_client_settings};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::Deserialize;

use super::{OAuthError, clients};
use crate::state::AppState;

/// `client_assertion_type` of RFC 7523 §2.2.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest an assertion may live (`exp` − now).
pub const MAX_LIFETIME_SECONDS: i64 = 3600;

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: Option<String>,
}

/// The client an assertion names (`iss`, or `sub`), read without verification, so
/// that the client (and its keys) can be found.
pub fn asserted_client_id(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = crate::crypto::b64url_decode(payload)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get("sub")
        .or_else(|| value.get("iss"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

const ASYMMETRIC: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verifies `assertion` for `client`; `audiences` are the values `aud` may name.
pub async fn verify(
    state: &AppState,
    client: &oauth_client::Model,
    settings: Option<&oauth_client_settings::Model>,
    assertion: &str,
    audiences: &[String],
) -> Result<(), OAuthError> {
    let failed = |why: &str| OAuthError::invalid_client(format!("client assertion refused: {why}"));
    if assertion.len() > 16 * 1024 {
        return Err(failed("too large"));
    }
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| failed("malformed JWT"))?;
    let client_id = client.id.to_string();
    let mut validation = Validation::new(header.alg);
    validation.set_audience(audiences);
    validation.set_issuer(&[&client_id]);
    validation.sub = Some(client_id.clone());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.leeway = 30;
    let keys: Vec<DecodingKey> = if header.alg == Algorithm::HS256 {
        let secret = clients::open_secret(state, client)
            .map_err(|_| failed("the client has no secret for client_secret_jwt"))?
            .ok_or_else(|| failed("the client is not registered for client_secret_jwt"))?;
        vec![DecodingKey::from_secret(&secret)]
    } else if ASYMMETRIC.contains(&header.alg) {
        let inline: Option<JwkSet> = settings
            .and_then(|s| s.jwks.clone())
            .and_then(|jwks| serde_json::from_value(jwks).ok());
        let set = match (inline, settings.and_then(|s| s.jwks_uri.as_deref())) {
            (Some(set), _) => std::sync::Arc::new(set),
            // Published keys, cached; an unknown `kid` refetches (remote.rs).
            (None, Some(uri)) => state
                .client_documents
                .jwks(uri, header.kid.as_deref(), state.now())
                .await
                .map_err(|why| failed(&format!("the client's jwks_uri {why}")))?,
            (None, None) => {
                return Err(failed(
                    "the client has no registered keys (jwks or jwks_uri)",
                ));
            }
        };
        set.keys
            .iter()
            .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
            .filter_map(|k| DecodingKey::from_jwk(k).ok())
            .collect()
    } else {
        return Err(failed("algorithm not accepted"));
    };
    let mut claims = None;
    let mut last = "no registered key matches";
    for key in &keys {
        match jsonwebtoken::decode::<AssertionClaims>(assertion, key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => {
                last = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "expired",
                    jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                        "aud does not name this authorization server"
                    }
                    jsonwebtoken::errors::ErrorKind::InvalidIssuer
                    | jsonwebtoken::errors::ErrorKind::InvalidSubject => {
                        "iss and sub must be the client_id"
                    }
                    jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                        "iss, sub, aud and exp are required"
                    }
                    jsonwebtoken::errors::ErrorKind::ImmatureSignature => "not valid yet",
                    _ => "invalid signature",
                };
            }
        }
    }
    let claims = claims.ok_or_else(|| failed(last))?;
    let now = state.now().timestamp();
    if claims.exp - now > MAX_LIFETIME_SECONDS {
        return Err(failed("exp is more than an hour away"));
    }
    debug_assert!(claims.iss == claims.sub);
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| failed("jti is required"))?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp + 30, 0)
        .unwrap_or_else(|| state.now() + chrono::Duration::hours(1));
    if !super::jti::claim(state, "client_assertion", &client_id, &jti, expires_at).await? {
        return Err(failed("this assertion (jti) was already used"));
    }
    Ok(())
}
