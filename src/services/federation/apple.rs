//! Sign in with Apple: the native flow (an app posts Apple's identity token) and the
//! web flow (redirect to Apple, `form_post` callback, code exchanged with a client
//! secret JWT signed ES256 by the team's `.p8` key).

use std::sync::Arc;

use entity::app;
use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::{
    Federation, exchange_code,
    flow::{self, Started},
    identities::{self, SignedIn, Upstream},
    jwks::{self, Expected, NonceCheck},
    providers::{self, APPLE, AppleConfig, Config, KIND_APPLE, Provider},
    record_failure, upstream_error,
};
use crate::{
    crypto::{jwt, keys::SigningAlg},
    error::{Error, Result},
    request::RequestMeta,
    state::AppState,
};

/// Lifetime of the client secret JWT Heimdall signs for Apple's token endpoint.
pub const CLIENT_SECRET_TTL: i64 = 3600;
/// A cached client secret is replaced when it has less than this left.
pub const CLIENT_SECRET_MIN_LEFT: i64 = 300;

/// The name Apple sends (only) on a user's first sign-in.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppleName {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl AppleName {
    pub fn display(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref().map(str::trim))
            .filter(|p| !p.is_empty())
            .collect();
        Upstream::name_from((!parts.is_empty()).then(|| parts.join(" ")))
    }
}

/// `POST /{slug}/v1/auth/apple`.
#[derive(Clone, Debug, Default)]
pub struct NativeInput {
    pub identity_token: String,
    /// The raw nonce the app hashed (SHA-256, hex) into Apple's request.
    pub nonce: Option<String>,
    pub name: Option<AppleName>,
}

fn apple_config(provider: &Provider) -> Result<&AppleConfig> {
    match &provider.config {
        Config::Apple(config) => Ok(config),
        Config::Oidc(_) => Err(Error::internal("the apple provider has the wrong kind")),
    }
}

fn config_url(value: &str, name: &str) -> Result<Url> {
    Url::parse(value).map_err(|_| Error::internal(format!("{name} is not a URL")))
}

fn upstream_identity(
    claims: &serde_json::Map<String, serde_json::Value>,
    name: Option<&AppleName>,
    flow: &'static str,
) -> Upstream {
    let str_claim = |n: &str| claims.get(n).and_then(serde_json::Value::as_str);
    Upstream {
        provider: APPLE.to_owned(),
        method: KIND_APPLE,
        flow,
        subject: str_claim("sub").unwrap_or_default().to_owned(),
        // Private-relay addresses (`is_private_email`) are ordinary verified ones.
        email: Upstream::email_from(str_claim("email")),
        email_verified: jwks::truthy(claims, "email_verified"),
        display_name: name.and_then(AppleName::display),
    }
}

/// Native sign-in: verifies Apple's identity token (RS256 with Apple's key, `iss`
/// Apple, `aud` one of the app's bundle ids or its services id, `exp`, and the
/// nonce when the app sends one), then signs in, links or creates the user.
pub async fn sign_in_native(
    state: &AppState,
    app: &app::Model,
    input: NativeInput,
    meta: &RequestMeta,
) -> Result<SignedIn> {
    let provider = providers::usable(state, app.id, APPLE, KIND_APPLE).await?;
    let config = apple_config(&provider)?;
    if let Some(nonce) = &input.nonce
        && (nonce.is_empty() || nonce.len() > 512)
    {
        return Err(Error::invalid_field("nonce", "must be 1-512 characters"));
    }
    let jwks_url = config_url(&state.config.apple_jwks_url, "HEIMDALL_APPLE_JWKS_URL")?;
    let audiences = config.audiences();
    let expected = Expected {
        jwks_url: &jwks_url,
        issuer: &state.config.apple_issuer,
        audiences: &audiences,
        algorithms: &[SigningAlg::RS256],
        nonce: input
            .nonce
            .as_deref()
            .map_or(NonceCheck::Skip, NonceCheck::Sha256Of),
    };
    let verified = jwks::verify_id_token(state, &input.identity_token, &expected).await;
    let claims = record_failure(state, app, APPLE, KIND_APPLE, verified, meta).await?;
    let upstream = upstream_identity(&claims, input.name.as_ref(), "native");
    identities::sign_in(state, app, &upstream, meta).await
}

/// The parts of the Apple configuration the web flow needs.
struct WebConfig<'a> {
    services_id: &'a str,
    team_id: &'a str,
    key_id: &'a str,
}

fn web_config(provider: &Provider) -> Result<WebConfig<'_>> {
    let config = apple_config(provider)?;
    match (&config.services_id, &config.team_id, &config.key_id) {
        (Some(services_id), Some(team_id), Some(key_id)) if provider.has_secret() => {
            Ok(WebConfig {
                services_id,
                team_id,
                key_id,
            })
        }
        _ => Err(Error::conflict(
            "web sign-in with Apple needs services_id, team_id, key_id and private_key in the \
             app's Apple configuration",
        )),
    }
}

/// Starts the web flow: records state and nonce, and returns Apple's authorization
/// URL (`response_mode=form_post`).
pub async fn start(state: &AppState, app: &app::Model, browser: bool) -> Result<(Started, Url)> {
    let provider = providers::usable(state, app.id, APPLE, KIND_APPLE).await?;
    let web = web_config(&provider)?;
    if browser && apple_config(&provider)?.redirect_uri.is_none() {
        return Err(Error::conflict(
            "web sign-in with Apple in a browser needs a redirect_uri in the app's Apple \
             configuration",
        ));
    }
    let started = flow::begin(state, app.id, APPLE, browser, false).await?;
    let mut url = config_url(
        &state.config.apple_authorize_url,
        "HEIMDALL_APPLE_AUTHORIZE_URL",
    )?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("response_mode", "form_post")
        .append_pair("client_id", web.services_id)
        .append_pair(
            "redirect_uri",
            &providers::callback_url(state, &app.name, APPLE),
        )
        .append_pair("scope", "name email")
        .append_pair("state", &started.state)
        .append_pair("nonce", &started.nonce);
    Ok((started, url))
}

/// What Apple posts to the callback.
#[derive(Clone, Debug, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// JSON `{"name": {"firstName", "lastName"}, "email"}`, first sign-in only.
    pub user: Option<String>,
    pub error: Option<String>,
}

/// The web flow's callback: consumes the state, exchanges the code at Apple's token
/// endpoint, verifies the identity token (`aud` = services id, nonce of this flow)
/// and signs in.
pub async fn callback(
    state: &AppState,
    app: &app::Model,
    input: Callback,
    binding: Option<&str>,
    meta: &RequestMeta,
) -> Result<SignedIn> {
    let provider = providers::usable(state, app.id, APPLE, KIND_APPLE).await?;
    let consumed = flow::consume(
        state,
        app.id,
        APPLE,
        input.state.as_deref().unwrap_or_default(),
        binding,
    )
    .await?;
    if let Some(error) = &input.error {
        return Err(upstream_error("Apple", error));
    }
    let code = input
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| Error::invalid_field("code", "is required"))?;
    let web = web_config(&provider)?;
    let secret = client_secret(state, &provider, &web).await?;
    let callback = providers::callback_url(state, &app.name, APPLE);
    let token_url = config_url(&state.config.apple_token_url, "HEIMDALL_APPLE_TOKEN_URL")?;
    let id_token = exchange_code(
        state,
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &callback),
            ("client_id", web.services_id),
            ("client_secret", &secret),
        ],
        None,
        "Apple",
    )
    .await?;
    let jwks_url = config_url(&state.config.apple_jwks_url, "HEIMDALL_APPLE_JWKS_URL")?;
    let audiences = vec![web.services_id.to_owned()];
    let expected = Expected {
        jwks_url: &jwks_url,
        issuer: &state.config.apple_issuer,
        audiences: &audiences,
        algorithms: &[SigningAlg::RS256],
        nonce: NonceCheck::Stored(&consumed.nonce_hash),
    };
    let verified = jwks::verify_id_token(state, &id_token, &expected).await;
    let claims = record_failure(state, app, APPLE, KIND_APPLE, verified, meta).await?;
    let name = input
        .user
        .as_deref()
        .and_then(|u| serde_json::from_str::<serde_json::Value>(u).ok())
        .and_then(|u| serde_json::from_value::<AppleName>(u.get("name")?.clone()).ok());
    let upstream = upstream_identity(&claims, name.as_ref(), "web");
    identities::sign_in(state, app, &upstream, meta).await
}

/// The client secret for Apple's token endpoint: a JWT signed ES256 with the `.p8`
/// key (`kid` = key id; `iss` team id, `sub` services id, `aud` Apple, short `exp`),
/// reused until it nears expiry. The cache key includes the configuration's
/// `updated_at`, so a new key or id takes effect at once.
async fn client_secret(
    state: &AppState,
    provider: &Provider,
    web: &WebConfig<'_>,
) -> Result<String> {
    let now = state.now().timestamp();
    let key = (
        provider.model.id,
        provider.model.updated_at.timestamp_micros(),
    );
    let federation: &Federation = &state.federation;
    if let Some(cached) = federation.apple_secrets.get(&key).await
        && cached.1 - now > CLIENT_SECRET_MIN_LEFT
    {
        return Ok(cached.0.clone());
    }
    let pem = provider
        .open_secret(state)?
        .ok_or_else(|| Error::internal("the Apple private key is missing"))?;
    let signing_key = providers::apple_signing_key(&pem)
        .map_err(|_| Error::internal("the stored Apple private key does not parse"))?;
    let exp = now + CLIENT_SECRET_TTL;
    let claims = json!({
        "iss": web.team_id,
        "iat": now,
        "exp": exp,
        "aud": state.config.apple_issuer,
        "sub": web.services_id,
    });
    let token = jwt::sign(
        &jwt::encoded_header(SigningAlg::ES256, web.key_id),
        &signing_key,
        &claims,
    )?;
    federation
        .apple_secrets
        .insert(key, Arc::new((token.clone(), exp)))
        .await;
    Ok(token)
}
