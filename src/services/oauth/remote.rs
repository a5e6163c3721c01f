//! Documents that OAuth clients publish at URLs they register: their public keys
//! (`jwks_uri`, RFC 7591 §2, for `private_key_jwt`) and the redirect URIs of a pairwise
//! sector (`sector_identifier_uri`, OIDC Core §8.1).
//!
//! Anyone may register a client when dynamic registration is open, so these URLs are
//! held to the webhook URL rules (https, no private or loopback address unless
//! `HEIMDALL_WEBHOOK_ALLOW_PRIVATE`), the addresses actually connected to are checked
//! by the same resolver as webhook deliveries, redirects are not followed, and an
//! answer is bounded in size and time. A key set is cached for [`JWKS_TTL`]; an
//! assertion naming a key the cached set lacks refetches it at most once per
//! [`REFETCH_COOLDOWN`] (concurrent misses share one fetch), so that a client rotating
//! its keys is followed quickly and made-up key ids cannot make Heimdall hammer it.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use moka::future::Cache;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::{
    error::{Error, Result},
    services::net::PublicOnlyResolver,
    state::AppState,
};

/// A fetched key set is used this long before it is fetched again.
pub const JWKS_TTL: chrono::Duration = chrono::Duration::minutes(5);
/// Refetches for an unknown `kid` are at least this far apart.
pub const REFETCH_COOLDOWN: chrono::Duration = chrono::Duration::seconds(10);
/// Larger answers are refused (a JWK Set or a list of URIs is a few KiB).
pub const MAX_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Slot {
    set: Option<Arc<JwkSet>>,
    fetched_at: Option<DateTime<Utc>>,
}

/// The outbound client for client-published documents, and the key sets fetched.
#[derive(Clone)]
pub struct ClientDocuments {
    http: reqwest::Client,
    slots: Cache<String, Arc<Mutex<Slot>>>,
}

impl ClientDocuments {
    pub fn new(allow_private: bool) -> std::result::Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(PublicOnlyResolver { allow_private })
            .user_agent(concat!("heimdall/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for client documents: {e}"))?;
        Ok(Self {
            http,
            slots: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        })
    }

    /// `GET url` as JSON. The error says what went wrong, without the body.
    pub async fn fetch_json(&self, url: &str) -> std::result::Result<Value, String> {
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "did not answer in time".to_owned()
                } else {
                    "could not be reached".to_owned()
                }
            })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("answered HTTP {}", response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| "broke off its answer".to_owned())?
        {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("answered more than {} KiB", MAX_BYTES / 1024));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| "did not answer JSON".to_owned())
    }

    /// The key set at `url`: cached, or refetched when `kid` is not in the cached set
    /// (at most once per [`REFETCH_COOLDOWN`]).
    pub async fn jwks(
        &self,
        url: &str,
        kid: Option<&str>,
        now: DateTime<Utc>,
    ) -> std::result::Result<Arc<JwkSet>, String> {
        let slot = self
            .slots
            .get_with(url.to_owned(), async {
                Arc::new(Mutex::new(Slot::default()))
            })
            .await;
        // Holding the slot while fetching is the single flight.
        let mut slot = slot.lock().await;
        if let (Some(set), Some(fetched_at)) = (&slot.set, slot.fetched_at) {
            let fresh = now - fetched_at < JWKS_TTL;
            let knows = kid.is_none_or(|kid| set.find(kid).is_some());
            if fresh && (knows || now - fetched_at < REFETCH_COOLDOWN) {
                return Ok(set.clone());
            }
        }
        let document = self.fetch_json(url).await?;
        let set = super::registration::validate_jwks(&document)?;
        let set: JwkSet = serde_json::from_value(set).map_err(|e| e.to_string())?;
        let set = Arc::new(set);
        slot.set = Some(set.clone());
        slot.fetched_at = Some(now);
        Ok(set)
    }
}

/// Validates a URL a client publishes a document at (`field` names it in errors):
/// the webhook URL rules.
pub async fn validate_document_url(state: &AppState, field: &str, raw: &str) -> Result<String> {
    crate::services::webhooks::validate_url(state, raw)
        .await
        .map_err(|e| match e {
            Error::InvalidRequest { message, .. } => {
                Error::invalid_field(field, message.trim_start_matches("url: ").to_owned())
            }
            other => other,
        })
}
