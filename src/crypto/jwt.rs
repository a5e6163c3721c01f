//! Compact JWS (RFC 7515) for Heimdall's tokens and for the ID tokens of upstream
//! identity providers, hardened per RFC 8725 (JSON Web Token Best Current Practices).
//!
//! # Why this is not the `jsonwebtoken` crate
//!
//! Signing and verification are written here, directly on aws-lc-rs (the crypto
//! behind everything else in Heimdall), instead of going through `jsonwebtoken`
//! (a dev-dependency: the tests use it to check Heimdall's tokens the way clients
//! do). Two reasons:
//!
//! 1. **The RFC 8725 rules stand in front of every verification, in one place.**
//!    [`decode_unverified`] applies them before any key is looked up, to Heimdall's
//!    own tokens and to Apple's and OIDC providers' ID tokens alike:
//!    - a token longer than [`MAX_TOKEN_LEN`] (16 KiB) is refused before parsing;
//!    - it must be exactly three base64url parts, the header a JSON object;
//!    - `alg: none` (in any case) and every algorithm but RS256, ES256 and EdDSA are
//!      refused (§3.1, §3.2);
//!    - headers that point at other keys (`jku`, `jwk`, `x5u`, `x5c`, `x5t`,
//!      `x5t#S256`) are refused, not merely ignored, and so is `crit`, which demands
//!      processing this code does not do (§3.10; RFC 7515 §4.1.11);
//!    - `typ`, when present, must be `JWT` (§3.11), and `kid`, when present, a
//!      non-empty string of at most 128 characters (§3.10).
//!
//!    Then [`Unverified::verify`] takes a [`PublicKey`] that carries its one
//!    algorithm and refuses a header `alg` that differs: the algorithm is pinned to
//!    the key, never taken from the token (§3.1), so HS/RS confusion cannot happen.
//!    [`validate_times`] requires `exp` (no leeway) and checks `nbf` and `iat`
//!    against a leeway for clock skew. `jsonwebtoken` 10 checks the header's
//!    algorithm against the list its `Validation` is given and the key's family, but
//!    it parses and ignores `jku`, `jwk`, `x5u`, `x5c` and `crit`, does not look at
//!    `typ`, does not check `iat`, and applies one leeway to `exp` and `nbf` alike.
//! 2. **Signing is faster.** Heimdall parses each app's private key once and keeps it
//!    (`services::signing`); `jsonwebtoken` 10 makes a new signer, parsing the key's
//!    DER, on every `encode`, and for RSA that parse costs more than the signature.
//!
//! # What the benchmark says
//!
//! `benches/jws.rs` (`cargo bench --bench jws`) signs and verifies the same ES256,
//! EdDSA and RS256 tokens with this module and with `jsonwebtoken` on aws-lc-rs; its
//! figures are in the book, docs/src/benchmarks.md, "JWS signing and verification".
//! Signing with `jsonwebtoken` costs 2.3–2.7× as much for RS256 and 1.6–1.9× for
//! ES256 and EdDSA. Verification costs the same for ES256 and EdDSA (within the
//! ±10 % noise of the machine: the signature check is nearly all of it, and both
//! call the same aws-lc-rs routine); for RS256 `jsonwebtoken` is 1.2–1.3× slower,
//! as it builds the RSA public key from `n` and `e` for every token. So speed is a
//! reason to keep the signing side; on the verifying side it is not, and the reason
//! is the checks above.
//!
//! # Moving to `jsonwebtoken`
//!
//! Verification could move at little cost: none measurable for ES256 and EdDSA,
//! 1.2–1.3× for RS256 on a cache miss (`services::signing` caches verified tokens).
//! It must keep [`decode_unverified`]'s header rules in front (they cost a few
//! microseconds) and build, per key, a `Validation` with exactly the key's own
//! algorithm, no audience (issuers and audiences are the callers' checks), `exp`
//! required with a leeway of 0 (the crate's one leeway would apply to `exp` too),
//! and `nbf` and `iat` left to [`validate_times`]; and map the crate's errors to
//! [`JwtError`]'s texts, which callers show. Signing would cost the factors above
//! unless a custom `jsonwebtoken::crypto::CryptoProvider` kept parsed keys.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{b64url, b64url_decode, keys::PrivateKey, keys::PublicKey, keys::SigningAlg};
use crate::error::{Error, Result};

/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a token was refused. The text is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwtError(pub &'static str);

/// The encoded protected header for a key, computed once per signer.
pub fn encoded_header(alg: SigningAlg, kid: &str) -> String {
    let header = serde_json::json!({ "alg": alg.as_str(), "typ": "JWT", "kid": kid });
    b64url(header.to_string().as_bytes())
}

/// The encoded protected header with another `typ`, e.g. `at+jwt` (RFC 9068 §2.1).
pub fn encoded_header_typed(alg: SigningAlg, kid: &str, typ: &str) -> String {
    let header = serde_json::json!({ "alg": alg.as_str(), "typ": typ, "kid": kid });
    b64url(header.to_string().as_bytes())
}

/// Signs `claims` under a pre-encoded header.
pub fn sign(encoded_header: &str, key: &PrivateKey, claims: &impl Serialize) -> Result<String> {
    let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
    let mut token = String::with_capacity(encoded_header.len() + payload.len() * 4 / 3 + 400);
    token.push_str(encoded_header);
    token.push('.');
    token.push_str(&b64url(&payload));
    let sig = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64url(&sig));
    Ok(token)
}

/// Signs `claims` with HMAC-SHA256 under `secret` (OIDC ID tokens of clients that
/// chose `id_token_signed_response_alg = HS256`, verified with the client secret).
pub fn sign_hs256(secret: &[u8], claims: &impl Serialize) -> Result<String> {
    let header = b64url(
        serde_json::json!({ "alg": "HS256", "typ": "JWT" })
            .to_string()
            .as_bytes(),
    );
    let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
    let mut token = format!("{header}.{}", b64url(&payload));
    let sig = super::hmac_sha256(secret, token.as_bytes());
    token.push('.');
    token.push_str(&b64url(&sig));
    Ok(token)
}

/// A structurally valid token whose signature has not been checked yet.
#[derive(Debug)]
pub struct Unverified<'a> {
    pub alg: String,
    pub kid: Option<String>,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS, applying the header rules.
pub fn decode_unverified(token: &str) -> Result<Unverified<'_>, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError("token is too large"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError("token is not a compact JWS"));
    };
    let header_bytes = b64url_decode(h).ok_or(JwtError("token header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|_| JwtError("token header is not a JSON object"))?;
    for forbidden in ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"] {
        if header.contains_key(forbidden) {
            return Err(JwtError(
                "token header carries a key reference or critical extension, which is not accepted",
            ));
        }
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(JwtError("token header has no alg"))?;
    if alg.eq_ignore_ascii_case("none") || SigningAlg::parse(alg).is_none() {
        return Err(JwtError("token algorithm is not accepted"));
    }
    if let Some(typ) = header.get("typ")
        && !typ.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT"))
    {
        return Err(JwtError("token type is not JWT"));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= 128 => Some(kid.clone()),
        Some(_) => return Err(JwtError("token kid is malformed")),
    };
    let payload = b64url_decode(p).ok_or(JwtError("token payload is not base64url"))?;
    let signature = b64url_decode(s).ok_or(JwtError("token signature is not base64url"))?;
    Ok(Unverified {
        alg: alg.to_owned(),
        kid,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload,
        signature,
    })
}

impl Unverified<'_> {
    /// Verifies the signature with `key`, whose own algorithm must equal the header's,
    /// and returns the claims object.
    pub fn verify(self, key: &PublicKey) -> Result<Map<String, Value>, JwtError> {
        if self.alg != key.alg.as_str() {
            return Err(JwtError("token algorithm does not match the key"));
        }
        if !key.verify(self.signing_input.as_bytes(), &self.signature) {
            return Err(JwtError("token signature is invalid"));
        }
        serde_json::from_slice(&self.payload)
            .map_err(|_| JwtError("token claims are not a JSON object"))
    }
}

/// Time rules: `exp` required and in the future; `nbf` and `iat` not in the future
/// (beyond `leeway` seconds of clock skew between instances).
pub fn validate_times(claims: &Map<String, Value>, now: i64, leeway: i64) -> Result<(), JwtError> {
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError("token has no exp"))?;
    if now >= exp {
        return Err(JwtError("token has expired"));
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_i64().ok_or(JwtError("token nbf is malformed"))?;
        if nbf > now + leeway {
            return Err(JwtError("token is not valid yet"));
        }
    }
    if let Some(iat) = claims.get("iat") {
        let iat = iat.as_i64().ok_or(JwtError("token iat is malformed"))?;
        if iat > now + leeway {
            return Err(JwtError("token is issued in the future"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{PrivateKey, PublicKey, generate};
    use serde_json::json;

    fn pair(alg: SigningAlg) -> (PrivateKey, PublicKey) {
        let g = generate(alg).unwrap();
        (
            PrivateKey::from_pkcs8(alg, &g.pkcs8).unwrap(),
            PublicKey::from_jwk(alg, &g.public_jwk).unwrap(),
        )
    }

    #[test]
    fn sign_then_verify() {
        let (private, public) = pair(SigningAlg::ES256);
        let token = sign(
            &encoded_header(SigningAlg::ES256, "k1"),
            &private,
            &json!({"sub": "x"}),
        )
        .unwrap();
        let unverified = decode_unverified(&token).unwrap();
        assert_eq!(unverified.kid.as_deref(), Some("k1"));
        assert_eq!(unverified.verify(&public).unwrap()["sub"], "x");
    }

    #[test]
    fn algorithm_is_pinned_to_the_key() {
        let (private, _) = pair(SigningAlg::ES256);
        let (_, rsa_public) = pair(SigningAlg::RS256);
        let token = sign(
            &encoded_header(SigningAlg::ES256, "k1"),
            &private,
            &json!({}),
        )
        .unwrap();
        assert_eq!(
            decode_unverified(&token)
                .unwrap()
                .verify(&rsa_public)
                .unwrap_err(),
            JwtError("token algorithm does not match the key")
        );
    }

    #[test]
    fn hostile_headers_are_refused() {
        let body = b64url(b"{}");
        for header in [
            json!({"alg": "none", "kid": "k"}),
            json!({"alg": "HS256", "kid": "k"}),
            json!({"alg": "RS256", "kid": "k", "jku": "https://evil"}),
            json!({"alg": "RS256", "kid": "k", "jwk": {}}),
            json!({"alg": "RS256", "kid": "k", "x5u": "https://evil"}),
            json!({"alg": "RS256", "kid": "k", "crit": ["exp"]}),
            json!({"kid": "k"}),
        ] {
            let token = format!(
                "{}.{body}.{}",
                b64url(header.to_string().as_bytes()),
                b64url(b"sig")
            );
            assert!(decode_unverified(&token).is_err(), "{header}");
        }
        assert!(decode_unverified("a.b").is_err());
        assert!(decode_unverified("a.b.c.d").is_err());
        assert!(decode_unverified("!!.??.**").is_err());
    }

    #[test]
    fn times() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert!(validate_times(&claims(json!({"exp": 100})), 99, 0).is_ok());
        assert!(validate_times(&claims(json!({"exp": 100})), 100, 0).is_err());
        assert!(validate_times(&claims(json!({})), 1, 0).is_err());
        assert!(validate_times(&claims(json!({"exp": 100, "nbf": 60})), 50, 5).is_err());
        assert!(validate_times(&claims(json!({"exp": 100, "iat": 52})), 50, 5).is_ok());
    }
}
