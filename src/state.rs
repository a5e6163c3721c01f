//! The application state every handler and resolver receives: configuration, the
//! database, the clock and the long-lived services with their caches.

use std::{ops::Deref, sync::Arc};

use crate::{
    clock::SharedClock,
    config::Config,
    crypto::{
        SecretHasher,
        vault::{MasterKey, MasterKeys, Vault},
    },
    db::Db,
    services::{
        apps::AppCache, last_used::LastUsed, passwords::Passwords, sessions::SessionCache,
        signing::SigningService,
    },
};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub clock: SharedClock,
    pub hasher: SecretHasher,
    pub vault: Vault,
    pub signing: SigningService,
    pub apps: AppCache,
    /// `last_used_at` written at most once a minute per row.
    pub last_used: LastUsed,
    pub passwords: Passwords,
    pub sessions: SessionCache,
    pub authz: crate::services::authz::AuthzCache,
    pub audit_buffer: crate::services::audit::AuditBuffer,
    /// Cache invalidation across instances (PostgreSQL `LISTEN/NOTIFY`).
    pub bus: crate::services::bus::Bus,
    pub m2m: crate::services::m2m::ClientCache,
    pub throttle_hints: crate::services::throttle::Hints,
    /// Upstream identity providers: outbound HTTP, JWKS and discovery caches.
    pub federation: crate::services::federation::Federation,
    /// SMTP transport and the outbox worker's wake-up.
    pub mail: crate::services::mail::MailService,
    /// The hosted pages' and mail bodies' templates (embedded, with the operator's
    /// overrides from `HEIMDALL_TEMPLATES_DIR`).
    pub templates: crate::templates::Templates,
    /// Webhook delivery: the HTTP client and the worker's wake-up.
    pub webhooks: crate::services::webhooks::Webhooks,
    /// Documents OAuth clients publish (`jwks_uri`, `sector_identifier_uri`).
    pub client_documents: crate::services::oauth::remote::ClientDocuments,
    /// Pairwise subject identifiers: salts and identifiers already remembered.
    pub pairwise: crate::services::oauth::pairwise::PairwiseCache,
    /// Keyed hashes of `HEIMDALL_ROOT_KEY` (under every master key), if set.
    pub env_root_key_hashes: Vec<String>,
    /// `config.public_base()`, computed once: every token's `iss` starts with it.
    public_base: String,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        config: Config,
        db: Db,
        clock: SharedClock,
        master: MasterKeys,
    ) -> Result<Self, String> {
        let passwords = Passwords::new(&config.password_hash)?;
        let hasher = SecretHasher::new(&master);
        let vault = Vault::new(&master);
        let env_root_key_hashes = config
            .root_key
            .as_ref()
            .map(|key| hasher.candidates(key.expose()))
            .unwrap_or_default();
        let bus = crate::services::bus::Bus::new(&db);
        let signing = SigningService::new(db.clone(), vault.clone(), clock.clone(), bus.clone());
        let mail = crate::services::mail::MailService::from_config(&config)?;
        let templates = crate::templates::Templates::load(config.templates_dir.as_deref())?;
        Ok(Self(Arc::new(Inner {
            passwords,
            sessions: SessionCache::new(bus.clone()),
            authz: crate::services::authz::AuthzCache::new(bus.clone()),
            audit_buffer: crate::services::audit::AuditBuffer::start(db.clone()),
            m2m: crate::services::m2m::ClientCache::new(bus.clone()),
            throttle_hints: crate::services::throttle::Hints::new(),
            federation: crate::services::federation::Federation::new()?,
            mail,
            templates,
            webhooks: crate::services::webhooks::Webhooks::from_config(&config)?,
            client_documents: crate::services::oauth::remote::ClientDocuments::new(
                config.webhook_allow_private,
            )?,
            pairwise: crate::services::oauth::pairwise::PairwiseCache::new(),
            apps: AppCache::new(db.clone(), bus.clone()),
            bus,
            last_used: LastUsed::new(),
            public_base: config.public_base(),
            config,
            db,
            clock,
            hasher,
            vault,
            signing,
            env_root_key_hashes,
        })))
    }

    /// The current time, from the injected clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The issuer (`iss`) of an app's tokens: `{PUBLIC_URL}{BASE_PATH}/{slug}`.
    pub fn issuer(&self, slug: &str) -> String {
        format!("{}/{slug}", self.public_base)
    }

    /// Whether `iss` is the issuer of the app `slug`, without building the string.
    pub fn is_issuer(&self, slug: &str, iss: &str) -> bool {
        issuer_matches(&self.public_base, slug, iss)
    }
}

/// Resolves the master keys from configuration, generating a development key in the
/// data directory (with a loud warning) when none is configured.
pub fn master_keys(config: &Config) -> Result<MasterKeys, String> {
    let current = match &config.master_key {
        Some(text) => {
            MasterKey::parse(text.expose()).map_err(|e| format!("HEIMDALL_MASTER_KEY: {e}"))?
        }
        None => {
            let key = MasterKeys::load_or_create_dev_key(&config.data_dir)
                .map_err(|e| format!("cannot create the development master key: {e}"))?;
            tracing::warn!(
                path = %config.data_dir.join("heimdall.master.key").display(),
                "HEIMDALL_MASTER_KEY is not set: using a development master key from the data \
                 directory. Set HEIMDALL_MASTER_KEY (32 random bytes, base64) in production and \
                 keep it safe: it encrypts signing keys and provider secrets at rest."
            );
            key
        }
    };
    let previous = match &config.master_key_previous {
        None => Vec::new(),
        Some(list) => list
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| MasterKey::parse(s).map_err(|e| format!("HEIMDALL_MASTER_KEY_PREVIOUS: {e}")))
            .collect::<Result<_, _>>()?,
    };
    Ok(MasterKeys::new(current, previous))
}

/// Whether `iss` is `{base}/{slug}`.
fn issuer_matches(base: &str, slug: &str, iss: &str) -> bool {
    iss.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('/'))
        == Some(slug)
}

#[cfg(test)]
mod tests {
    use super::issuer_matches;

    #[test]
    fn issuer_is_base_slash_slug_exactly() {
        let base = "https://id.example.com/auth";
        assert!(issuer_matches(
            base,
            "acme",
            "https://id.example.com/auth/acme"
        ));
        for other in [
            "https://id.example.com/auth/acme/",
            "https://id.example.com/auth/acmex",
            "https://id.example.com/authacme",
            "https://id.example.com/auth//acme",
            "https://evil.example.com/auth/acme",
            "https://id.example.com/auth/",
            "",
        ] {
            assert!(!issuer_matches(base, "acme", other), "{other}");
        }
    }
}
