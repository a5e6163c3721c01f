//! Password hashing with argon2id (OWASP parameters by default), off the async
//! runtime and behind a semaphore sized to the cores: unbounded concurrent hashing
//! only makes every request slower. Unknown accounts are verified against a dummy
//! hash so that timing does not reveal which emails exist.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
    password_hash::SaltString,
};
use tokio::sync::{OnceCell, Semaphore};

use crate::{
    config::PasswordHashConfig,
    error::{Error, Result},
};

/// Longest accepted password, in bytes (never truncated).
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    dummy: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

impl Passwords {
    pub fn new(config: &PasswordHashConfig) -> std::result::Result<Self, String> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(cores)),
            dummy: Arc::new(OnceCell::new()),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::internal("password hashing pool closed"))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || work(argon))
            .await
            .map_err(Error::internal)
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.blocking(move |argon| {
            let salt = crate::crypto::random_bytes(16)
                .and_then(|bytes| SaltString::encode_b64(&bytes).map_err(Error::internal))?;
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
        })
        .await?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is
    /// no stored hash, so both cases cost the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash().await?, false),
        };
        let password = password.to_owned();
        let ok = self
            .blocking(move |argon| {
                PasswordHash::new(&hash)
                    .map(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && real)
    }

    /// Whether a stored hash was made with other parameters than the current ones.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        let current = self.argon.params();
        parsed.algorithm.as_str() != "argon2id"
            || params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost()
    }

    async fn dummy_hash(&self) -> Result<String> {
        self.dummy
            .get_or_try_init(|| async { self.hash("heimdall-dummy-password-for-timing").await })
            .await
            .cloned()
    }
}

/// The password policy: at least the app's minimum length in characters, at most
/// 1024 bytes, any Unicode kept exactly as given.
pub fn check_policy(field: &str, password: &str, min_length: u32) -> Result<()> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid_field(
            field,
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if password.chars().count() < min_length as usize {
        return Err(Error::invalid_field(
            field,
            format!("must be at least {min_length} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Passwords {
        Passwords::new(&PasswordHashConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let p = fast();
        let hash = p.hash("correct horse ☃ battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            p.verify("correct horse ☃ battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !p.verify("correct horse ☃ batter", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!p.verify("anything", None).await.unwrap());
        assert!(!p.needs_rehash(&hash));
        assert!(
            Passwords::new(&PasswordHashConfig::default())
                .unwrap()
                .needs_rehash(&hash)
        );
    }

    #[test]
    fn default_parameters_are_owasp() {
        let d = PasswordHashConfig::default();
        assert_eq!((d.memory_kib, d.iterations, d.parallelism), (19_456, 2, 1));
    }

    #[test]
    fn policy() {
        assert!(check_policy("p", "short", 10).is_err());
        assert!(check_policy("p", "ten chars!", 10).is_ok());
        assert!(
            check_policy("p", "ääääääääää", 10).is_ok(),
            "characters, not bytes"
        );
        assert!(check_policy("p", &"x".repeat(1025), 10).is_err());
        assert!(check_policy("p", &"x".repeat(1024), 10).is_ok());
    }
}
