//! Asymmetric signing keys: generation, PKCS#8 storage, parsed key material for fast
//! signing and verification, and JWK export/import.

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeySize, PublicKeyComponents},
    signature::{
        self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
        Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{b64url, b64url_decode};
use crate::error::{Error, Result};

/// The JWS algorithms an app can sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    #[default]
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == text)
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A freshly generated key: the PKCS#8 private key (to be sealed) and its public JWK.
pub struct GeneratedKey {
    pub pkcs8: Vec<u8>,
    pub public_jwk: Value,
}

/// Generates a key pair. CPU-heavy for RSA; call from `spawn_blocking`.
pub fn generate(alg: SigningAlg) -> Result<GeneratedKey> {
    let failed = |_| Error::internal("key generation failed");
    match alg {
        SigningAlg::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let pkcs8 = pair.as_der().map_err(failed)?.as_ref().to_vec();
            let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            Ok(GeneratedKey {
                pkcs8,
                public_jwk: json!({ "kty": "RSA", "n": b64url(&components.n), "e": b64url(&components.e) }),
            })
        }
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?;
            let pkcs8 = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            let point = pair.public_key().as_ref();
            // Uncompressed SEC1 point: 0x04 ‖ x ‖ y.
            if point.len() != 65 {
                return Err(Error::internal("unexpected EC public key length"));
            }
            Ok(GeneratedKey {
                pkcs8,
                public_jwk: json!({
                    "kty": "EC", "crv": "P-256",
                    "x": b64url(&point[1..33]), "y": b64url(&point[33..65]),
                }),
            })
        }
        SigningAlg::EdDSA => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let pkcs8 = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            Ok(GeneratedKey {
                pkcs8,
                public_jwk: json!({ "kty": "OKP", "crv": "Ed25519", "x": b64url(pair.public_key().as_ref()) }),
            })
        }
    }
}

/// A parsed private key, kept in memory so that each signature costs only the
/// signature (parsing an RSA key costs more than signing with it).
pub enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl PrivateKey {
    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| {
            Error::internal(format!("stored private key rejected: {e}"))
        };
        Ok(match alg {
            SigningAlg::RS256 => Self::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            SigningAlg::ES256 => Self::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            SigningAlg::EdDSA => Self::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
        })
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = |_| Error::internal("signing failed");
        match self {
            Self::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .map_err(failed)?;
                Ok(sig)
            }
            Self::Ec(pair) => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Self::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

/// A parsed public key with the one algorithm it may be used with.
pub struct PublicKey {
    pub alg: SigningAlg,
    key: ParsedPublicKey,
}

impl PublicKey {
    /// Builds a verification key from a public JWK, pinned to `alg`.
    pub fn from_jwk(alg: SigningAlg, jwk: &Value) -> Result<Self, String> {
        let field = |name: &str| -> Result<Vec<u8>, String> {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(b64url_decode)
                .ok_or_else(|| format!("JWK field `{name}` is missing or not base64url"))
        };
        let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
        let key = match alg {
            SigningAlg::RS256 => {
                if kty != "RSA" {
                    return Err("RS256 needs an RSA key".into());
                }
                PublicKeyComponents {
                    n: field("n")?,
                    e: field("e")?,
                }
                .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                .map_err(|e| format!("invalid RSA key: {e}"))?
            }
            SigningAlg::ES256 => {
                if kty != "EC" || jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                    return Err("ES256 needs a P-256 EC key".into());
                }
                let (x, y) = (field("x")?, field("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err("invalid P-256 coordinates".into());
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .map_err(|e| format!("invalid EC key: {e}"))?
            }
            SigningAlg::EdDSA => {
                if kty != "OKP" || jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
                    return Err("EdDSA needs an Ed25519 OKP key".into());
                }
                ParsedPublicKey::new(&ED25519, field("x")?)
                    .map_err(|e| format!("invalid Ed25519 key: {e}"))?
            }
        };
        Ok(Self { alg, key })
    }

    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        self.key.verify_sig(message, sig).is_ok()
    }
}

/// The public JWK as published: key material plus `kid`, `alg` and `use`.
pub fn published_jwk(kid: &str, alg: SigningAlg, public_jwk: &Value) -> Value {
    let mut jwk = public_jwk.clone();
    if let Some(map) = jwk.as_object_mut() {
        map.insert("kid".into(), json!(kid));
        map.insert("alg".into(), json!(alg.as_str()));
        map.insert("use".into(), json!("sig"));
    }
    jwk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in SigningAlg::ALL {
            let generated = generate(alg).unwrap();
            let private = PrivateKey::from_pkcs8(alg, &generated.pkcs8).unwrap();
            let public = PublicKey::from_jwk(alg, &generated.public_jwk).unwrap();
            let sig = private.sign(b"message").unwrap();
            assert!(public.verify(b"message", &sig), "{alg}");
            assert!(!public.verify(b"other", &sig), "{alg}");
        }
    }

    #[test]
    fn jwk_is_pinned_to_its_algorithm() {
        let rsa = generate(SigningAlg::RS256).unwrap();
        assert!(PublicKey::from_jwk(SigningAlg::ES256, &rsa.public_jwk).is_err());
        assert!(PublicKey::from_jwk(SigningAlg::EdDSA, &rsa.public_jwk).is_err());
    }
}
