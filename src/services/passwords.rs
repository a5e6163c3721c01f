//! Password hashing with argon2id (OWASP parameters by default).
//!
//! Hashing runs on a dedicated pool with one thread per core, fed by a queue: at
//! most `cores` hashes run at once (unbounded concurrent hashing only makes every
//! request slower), each finished thread takes the next job at once without a trip
//! through the async runtime, and each thread reuses its 19 MiB block buffer instead
//! of mapping and zeroing fresh memory for every hash. Unknown accounts are verified
//! against a dummy hash so that timing does not reveal which emails exist.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString},
};
use tokio::sync::{OnceCell, oneshot};

use crate::{
    config::PasswordHashConfig,
    crypto,
    error::{Error, Result},
};

/// Longest accepted password, in bytes (never truncated).
pub const MAX_PASSWORD_BYTES: usize = 1024;
const OUTPUT_LEN: usize = 32;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    jobs: crossbeam_channel::Sender<Job>,
    dummy: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

/// Runs argon2id into `out` with the thread's reusable memory.
fn compute(
    blocks: &mut Vec<Block>,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
        .map_err(|e| Error::internal(format!("argon2 failed: {e}")))
}

/// Verifies `password` against a PHC string (any stored parameters).
fn verify_phc(blocks: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    // Hashes imported from other systems (docs/src/importing-users-and-scim.md).
    if let Some(verified) = crate::services::password_import::verify_legacy(password, phc) {
        return verified;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(blocks, algorithm, version, params, password, salt, &mut out).is_err() {
        return false;
    }
    crypto::ct_eq(&out, expected.as_bytes())
}

impl Passwords {
    pub fn new(config: &PasswordHashConfig) -> std::result::Result<Self, String> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(OUTPUT_LEN),
        )
        .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for i in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("heimdall-argon2-{i}"))
                .spawn(move || {
                    let mut blocks = Vec::new();
                    // Ends when every `Passwords` (sender) is dropped.
                    while let Ok(job) = queue.recv() {
                        job(&mut blocks);
                    }
                })
                .map_err(|e| format!("cannot start the password hashing threads: {e}"))?;
        }
        Ok(Self {
            params,
            jobs,
            dummy: Arc::new(OnceCell::new()),
        })
    }

    /// Hashing jobs waiting for a thread.
    pub fn queue_depth(&self) -> usize {
        self.jobs.len()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |blocks| {
                let _ = tx.send(work(blocks));
            }))
            .map_err(|_| Error::internal("password hashing pool stopped"))?;
        rx.await
            .map_err(|_| Error::internal("password hashing job failed"))
    }

    /// Hashes a password into a PHC string with the current parameters.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        let params = self.params.clone();
        let salt = SaltString::encode_b64(&crypto::random_bytes(16)?).map_err(Error::internal)?;
        self.run(move |blocks| {
            let mut salt_buf = [0u8; 64];
            let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(Error::internal)?;
            let mut out = [0u8; OUTPUT_LEN];
            compute(
                blocks,
                Algorithm::Argon2id,
                Version::V0x13,
                params.clone(),
                password.as_bytes(),
                salt_bytes,
                &mut out,
            )?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(Error::internal)?,
                salt: Some(salt.as_salt()),
                hash: Some(Output::new(&out).map_err(Error::internal)?),
            };
            Ok(phc.to_string())
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
            .run(move |blocks| verify_phc(blocks, password.as_bytes(), &hash))
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
        parsed.algorithm != Algorithm::Argon2id.ident()
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
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
    use argon2::{PasswordHasher, PasswordVerifier};

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
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
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
        assert!(
            !p.verify("anything", Some("not a phc string"))
                .await
                .unwrap()
        );
        assert!(!p.needs_rehash(&hash));
        assert!(
            Passwords::new(&PasswordHashConfig::default())
                .unwrap()
                .needs_rehash(&hash)
        );
    }

    #[tokio::test]
    async fn interoperates_with_the_reference_implementation() {
        // Hashes made here verify with the argon2 crate's own verifier, and back.
        let p = fast();
        let ours = p.hash("interop password").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop password", &parsed)
                .is_ok()
        );
        let params = Params::new(128, 2, 1, None).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"interop password", &salt)
            .unwrap()
            .to_string();
        assert!(p.verify("interop password", Some(&theirs)).await.unwrap());
        assert!(!p.verify("interop passwore", Some(&theirs)).await.unwrap());
        assert!(p.needs_rehash(&theirs));
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
