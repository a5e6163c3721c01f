//! DPoP, RFC 9449 (docs/src/oauth-extensions.md#dpop): a client proves possession of
//! a key with a short JWT (`typ: dpop+jwt`, the public key in its `jwk` header) per
//! request; tokens issued with a proof are bound to the key's RFC 7638 thumbprint
//! (`cnf.jkt`) and are then accepted only with a proof of the same key.
//!
//! Checking a proof needs no database read: the signature is checked with the key
//! the proof carries, the `jti` is claimed in the shared replay cache (one insert),
//! and server nonces are stateless (a keyed hash of the app and a five-minute
//! window), so every instance accepts the nonces of the others.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};
use serde::Deserialize;
use serde_json::Value;

use crate::{crypto, error::Result, state::AppState};

/// `dpop_signing_alg_values_supported`.
pub const ALGS: [&str; 3] = ["ES256", "EdDSA", "RS256"];
/// The `Authorization` scheme and the header of proofs.
pub const SCHEME: &str = "DPoP";
/// A proof's `iat` may be this far in the past (seconds)…
pub const MAX_AGE_SECONDS: i64 = 300;
/// …and this far in the future (clock skew).
pub const MAX_SKEW_SECONDS: i64 = 60;
/// Server nonces change every five minutes; the previous one is still accepted.
const NONCE_WINDOW_SECONDS: i64 = 300;

/// Why a proof was refused: `invalid_dpop_proof`, or `use_dpop_nonce` (with the
/// nonce to use, also sent in the `DPoP-Nonce` header).
#[derive(Debug, Clone)]
pub struct ProofError {
    pub error: &'static str,
    pub description: String,
    pub nonce: Option<String>,
}

impl ProofError {
    pub fn invalid(why: impl Into<String>) -> Self {
        Self {
            error: "invalid_dpop_proof",
            description: format!("the DPoP proof is invalid: {}", why.into()),
            nonce: None,
        }
    }
}

/// What the proof must match.
pub struct Expected<'a> {
    /// The request's method.
    pub htm: &'a str,
    /// The URLs the request may have been sent to (the app's path, and the root
    /// path of the default app), without query.
    pub htu: &'a [String],
    /// The access token presented with the proof (resource requests: `ath`).
    pub access_token: Option<&'a str>,
    /// The app requires server nonces (`dpop_nonce_required`).
    pub app_id: uuid::Uuid,
    pub nonce_required: bool,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// The nonce of the current window for `app_id`.
pub fn current_nonce(state: &AppState, app_id: uuid::Uuid) -> String {
    nonce_for(
        state,
        app_id,
        state.now().timestamp() / NONCE_WINDOW_SECONDS,
    )
}

fn nonce_for(state: &AppState, app_id: uuid::Uuid, window: i64) -> String {
    let mut hash = state
        .hasher
        .hash(&format!("dpop-nonce\n{app_id}\n{window}"));
    hash.truncate(32);
    hash
}

fn nonce_ok(state: &AppState, app_id: uuid::Uuid, nonce: &str) -> bool {
    let window = state.now().timestamp() / NONCE_WINDOW_SECONDS;
    [window, window - 1]
        .iter()
        .any(|w| crypto::ct_eq(nonce_for(state, app_id, *w).as_bytes(), nonce.as_bytes()))
}

/// `htu` compared as RFC 9449 §4.3 says: without query and fragment, scheme and
/// host case-insensitive (the URL parser lowercases them and drops default ports).
pub fn normalise_htu(text: &str) -> Option<String> {
    let mut url = url::Url::parse(text).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url.to_string())
}

/// The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK, from its required
/// members in lexicographic order.
pub fn thumbprint(jwk: &serde_json::Map<String, Value>) -> Option<String> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    let quoted = |name: &str| member(name).map(|v| Value::String(v.to_owned()).to_string());
    let canonical = match member("kty")? {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            quoted("crv")?,
            quoted("x")?,
            quoted("y")?
        ),
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            quoted("e")?,
            quoted("n")?
        ),
        "OKP" => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            quoted("crv")?,
            quoted("x")?
        ),
        _ => return None,
    };
    Some(crypto::b64url(&crypto::sha256(canonical.as_bytes())))
}

/// `ath`: base64url(SHA-256(access token)).
pub fn access_token_hash(token: &str) -> String {
    crypto::b64url(&crypto::sha256(token.as_bytes()))
}

/// Verifies a proof; returns the thumbprint of its key.
pub async fn verify(
    state: &AppState,
    proof: &str,
    expected: &Expected<'_>,
) -> Result<std::result::Result<String, ProofError>> {
    let invalid = |why: &str| Ok(Err(ProofError::invalid(why)));
    if proof.len() > 8 * 1024 || proof.bytes().filter(|b| *b == b'.').count() != 2 {
        return invalid("not a JWT");
    }
    // The header as JSON, to check what the JOSE library does not keep (private
    // key members).
    let raw_header: Option<serde_json::Map<String, Value>> = proof
        .split('.')
        .next()
        .and_then(crypto::b64url_decode)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let Some(raw_header) = raw_header else {
        return invalid("malformed header");
    };
    if raw_header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return invalid("typ must be dpop+jwt");
    }
    let Some(raw_jwk) = raw_header.get("jwk").and_then(Value::as_object) else {
        return invalid("the header has no jwk");
    };
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| raw_jwk.contains_key(*m))
    {
        return invalid("the jwk must be a public key");
    }
    let Some(jkt) = thumbprint(raw_jwk) else {
        return invalid("the jwk is not an EC, RSA or OKP public key");
    };
    let Ok(header) = jsonwebtoken::decode_header(proof) else {
        return invalid("malformed header");
    };
    if !matches!(
        header.alg,
        Algorithm::ES256 | Algorithm::EdDSA | Algorithm::RS256
    ) {
        return invalid("alg must be ES256, EdDSA or RS256");
    }
    let Some(key) = header
        .jwk
        .as_ref()
        .and_then(|jwk: &Jwk| DecodingKey::from_jwk(jwk).ok())
    else {
        return invalid("the jwk is not a usable key");
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation) {
        Ok(data) => data.claims,
        Err(_) => return invalid("the signature does not verify with its jwk"),
    };
    let (Some(jti), Some(htm), Some(htu), Some(iat)) =
        (claims.jti, claims.htm, claims.htu, claims.iat)
    else {
        return invalid("jti, htm, htu and iat are required");
    };
    if jti.is_empty() || jti.len() > 256 {
        return invalid("jti must be 1 to 256 characters");
    }
    if htm != expected.htm {
        return invalid("htm does not match the request's method");
    }
    let htu_ok = normalise_htu(&htu).is_some_and(|htu| {
        expected
            .htu
            .iter()
            .any(|e| normalise_htu(e).as_deref() == Some(htu.as_str()))
    });
    if !htu_ok {
        return invalid("htu does not match the request's URL");
    }
    let now = state.now().timestamp();
    if iat > now + MAX_SKEW_SECONDS || iat < now - MAX_AGE_SECONDS {
        return invalid("iat is too far from the server's time");
    }
    match (expected.access_token, claims.ath.as_deref()) {
        (Some(token), Some(ath)) => {
            if !crypto::ct_eq(access_token_hash(token).as_bytes(), ath.as_bytes()) {
                return invalid("ath is not the hash of the access token");
            }
        }
        (Some(_), None) => return invalid("ath is required with an access token"),
        (None, _) => {}
    }
    if expected.nonce_required
        && !claims
            .nonce
            .as_deref()
            .is_some_and(|n| nonce_ok(state, expected.app_id, n))
    {
        return Ok(Err(ProofError {
            error: "use_dpop_nonce",
            description: "the DPoP proof must carry the server's nonce (DPoP-Nonce)".into(),
            nonce: Some(current_nonce(state, expected.app_id)),
        }));
    }
    let expires_at = chrono::DateTime::from_timestamp(iat + MAX_AGE_SECONDS + MAX_SKEW_SECONDS, 0)
        .unwrap_or_else(|| state.now() + chrono::Duration::minutes(10));
    if !super::jti::claim(state, "dpop", &jkt, &jti, expires_at).await? {
        return invalid("this proof (jti) was already used");
    }
    Ok(Ok(jkt))
}

/// The `WWW-Authenticate` value of a refusal at a protected resource.
pub fn challenge(error: &str) -> String {
    format!(
        r#"DPoP realm="heimdall", error="{error}", algs="{}""#,
        ALGS.join(" ")
    )
}

/// The public URLs of an endpoint of the app (`htu` candidates): at the app's own
/// path, and at the root path for the default app.
pub fn endpoint_urls(state: &AppState, app: &entity::app::Model, path: &str) -> Vec<String> {
    let mut out = vec![format!("{}{path}", state.issuer(&app.name))];
    if state.config.default_app.as_deref() == Some(app.name.as_str()) {
        out.push(format!("{}{path}", state.config.public_base()));
    }
    out
}
