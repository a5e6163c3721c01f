//! Generic OpenID Connect upstreams (Google, Microsoft, any issuer with discovery):
//! authorization code flow with PKCE (S256), the same ID-token rules as Apple.

use std::sync::Arc;

use entity::app;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{
    exchange_code,
    flow::{self, Started},
    identities::{self, SignedIn, Upstream},
    jwks::{self, Expected, NonceCheck},
    outbound,
    providers::{self, Config, KIND_OIDC, OidcConfig, Provider},
    record_failure, upstream_error,
};
use crate::{
    crypto::keys::SigningAlg,
    error::{Error, Result},
    request::RequestMeta,
    state::AppState,
};

/// The fields of a discovery document Heimdall uses, with URLs checked.
#[derive(Clone, Debug)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    /// Whether the token endpoint takes `client_secret_basic` (the default) or
    /// only `client_secret_post`.
    pub basic_auth: bool,
}

#[derive(Deserialize)]
struct RawDiscovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

fn oidc_config(provider: &Provider) -> Result<&OidcConfig> {
    match &provider.config {
        Config::Oidc(config) => Ok(config),
        Config::Apple(_) => Err(Error::internal("an OIDC provider has the wrong kind")),
    }
}

/// The provider's discovery document, cached per instance (single flight per URL).
pub async fn discover(state: &AppState, config: &OidcConfig) -> Result<Arc<Discovery>> {
    let federation = state.federation.clone();
    let config = config.clone();
    let allow = state.config.federation_allow_loopback;
    federation
        .discovery
        .try_get_with(
            format!(
                "{} {}",
                config.discovery_url,
                config.issuer.as_deref().unwrap_or_default()
            ),
            {
                let federation = federation.clone();
                async move {
                    fetch_discovery(&federation, &config, allow)
                        .await
                        .map(Arc::new)
                }
            },
        )
        .await
        .map_err(|e: Arc<Error>| match e.as_ref() {
            Error::Unavailable(message) => Error::Unavailable(message.clone()),
            other => Error::Unavailable(format!(
                "the identity provider's discovery document is unusable: {other}"
            )),
        })
}

async fn fetch_discovery(
    federation: &super::Federation,
    config: &OidcConfig,
    allow_loopback: bool,
) -> Result<Discovery> {
    let url = outbound::upstream_url("discovery_url", &config.discovery_url, allow_loopback)?;
    let document = federation
        .http
        .get_json(&url, "the identity provider's discovery document")
        .await?;
    let raw: RawDiscovery = serde_json::from_value(document).map_err(|e| {
        Error::Unavailable(format!(
            "the identity provider's discovery document is incomplete: {e}"
        ))
    })?;
    if let Some(expected) = &config.issuer
        && expected.trim_end_matches('/') != raw.issuer.trim_end_matches('/')
    {
        return Err(Error::Unavailable(format!(
            "the discovery document names issuer {}, not the configured {expected}",
            raw.issuer
        )));
    }
    let endpoint = |field: &str, value: &str| {
        outbound::upstream_url(field, value, allow_loopback).map_err(|_| {
            Error::Unavailable(format!(
                "the discovery document's {field} is not an acceptable https URL"
            ))
        })
    };
    let basic_auth = raw
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_none_or(|methods| {
            methods.iter().any(|m| m == "client_secret_basic")
                || !methods.iter().any(|m| m == "client_secret_post")
        });
    Ok(Discovery {
        authorization_endpoint: endpoint("authorization_endpoint", &raw.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", &raw.token_endpoint)?,
        jwks_uri: endpoint("jwks_uri", &raw.jwks_uri)?,
        issuer: raw.issuer,
        basic_auth,
    })
}

/// Starts a sign-in: records state, nonce and PKCE verifier; returns the
/// provider's authorization URL.
pub async fn start(
    state: &AppState,
    app: &app::Model,
    name: &str,
    browser: bool,
) -> Result<(Started, Url)> {
    let provider = providers::usable(state, app.id, name, KIND_OIDC).await?;
    let config = oidc_config(&provider)?;
    let discovery = discover(state, config).await?;
    let started = flow::begin(state, app.id, name, browser, true).await?;
    let mut url = discovery.authorization_endpoint.clone();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &config.client_id)
        .append_pair(
            "redirect_uri",
            &providers::callback_url(state, &app.name, name),
        )
        .append_pair("scope", &config.scopes.join(" "))
        .append_pair("state", &started.state)
        .append_pair("nonce", &started.nonce)
        .append_pair(
            "code_challenge",
            &started.code_challenge().unwrap_or_default(),
        )
        .append_pair("code_challenge_method", "S256");
    Ok((started, url))
}

/// The authorization response (query or form post).
#[derive(Clone, Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207 `iss`: when present it must be the provider's issuer.
    pub iss: Option<String>,
}

/// The callback: consumes the state, exchanges the code with the PKCE verifier,
/// verifies the ID token and signs in.
pub async fn callback(
    state: &AppState,
    app: &app::Model,
    name: &str,
    input: Callback,
    binding: Option<&str>,
    meta: &RequestMeta,
) -> Result<SignedIn> {
    let provider = providers::usable(state, app.id, name, KIND_OIDC).await?;
    let config = oidc_config(&provider)?;
    let consumed = flow::consume(
        state,
        app.id,
        name,
        input.state.as_deref().unwrap_or_default(),
        binding,
    )
    .await?;
    let discovery = discover(state, config).await?;
    if let Some(iss) = &input.iss
        && *iss != discovery.issuer
    {
        return Err(Error::rejected(
            flow::INVALID_STATE,
            "the authorization response comes from another issuer (iss)",
        ));
    }
    if let Some(error) = &input.error {
        return Err(upstream_error(name, error));
    }
    let code = input
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or_else(|| Error::invalid_field("code", "is required"))?;
    let verifier = consumed
        .code_verifier
        .ok_or_else(|| Error::internal("an OIDC flow has no PKCE verifier"))?;
    let secret = provider.open_secret(state)?;
    let callback = providers::callback_url(state, &app.name, name);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", callback.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let basic = match &secret {
        Some(secret) if discovery.basic_auth => Some((config.client_id.as_str(), secret.as_str())),
        Some(secret) => {
            form.push(("client_id", &config.client_id));
            form.push(("client_secret", secret));
            None
        }
        None => {
            form.push(("client_id", &config.client_id));
            None
        }
    };
    let id_token = exchange_code(state, &discovery.token_endpoint, &form, basic, name).await?;
    let audiences = vec![config.client_id.clone()];
    let expected = Expected {
        jwks_url: &discovery.jwks_uri,
        issuer: &discovery.issuer,
        audiences: &audiences,
        algorithms: &[SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA],
        nonce: NonceCheck::Stored(&consumed.nonce_hash),
    };
    let verified = jwks::verify_id_token(state, &id_token, &expected).await;
    let claims = record_failure(state, app, name, KIND_OIDC, verified, meta).await?;
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str);
    let name_claim = str_claim("name").map(str::to_owned).or_else(|| {
        let parts: Vec<&str> = [str_claim("given_name"), str_claim("family_name")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let upstream = Upstream {
        provider: name.to_owned(),
        method: KIND_OIDC,
        flow: "web",
        subject: str_claim("sub").unwrap_or_default().to_owned(),
        email: Upstream::email_from(str_claim("email")),
        // No `email_verified` claim means unverified (some providers let users type
        // any address).
        email_verified: jwks::truthy(&claims, "email_verified"),
        display_name: Upstream::name_from(name_claim),
    };
    identities::sign_in(state, app, &upstream, meta).await
}
