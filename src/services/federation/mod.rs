//! Federated sign-in (docs/src/federated-sign-in.md): Sign in with Apple (native and web) and generic
//! OpenID Connect upstreams on one layer — provider configuration with sealed
//! secrets ([`providers`]), upstream keys and ID-token verification ([`jwks`]),
//! web-flow state ([`flow`]), identities and account linking ([`identities`]).

pub mod apple;
pub mod flow;
pub mod identities;
pub mod jwks;
pub mod oidc;
pub mod outbound;
pub mod providers;

use std::{sync::Arc, time::Duration};

use entity::app;
use moka::future::Cache;
use serde_json::{Map, Value, json};
use url::Url;
use uuid::Uuid;

use crate::{
    access::Actor,
    error::{Error, Result},
    request::RequestMeta,
    services::audit::{self, Entry},
    state::AppState,
};

/// Long-lived federation machinery: the outbound client and per-instance caches.
#[derive(Clone)]
pub struct Federation {
    pub http: outbound::Outbound,
    pub jwks: jwks::JwksCache,
    /// Discovery documents by URL (and expected issuer).
    pub discovery: Cache<String, Arc<oidc::Discovery>>,
    /// Apple client secrets by (provider id, configuration version): (JWT, exp).
    pub apple_secrets: Cache<(Uuid, i64), Arc<(String, i64)>>,
}

impl Federation {
    pub fn new() -> Result<Self, String> {
        Ok(Self {
            http: outbound::Outbound::new()?,
            jwks: jwks::JwksCache::new(),
            discovery: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            apple_secrets: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(apple::CLIENT_SECRET_TTL as u64))
                .build(),
        })
    }
}

/// The code of a sign-in the provider itself refused or the user cancelled.
pub const ACCESS_DENIED: &str = "access_denied";
/// The code of an authorization code the provider's token endpoint refused.
pub const UPSTREAM_REJECTED: &str = "upstream_rejected";

/// An OAuth error code sent by a provider, reduced to safe characters.
fn error_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect()
}

/// The provider answered the authorization request with an error (for example
/// the user cancelled).
pub fn upstream_error(provider: &str, raw: &str) -> Error {
    Error::rejected(
        ACCESS_DENIED,
        format!(
            "sign-in with {provider} was cancelled or refused ({})",
            error_code(raw)
        ),
    )
}

/// Exchanges an authorization code at a token endpoint; returns the `id_token`.
/// A refusal (4xx) is a 401 `upstream_rejected`; an unreachable or broken
/// endpoint is a 503.
pub async fn exchange_code(
    state: &AppState,
    token_endpoint: &Url,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    provider: &str,
) -> Result<String> {
    let what = format!("{provider}'s token endpoint");
    let answer = state
        .federation
        .http
        .post_form(token_endpoint, form, basic, &what)
        .await?;
    if (400..500).contains(&answer.status) {
        let code = answer
            .body
            .get("error")
            .and_then(Value::as_str)
            .map(error_code)
            .unwrap_or_else(|| format!("HTTP {}", answer.status));
        return Err(Error::rejected(
            UPSTREAM_REJECTED,
            format!("{provider} refused the authorization code ({code})"),
        ));
    }
    if answer.status != 200 {
        return Err(Error::Unavailable(format!(
            "{what} answered HTTP {}",
            answer.status
        )));
    }
    answer
        .body
        .get("id_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Unavailable(format!("{what} returned no id_token")))
}

/// Passes a verification result through, auditing a refused token as
/// `user.signin_failed` (reason only; never the token).
pub async fn record_failure(
    state: &AppState,
    app: &app::Model,
    provider: &str,
    method: &str,
    result: Result<Map<String, Value>>,
    meta: &RequestMeta,
) -> Result<Map<String, Value>> {
    let Err(error) = result else {
        return result;
    };
    if let Error::Rejected { message, .. } = &error {
        let entry = Entry::new(
            app.id,
            "user.signin_failed",
            Actor {
                kind: "anonymous",
                id: String::new(),
            },
        )
        .metadata(json!({ "method": method, "provider": provider, "reason": message }));
        let txn = state.db.begin_write().await?;
        audit::commit(txn, state, meta, entry).await?;
    }
    Err(error)
}
