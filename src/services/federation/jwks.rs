//! Upstream signing keys and ID-token verification.
//!
//! A provider's JWKS is fetched once and cached for [`JWKS_TTL`]. A token whose `kid`
//! is not in the cached set triggers at most one refetch, and concurrent misses share
//! that one fetch (single flight: they queue on the URL's slot and find the fresh
//! set). Refetches are spaced by [`REFETCH_COOLDOWN`], so that tokens with made-up
//! key ids cannot make Heimdall hammer the provider.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use moka::future::Cache;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use url::Url;

use super::outbound::Outbound;
use crate::{
    crypto::{
        self,
        jwt::{self, JwtError},
        keys::{PublicKey, SigningAlg},
    },
    error::{Error, Result},
    state::AppState,
};

pub const JWKS_TTL: Duration = Duration::hours(1);
pub const REFETCH_COOLDOWN: Duration = Duration::seconds(10);
/// Clock skew tolerated on `exp`, `nbf` and `iat` of upstream tokens.
pub const LEEWAY_SECONDS: i64 = 60;
/// At most this many keys are kept from one JWKS.
const MAX_KEYS: usize = 100;

/// The error code of every refused upstream token.
pub const INVALID_TOKEN: &str = "invalid_identity_token";

#[derive(Default)]
struct Slot {
    keys: Vec<Value>,
    fetched_at: Option<DateTime<Utc>>,
}

impl Slot {
    fn lookup(&self, kid: Option<&str>) -> Option<Value> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                .cloned(),
            // Without a kid, only an unambiguous set will do.
            None if self.keys.len() == 1 => self.keys.first().cloned(),
            None => None,
        }
    }
}

/// Per-instance cache of upstream key sets, by JWKS URL.
#[derive(Clone)]
pub struct JwksCache {
    slots: Cache<String, Arc<Mutex<Slot>>>,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::new()
    }
}

impl JwksCache {
    pub fn new() -> Self {
        Self {
            slots: Cache::builder().max_capacity(10_000).build(),
        }
    }

    /// The key `kid` of the set at `url`, fetching or refetching as described above.
    /// `Ok(None)`: the provider does not publish that key.
    pub async fn find(
        &self,
        http: &Outbound,
        url: &Url,
        kid: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Value>> {
        let slot = self
            .slots
            .get_with(url.to_string(), async {
                Arc::new(Mutex::new(Slot::default()))
            })
            .await;
        // Holding the slot while fetching is the single flight: concurrent misses
        // wait here, then find the fresh set (or the cooldown) and do not fetch again.
        let mut slot = slot.lock().await;
        if let Some(fetched_at) = slot.fetched_at
            && now - fetched_at < JWKS_TTL
        {
            if let Some(key) = slot.lookup(kid) {
                return Ok(Some(key));
            }
            if now - fetched_at < REFETCH_COOLDOWN {
                return Ok(None);
            }
        }
        let document = http.get_json(url, "the identity provider's JWKS").await?;
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::Unavailable("the identity provider's JWKS has no `keys` array".into())
            })?
            .iter()
            .filter(|k| k.get("use").and_then(Value::as_str).unwrap_or("sig") == "sig")
            .take(MAX_KEYS)
            .cloned()
            .collect();
        slot.keys = keys;
        slot.fetched_at = Some(now);
        Ok(slot.lookup(kid))
    }
}

/// How the `nonce` claim is checked.
pub enum NonceCheck<'a> {
    /// Not checked (Apple native sign-in without a client nonce).
    Skip,
    /// Must equal the hex SHA-256 of this value (Apple native: the app hashes its
    /// nonce before handing it to Apple).
    Sha256Of(&'a str),
    /// Must hash (keyed, see `SecretHasher`) to this stored value (web flows).
    Stored(&'a str),
}

/// What a verified upstream ID token must say.
pub struct Expected<'a> {
    pub jwks_url: &'a Url,
    pub issuer: &'a str,
    /// The token's `aud` must contain one of these.
    pub audiences: &'a [String],
    /// Algorithms accepted at all; the key's own algorithm is then enforced.
    pub algorithms: &'a [SigningAlg],
    pub nonce: NonceCheck<'a>,
}

fn refused(message: impl Into<String>) -> Error {
    Error::rejected(INVALID_TOKEN, message)
}

fn from_jwt(e: JwtError) -> Error {
    refused(format!("the identity token is invalid: {e}"))
}

/// The algorithm a JWK is for: its `alg`, or what its key type implies.
fn jwk_algorithm(jwk: &Value) -> Option<SigningAlg> {
    if let Some(alg) = jwk.get("alg") {
        return alg.as_str().and_then(SigningAlg::parse);
    }
    match (
        jwk.get("kty").and_then(Value::as_str),
        jwk.get("crv").and_then(Value::as_str),
    ) {
        (Some("RSA"), _) => Some(SigningAlg::RS256),
        (Some("EC"), Some("P-256")) => Some(SigningAlg::ES256),
        (Some("OKP"), Some("Ed25519")) => Some(SigningAlg::EdDSA),
        _ => None,
    }
}

/// Verifies an upstream ID token (Apple's identity token or an OIDC `id_token`):
/// signature with the provider's key and that key's own algorithm, `iss`, `aud`
/// (and `azp` when there are several audiences), `exp`/`nbf`/`iat`, `nonce` and a
/// usable `sub`. Any failure is a 401 `invalid_identity_token` naming the reason.
pub async fn verify_id_token(
    state: &AppState,
    token: &str,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>> {
    let unverified = jwt::decode_unverified(token).map_err(from_jwt)?;
    let header_alg = SigningAlg::parse(&unverified.alg)
        .filter(|alg| expected.algorithms.contains(alg))
        .ok_or_else(|| {
            refused(format!(
                "the identity token is signed with {}, which is not accepted here",
                unverified.alg
            ))
        })?;
    let jwk = state
        .federation
        .jwks
        .find(
            &state.federation.http,
            expected.jwks_url,
            unverified.kid.as_deref(),
            state.now(),
        )
        .await?
        .ok_or_else(|| refused("the identity token's signing key (kid) is unknown"))?;
    let key_alg = jwk_algorithm(&jwk)
        .filter(|alg| expected.algorithms.contains(alg))
        .ok_or_else(|| refused("the provider's signing key has an unsupported algorithm"))?;
    if key_alg != header_alg {
        return Err(refused(
            "the identity token's algorithm does not match its signing key",
        ));
    }
    let key = PublicKey::from_jwk(key_alg, &jwk)
        .map_err(|e| refused(format!("the provider's signing key is unusable: {e}")))?;
    let claims = unverified.verify(&key).map_err(from_jwt)?;

    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(refused("the identity token's issuer (iss) is not accepted"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let accepted = |aud: &str| expected.audiences.iter().any(|a| a == aud);
    if !audiences.iter().any(|aud| accepted(aud)) {
        return Err(refused(
            "the identity token's audience (aud) is not one of this app's client ids",
        ));
    }
    if audiences.len() > 1
        && !claims
            .get("azp")
            .and_then(Value::as_str)
            .is_some_and(accepted)
    {
        return Err(refused(
            "the identity token has several audiences and no accepted authorized party (azp)",
        ));
    }
    jwt::validate_times(&claims, state.now().timestamp(), LEEWAY_SECONDS).map_err(from_jwt)?;
    let nonce = claims.get("nonce").and_then(Value::as_str);
    let nonce_ok = match expected.nonce {
        NonceCheck::Skip => true,
        NonceCheck::Sha256Of(raw) => nonce.is_some_and(|n| {
            crypto::ct_eq(
                n.to_ascii_lowercase().as_bytes(),
                crypto::sha256_hex(raw.as_bytes()).as_bytes(),
            )
        }),
        NonceCheck::Stored(hash) => nonce.is_some_and(|n| state.hasher.verify(n, hash)),
    };
    if !nonce_ok {
        return Err(refused(
            "the identity token's nonce does not match this sign-in",
        ));
    }
    let subject_ok = claims
        .get("sub")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control));
    if !subject_ok {
        return Err(refused("the identity token has no usable subject (sub)"));
    }
    Ok(claims)
}

/// A claim that providers send as a boolean or as the string `"true"` (Apple).
pub fn truthy(claims: &Map<String, Value>, name: &str) -> bool {
    match claims.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}
