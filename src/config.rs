//! Configuration: defaults, then an optional `heimdall.toml`, then `HEIMDALL_*`
//! environment variables. Every setting has a safe default for local use; secrets are
//! wrapped in [`Secret`] so that `Debug` (and therefore logs) never shows them.

use std::{fmt, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::Deserialize;

/// A configuration value that must never be printed.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret value. Call sites are easy to grep for.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Argon2id cost parameters. The defaults are OWASP's (m=19456 KiB, t=2, p=1); only
/// the test harness lowers them, explicitly, through its own config.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordHashConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordHashConfig {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `HEIMDALL_DATABASE_URL`: `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// `HEIMDALL_BIND`: listen address.
    pub bind: String,
    /// `HEIMDALL_PUBLIC_URL`: the externally visible origin; defaults to `http://{bind}`.
    pub public_url: Option<String>,
    /// `HEIMDALL_BASE_PATH`: mount every route under this prefix (e.g. `/heimdall`).
    pub base_path: String,
    /// `HEIMDALL_MASTER_KEY`: 32 bytes, base64, for encryption at rest and keyed hashes.
    pub master_key: Option<Secret<String>>,
    /// `HEIMDALL_MASTER_KEY_PREVIOUS`: comma-separated earlier master keys, still
    /// accepted for decryption and hash lookups while data is re-keyed.
    pub master_key_previous: Option<Secret<String>>,
    /// `HEIMDALL_DATA_DIR`: where the development master key is generated when none is set.
    pub data_dir: PathBuf,
    /// `HEIMDALL_ROOT_KEY`: a fixed root key (`hm_root_…`); otherwise one is generated
    /// and printed on first start.
    pub root_key: Option<Secret<String>>,
    /// `HEIMDALL_DEFAULT_APP`: slug served at the root OAuth/discovery paths.
    pub default_app: Option<String>,
    /// `HEIMDALL_SMTP_URL`: `smtp://`, `smtps://` (TLS) or `smtp+starttls://` with credentials.
    pub smtp_url: Option<Secret<String>>,
    /// `HEIMDALL_SMTP_FROM`: the sender address of Heimdall-sent mail.
    pub smtp_from: Option<String>,
    /// `HEIMDALL_TEMPLATES_DIR`: a directory whose files replace the embedded templates
    /// of the same relative name (`pages/base.html`, `mail/invite.txt`, …).
    pub templates_dir: Option<PathBuf>,
    /// `HEIMDALL_WEBHOOK_ALLOW_PRIVATE`: allow `http://` and private/loopback webhook targets.
    pub webhook_allow_private: bool,
    /// `HEIMDALL_WEBHOOK_TIMEOUT`: seconds a webhook endpoint has to answer.
    pub webhook_timeout: u64,
    /// `HEIMDALL_WEBHOOK_CONCURRENCY`: deliveries in flight at once (per instance).
    pub webhook_concurrency: usize,
    /// `HEIMDALL_APPLE_JWKS_URL` and friends: Apple's endpoints (overridable for tests).
    pub apple_jwks_url: String,
    pub apple_token_url: String,
    pub apple_authorize_url: String,
    pub apple_issuer: String,
    /// `HEIMDALL_FEDERATION_ALLOW_LOOPBACK`: let generic OIDC providers live on
    /// `http://` loopback hosts (development and tests); otherwise `https` only.
    pub federation_allow_loopback: bool,
    /// `HEIMDALL_GRAPHQL_INTROSPECTION`: serve introspection and field suggestions.
    pub graphql_introspection: bool,
    /// `HEIMDALL_BODY_LIMIT`: maximum request body in bytes.
    pub body_limit: usize,
    /// `HEIMDALL_DB_MAX_CONNECTIONS`: connection pool size.
    pub db_max_connections: u32,
    /// `HEIMDALL_LOG`: tracing filter, e.g. `info,heimdall=debug`.
    pub log: String,
    /// `HEIMDALL_LOG_FORMAT`: `text` or `json`.
    pub log_format: String,
    /// `HEIMDALL_OTLP_ENDPOINT`: export spans over OTLP/HTTP to this collector
    /// (`{endpoint}/v1/traces`), e.g. `http://127.0.0.1:4318` (cargo feature `otlp`).
    pub otlp_endpoint: Option<String>,
    /// `HEIMDALL_OTLP_SERVICE_NAME`: the `service.name` of exported spans.
    pub otlp_service_name: String,
    /// `HEIMDALL_TRUST_PROXY`: take the client IP from `X-Forwarded-For` (set only
    /// behind a proxy that overwrites that header).
    pub trust_proxy: bool,
    /// `HEIMDALL_PASSWORD_HASH__*`: argon2id parameters (OWASP defaults).
    pub password_hash: PasswordHashConfig,
    /// `HEIMDALL_METRICS_BIND`: serve `GET /metrics` on this separate listener
    /// (e.g. `127.0.0.1:9090`); unset, no separate listener.
    pub metrics_bind: Option<String>,
    /// `HEIMDALL_METRICS_TOKEN`: also serve `GET /metrics` on the main listener, to
    /// requests with `Authorization: Bearer <this token>`.
    pub metrics_token: Option<Secret<String>>,
    /// `HEIMDALL_CONSOLE_IDLE_TIMEOUT`: seconds after which an unused admin-console
    /// session ends (default 30 minutes).
    pub console_idle_timeout: u64,
    /// `HEIMDALL_CONSOLE_SESSION_LIFETIME`: seconds after which an admin-console
    /// session ends however active it is (default 12 hours).
    pub console_session_lifetime: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://heimdall.db?mode=rwc".into(),
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            base_path: String::new(),
            master_key: None,
            master_key_previous: None,
            data_dir: PathBuf::from("."),
            root_key: None,
            default_app: None,
            smtp_url: None,
            smtp_from: None,
            templates_dir: None,
            webhook_allow_private: false,
            webhook_timeout: 10,
            webhook_concurrency: 16,
            apple_jwks_url: "https://appleid.apple.com/auth/keys".into(),
            apple_token_url: "https://appleid.apple.com/auth/token".into(),
            apple_authorize_url: "https://appleid.apple.com/auth/authorize".into(),
            apple_issuer: "https://appleid.apple.com".into(),
            federation_allow_loopback: false,
            graphql_introspection: true,
            body_limit: 1024 * 1024,
            db_max_connections: 10,
            log: "info".into(),
            log_format: "text".into(),
            otlp_endpoint: None,
            otlp_service_name: "heimdall".into(),
            trust_proxy: false,
            password_hash: PasswordHashConfig::default(),
            metrics_bind: None,
            metrics_token: None,
            console_idle_timeout: 30 * 60,
            console_session_lifetime: 12 * 60 * 60,
        }
    }
}

impl Config {
    /// Whether `/metrics` is served at all (its own listener, or the main one behind
    /// a bearer): the recorder is installed and requests are counted only then.
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_bind.is_some() || self.metrics_token.is_some()
    }

    /// Loads defaults, then `file` (if it exists), then `HEIMDALL_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        // Environment values go in as raw strings, so that a numeric-looking slug or
        // secret stays a string; `extract_lossy` turns "true" / "2048" into bools and
        // numbers where the field wants one.
        let env = Env::prefixed("HEIMDALL_")
            .split("__")
            .ignore(&["config", "test_postgres_url"]);
        for (key, value) in env.iter() {
            figment = figment.merge(Serialized::default(key.as_str(), value));
        }
        let mut config: Config = figment.extract_lossy().map_err(Box::new)?;
        config.normalise();
        Ok(config)
    }

    /// Cleans up values that users commonly write in more than one way.
    pub fn normalise(&mut self) {
        let trimmed = self.base_path.trim().trim_end_matches('/');
        self.base_path = if trimmed.is_empty() {
            String::new()
        } else if trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        if let Some(url) = &self.public_url {
            self.public_url = Some(url.trim_end_matches('/').to_owned());
        }
        if let Some(app) = &self.default_app
            && app.trim().is_empty()
        {
            self.default_app = None;
        }
        if self
            .metrics_bind
            .as_ref()
            .is_some_and(|b| b.trim().is_empty())
        {
            self.metrics_bind = None;
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().trim().is_empty())
        {
            self.metrics_token = None;
        }
        if self
            .templates_dir
            .as_ref()
            .is_some_and(|dir| dir.as_os_str().is_empty())
        {
            self.templates_dir = None;
        }
    }

    /// The externally visible origin, without the base path.
    pub fn public_origin(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Origin plus base path: the prefix of every URL Heimdall hands out.
    pub fn public_base(&self) -> String {
        format!("{}{}", self.public_origin(), self.base_path)
    }

    /// Whether cookies must carry `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_origin().starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_through_debug() {
        let config = Config {
            root_key: Some("hm_root_supersecret".into()),
            master_key: Some("bWFzdGVy".into()),
            smtp_url: Some("smtp://user:pw@mail".into()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("supersecret"));
        assert!(!printed.contains("bWFzdGVy"));
        assert!(!printed.contains("pw@mail"));
        assert!(printed.contains("redacted"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API, not ours.
    fn environment_and_file_are_layered() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "heimdall.toml",
                "bind = \"0.0.0.0:9000\"\nbase_path = \"/auth\"\nlog = \"debug\"",
            )?;
            jail.set_env("HEIMDALL_LOG", "warn");
            jail.set_env("HEIMDALL_DEFAULT_APP", "123");
            jail.set_env(
                "HEIMDALL_ROOT_KEY",
                "hm_root_0123456789012345678901234567890123",
            );
            jail.set_env(
                "HEIMDALL_MASTER_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            );
            jail.set_env("HEIMDALL_WEBHOOK_ALLOW_PRIVATE", "true");
            jail.set_env("HEIMDALL_BODY_LIMIT", "2048");
            jail.set_env("HEIMDALL_PASSWORD_HASH__MEMORY_KIB", "4096");
            let config = Config::load(Some(std::path::Path::new("heimdall.toml"))).unwrap();
            assert_eq!(config.bind, "0.0.0.0:9000");
            assert_eq!(config.base_path, "/auth");
            assert_eq!(config.log, "warn", "environment overrides the file");
            assert_eq!(config.default_app.as_deref(), Some("123"));
            assert_eq!(
                config.root_key.as_ref().unwrap().expose(),
                "hm_root_0123456789012345678901234567890123"
            );
            assert!(config.master_key.is_some());
            assert!(config.webhook_allow_private);
            assert_eq!(config.body_limit, 2048);
            assert_eq!(config.password_hash.memory_kib, 4096);
            assert_eq!(config.password_hash.iterations, 2);
            Ok(())
        });
    }

    #[test]
    fn base_path_is_normalised() {
        let mut config = Config {
            base_path: "heimdall/".into(),
            ..Config::default()
        };
        config.normalise();
        assert_eq!(config.base_path, "/heimdall");
        let mut config = Config {
            base_path: "/".into(),
            ..Config::default()
        };
        config.normalise();
        assert_eq!(config.base_path, "");
    }
}
