//! Imported password hashes (docs/src/importing-users-and-scim.md): the formats other
//! systems export, recognised on import and verified at sign-in by the crates that
//! implement them (`argon2`, `bcrypt`, `scrypt`, `pbkdf2`). A user who signs in with
//! an imported hash gets Heimdall's own argon2id hash instead (`needs_rehash` is true
//! for every format but Heimdall's).
//!
//! Accepted, stored as given:
//! - argon2id / argon2i / argon2d PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`);
//! - bcrypt `$2a$`, `$2b$`, `$2y$`;
//! - scrypt PHC (`$scrypt$ln=…,r=…,p=…$salt$hash`) and Django's `scrypt$N$salt$r$p$hash`;
//! - PBKDF2-SHA256/SHA512 as PHC (`$pbkdf2-sha256$i=…,l=…$salt$hash`), passlib
//!   (`$pbkdf2-sha256$rounds$salt$hash`, adapted base64) and Django
//!   (`pbkdf2_sha256$rounds$salt$hash`).
//!
//! Parameters far beyond what any system uses are refused (a sign-in must not be able
//! to take minutes or gigabytes); weak ones are accepted and reported.

use argon2::{Algorithm, Params, PasswordHash};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD},
};

use crate::{
    crypto,
    error::{Error, Result},
};

/// What an imported hash is, once recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Scrypt,
    DjangoScrypt,
    Pbkdf2Phc(Sha),
    Pbkdf2Passlib(Sha),
    Pbkdf2Django(Sha),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha {
    Sha256,
    Sha512,
}

/// An accepted imported hash: the string to store and what is weak about it.
#[derive(Debug, Clone)]
pub struct Imported {
    pub hash: String,
    pub scheme: Scheme,
    pub warnings: Vec<String>,
}

/// Longest accepted hash string.
const MAX_LEN: usize = 1024;
/// Beyond these a hash is refused (verification would cost too much).
const MAX_ARGON2_KIB: u32 = 1024 * 1024;
const MAX_ARGON2_T: u32 = 64;
const MAX_BCRYPT_COST: u32 = 16;
const MAX_SCRYPT_LOG_N: u8 = 22;
const MAX_SCRYPT_R: u32 = 32;
const MAX_SCRYPT_P: u32 = 16;
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::invalid_field(field, message)
}

const UNKNOWN: &str = "is not a supported password hash format (argon2 PHC, bcrypt $2a$/$2b$/$2y$, \
                       scrypt PHC or Django, PBKDF2-SHA256/SHA512 as PHC, passlib or Django)";

/// Recognises and checks an imported hash; a 400 naming `field` when it is not one
/// of the supported formats or its parameters are out of range.
pub fn accept(field: &str, hash: &str) -> Result<Imported> {
    let hash = hash.trim();
    if hash.is_empty() || hash.len() > MAX_LEN || hash.chars().any(|c| c.is_control()) {
        return Err(bad(field, UNKNOWN));
    }
    let scheme = scheme_of(hash).ok_or_else(|| bad(field, UNKNOWN))?;
    let warnings = check(field, scheme, hash)?;
    Ok(Imported {
        hash: hash.to_owned(),
        scheme,
        warnings,
    })
}

fn scheme_of(hash: &str) -> Option<Scheme> {
    let sha = |name: &str| match name {
        "sha256" => Some(Sha::Sha256),
        "sha512" => Some(Sha::Sha512),
        _ => None,
    };
    if hash.starts_with("$argon2id$")
        || hash.starts_with("$argon2i$")
        || hash.starts_with("$argon2d$")
    {
        return Some(Scheme::Argon2);
    }
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return Some(Scheme::Bcrypt);
    }
    if hash.starts_with("$scrypt$") {
        return Some(Scheme::Scrypt);
    }
    if hash.starts_with("scrypt$") {
        return Some(Scheme::DjangoScrypt);
    }
    if let Some(rest) = hash.strip_prefix("$pbkdf2-") {
        let mut parts = rest.split('$');
        let digest = sha(parts.next()?)?;
        let params = parts.next()?;
        return Some(if params.starts_with("i=") {
            Scheme::Pbkdf2Phc(digest)
        } else {
            Scheme::Pbkdf2Passlib(digest)
        });
    }
    if let Some(rest) = hash.strip_prefix("pbkdf2_") {
        return Some(Scheme::Pbkdf2Django(sha(rest.split('$').next()?)?));
    }
    None
}

/// PBKDF2 parts: rounds, salt bytes, expected output.
struct Pbkdf2Parts {
    rounds: u32,
    salt: Vec<u8>,
    expected: Vec<u8>,
}

/// scrypt parts: log2(N), r, p, salt bytes, expected output.
struct ScryptParts {
    log_n: u8,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    expected: Vec<u8>,
}

/// passlib's "adapted base64": `.` for `+`, no padding.
fn ab64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text.replace('.', "+")).ok()
}

fn phc_b64(text: &str) -> Option<Vec<u8>> {
    // PHC strings leave the padding out; Keycloak's values have it.
    STANDARD_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

fn std_b64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .ok()
        .or_else(|| STANDARD_NO_PAD.decode(text).ok())
}

fn pbkdf2_parts(scheme: Scheme, hash: &str) -> Option<Pbkdf2Parts> {
    let parts: Vec<&str> = hash.split('$').collect();
    let (rounds, salt, expected) = match scheme {
        // $pbkdf2-sha256$i=600000,l=32$salt$hash
        Scheme::Pbkdf2Phc(_) => {
            let [_, _, params, salt, out] = parts.as_slice() else {
                return None;
            };
            let mut rounds = None;
            let mut len = None;
            for pair in params.split(',') {
                let (key, value) = pair.split_once('=')?;
                match key {
                    "i" => rounds = Some(value.parse::<u32>().ok()?),
                    "l" => len = Some(value.parse::<usize>().ok()?),
                    _ => return None,
                }
            }
            let expected = phc_b64(out)?;
            if len.is_some_and(|l| l != expected.len()) {
                return None;
            }
            (rounds?, phc_b64(salt)?, expected)
        }
        // $pbkdf2-sha256$29000$salt$hash (passlib)
        Scheme::Pbkdf2Passlib(_) => {
            let [_, _, rounds, salt, out] = parts.as_slice() else {
                return None;
            };
            (rounds.parse().ok()?, ab64(salt)?, ab64(out)?)
        }
        // pbkdf2_sha256$870000$salt$hash (Django: the salt is text, the hash base64)
        Scheme::Pbkdf2Django(_) => {
            let [_, rounds, salt, out] = parts.as_slice() else {
                return None;
            };
            (
                rounds.parse().ok()?,
                salt.as_bytes().to_vec(),
                std_b64(out)?,
            )
        }
        _ => return None,
    };
    (rounds > 0 && !expected.is_empty() && expected.len() <= 128).then_some(Pbkdf2Parts {
        rounds,
        salt,
        expected,
    })
}

fn scrypt_parts(scheme: Scheme, hash: &str) -> Option<ScryptParts> {
    let parts: Vec<&str> = hash.split('$').collect();
    let (log_n, r, p, salt, expected) = match scheme {
        // $scrypt$ln=17,r=8,p=1$salt$hash
        Scheme::Scrypt => {
            let [_, _, params, salt, out] = parts.as_slice() else {
                return None;
            };
            let (mut ln, mut r, mut p) = (None, None, None);
            for pair in params.split(',') {
                let (key, value) = pair.split_once('=')?;
                match key {
                    "ln" => ln = Some(value.parse::<u8>().ok()?),
                    "r" => r = Some(value.parse::<u32>().ok()?),
                    "p" => p = Some(value.parse::<u32>().ok()?),
                    _ => return None,
                }
            }
            (ln?, r?, p?, phc_b64(salt)?, phc_b64(out)?)
        }
        // scrypt$16384$salt$8$1$hash (Django: N itself, the salt as text)
        Scheme::DjangoScrypt => {
            let [_, n, salt, r, p, out] = parts.as_slice() else {
                return None;
            };
            let n: u64 = n.parse().ok()?;
            if !n.is_power_of_two() || n < 2 {
                return None;
            }
            let log_n = u8::try_from(n.trailing_zeros()).ok()?;
            (
                log_n,
                r.parse().ok()?,
                p.parse().ok()?,
                salt.as_bytes().to_vec(),
                std_b64(out)?,
            )
        }
        _ => return None,
    };
    (!expected.is_empty() && expected.len() <= 128).then_some(ScryptParts {
        log_n,
        r,
        p,
        salt,
        expected,
    })
}

/// Checks the parameters; returns the warnings for weak ones.
fn check(field: &str, scheme: Scheme, hash: &str) -> Result<Vec<String>> {
    let malformed = || bad(field, "is a malformed hash of its format");
    let mut warnings = Vec::new();
    match scheme {
        Scheme::Argon2 => {
            let parsed = PasswordHash::new(hash).map_err(|_| malformed())?;
            let params = Params::try_from(&parsed).map_err(|_| malformed())?;
            Algorithm::try_from(parsed.algorithm).map_err(|_| malformed())?;
            if parsed.salt.is_none() || parsed.hash.is_none() {
                return Err(malformed());
            }
            if params.m_cost() > MAX_ARGON2_KIB || params.t_cost() > MAX_ARGON2_T {
                return Err(bad(field, "argon2 parameters too large to verify"));
            }
            // OWASP's weakest recommended argon2id configuration is m=7 MiB, t=5
            // (equivalently 19 MiB, t=2).
            if u64::from(params.m_cost()) * u64::from(params.t_cost()) < 19_456 * 2 {
                warnings.push(format!(
                    "argon2 parameters m={},t={} are below OWASP's minimum (m=19456,t=2)",
                    params.m_cost(),
                    params.t_cost()
                ));
            }
            if parsed.algorithm != Algorithm::Argon2id.ident() {
                warnings.push(format!(
                    "{} is weaker than argon2id; replaced at the next sign-in",
                    parsed.algorithm
                ));
            }
        }
        Scheme::Bcrypt => {
            let parts: bcrypt::HashParts = hash.parse().map_err(|_| malformed())?;
            let cost = parts.get_cost();
            if cost > MAX_BCRYPT_COST {
                return Err(bad(field, "bcrypt cost too large to verify"));
            }
            if cost < 10 {
                warnings.push(format!("bcrypt cost {cost} is below OWASP's minimum (10)"));
            }
        }
        Scheme::Scrypt | Scheme::DjangoScrypt => {
            let parts = scrypt_parts(scheme, hash).ok_or_else(malformed)?;
            if parts.log_n > MAX_SCRYPT_LOG_N || parts.r > MAX_SCRYPT_R || parts.p > MAX_SCRYPT_P {
                return Err(bad(field, "scrypt parameters too large to verify"));
            }
            scrypt::Params::new(parts.log_n, parts.r, parts.p).map_err(|_| malformed())?;
            // OWASP: N=2^17, r=8, p=1 (or equivalent work).
            let work = (1u64 << parts.log_n) * u64::from(parts.r) * u64::from(parts.p);
            if work < (1u64 << 17) * 8 {
                warnings.push(format!(
                    "scrypt parameters N=2^{},r={},p={} are below OWASP's minimum (N=2^17,r=8,p=1)",
                    parts.log_n, parts.r, parts.p
                ));
            }
        }
        Scheme::Pbkdf2Phc(sha) | Scheme::Pbkdf2Passlib(sha) | Scheme::Pbkdf2Django(sha) => {
            let parts = pbkdf2_parts(scheme, hash).ok_or_else(malformed)?;
            if parts.rounds > MAX_PBKDF2_ROUNDS {
                return Err(bad(field, "PBKDF2 rounds too large to verify"));
            }
            let (name, minimum) = match sha {
                Sha::Sha256 => ("PBKDF2-SHA256", 600_000),
                Sha::Sha512 => ("PBKDF2-SHA512", 210_000),
            };
            if parts.rounds < minimum {
                warnings.push(format!(
                    "{name} with {} rounds is below OWASP's minimum ({minimum})",
                    parts.rounds
                ));
            }
        }
    }
    Ok(warnings)
}

/// Verifies `password` against a stored hash of a non-argon2 scheme. `None` when
/// the stored string is not one of them (the caller handles argon2 itself).
pub fn verify_legacy(password: &[u8], stored: &str) -> Option<bool> {
    let scheme = scheme_of(stored)?;
    Some(match scheme {
        Scheme::Argon2 => return None,
        Scheme::Bcrypt => bcrypt::verify(password, stored).unwrap_or(false),
        Scheme::Scrypt | Scheme::DjangoScrypt => {
            let Some(parts) = scrypt_parts(scheme, stored) else {
                return Some(false);
            };
            let Ok(params) = scrypt::Params::new(parts.log_n, parts.r, parts.p) else {
                return Some(false);
            };
            let mut out = vec![0u8; parts.expected.len()];
            scrypt::scrypt(password, &parts.salt, &params, &mut out).is_ok()
                && crypto::ct_eq(&out, &parts.expected)
        }
        Scheme::Pbkdf2Phc(sha) | Scheme::Pbkdf2Passlib(sha) | Scheme::Pbkdf2Django(sha) => {
            let Some(parts) = pbkdf2_parts(scheme, stored) else {
                return Some(false);
            };
            let mut out = vec![0u8; parts.expected.len()];
            match sha {
                Sha::Sha256 => pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(
                    password,
                    &parts.salt,
                    parts.rounds,
                    &mut out,
                ),
                Sha::Sha512 => pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha512>(
                    password,
                    &parts.salt,
                    parts.rounds,
                    &mut out,
                ),
            }
            crypto::ct_eq(&out, &parts.expected)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_and_refuses() {
        assert!(accept("password_hash", "md5$abc$def").is_err());
        assert!(accept("password_hash", "").is_err());
        assert!(accept("password_hash", "$2b$04$short").is_err());
        assert!(accept("password_hash", "$pbkdf2-sha1$1000$a$b").is_err());
    }

    #[test]
    fn bcrypt_round_trip() {
        let hash = bcrypt::hash("hunter2 password", 4).unwrap();
        let imported = accept("password_hash", &hash).unwrap();
        assert_eq!(imported.scheme, Scheme::Bcrypt);
        assert_eq!(imported.warnings.len(), 1, "{:?}", imported.warnings);
        assert_eq!(verify_legacy(b"hunter2 password", &hash), Some(true));
        assert_eq!(verify_legacy(b"hunter3 password", &hash), Some(false));
    }

    #[test]
    fn pbkdf2_forms() {
        // Django's documented example form, computed here.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<pbkdf2::sha2::Sha256>(b"pw", b"saltsalt", 1000, &mut out);
        let django = format!("pbkdf2_sha256$1000$saltsalt${}", STANDARD.encode(out));
        let phc = format!(
            "$pbkdf2-sha256$i=1000,l=32${}${}",
            STANDARD_NO_PAD.encode(b"saltsalt"),
            STANDARD_NO_PAD.encode(out)
        );
        let passlib = format!(
            "$pbkdf2-sha256$1000${}${}",
            STANDARD_NO_PAD.encode(b"saltsalt").replace('+', "."),
            STANDARD_NO_PAD.encode(out).replace('+', ".")
        );
        for hash in [django, phc, passlib] {
            let imported = accept("password_hash", &hash).unwrap();
            assert!(!imported.warnings.is_empty());
            assert_eq!(verify_legacy(b"pw", &hash), Some(true), "{hash}");
            assert_eq!(verify_legacy(b"px", &hash), Some(false), "{hash}");
        }
    }
}
