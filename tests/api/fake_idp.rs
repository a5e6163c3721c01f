//! A fake upstream identity provider on loopback, started inside the test process:
//! Sign in with Apple (its own RSA JWKS; a token endpoint that verifies the ES256
//! client-secret JWT with the public half of the test's `.p8` key) or a generic
//! OpenID Connect issuer (discovery, JWKS, token endpoint with client_secret_basic
//! and PKCE). Tokens are minted and client secrets verified with `jsonwebtoken`.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Form, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use heimdall::crypto::keys::{self, SigningAlg};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde_json::{Value, json};

pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// A signing key of the fake provider (or a rogue one for forgeries).
#[derive(Clone)]
pub struct FakeKey {
    pub kid: String,
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

/// PKCS#8 DER as a PEM block, the way Apple ships `.p8` files.
pub fn pem_of(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

impl FakeKey {
    pub fn rsa(kid: &str) -> Self {
        let generated = keys::generate(SigningAlg::RS256).unwrap();
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(pem_of(&generated.pkcs8).as_bytes()).unwrap(),
            jwk: keys::published_jwk(kid, SigningAlg::RS256, &generated.public_jwk),
        }
    }

    pub fn ec(kid: &str) -> Self {
        let generated = keys::generate(SigningAlg::ES256).unwrap();
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_pem(pem_of(&generated.pkcs8).as_bytes()).unwrap(),
            jwk: keys::published_jwk(kid, SigningAlg::ES256, &generated.public_jwk),
        }
    }

    /// A token signed by this key, with its `kid` (or another one) in the header.
    pub fn mint_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        encode(&header, claims, &self.encoding).unwrap()
    }

    pub fn mint(&self, claims: &Value) -> String {
        self.mint_as(&self.kid, claims)
    }
}

/// An Apple `.p8` key generated for a test: the PEM to configure in Heimdall and
/// the public coordinates the fake verifies client secrets with.
pub struct P8 {
    pub pem: String,
    pub x: String,
    pub y: String,
}

impl P8 {
    pub fn generate() -> Self {
        let generated = keys::generate(SigningAlg::ES256).unwrap();
        Self {
            pem: pem_of(&generated.pkcs8),
            x: generated.public_jwk["x"].as_str().unwrap().to_owned(),
            y: generated.public_jwk["y"].as_str().unwrap().to_owned(),
        }
    }
}

/// How the token endpoint authenticates Heimdall.
pub enum ClientCheck {
    /// Apple: `client_secret` is an ES256 JWT signed by the `.p8` key.
    Apple {
        services_id: String,
        team_id: String,
        key_id: String,
        x: String,
        y: String,
    },
    /// OIDC: `client_secret_basic` with these credentials.
    Basic { client_id: String, secret: String },
}

/// What the token endpoint will answer for a code.
pub struct Grant {
    pub id_token: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
}

pub struct Inner {
    pub issuer: String,
    pub base: String,
    pub keys: Mutex<Vec<FakeKey>>,
    pub grants: Mutex<HashMap<String, Grant>>,
    pub jwks_hits: AtomicUsize,
    pub token_hits: AtomicUsize,
    pub jwks_delay_ms: AtomicU64,
    pub client: ClientCheck,
    /// Client secrets (Apple) that verified, in order.
    pub client_secrets: Mutex<Vec<String>>,
    /// Claims of the last verified Apple client secret, with its header's `kid`.
    pub last_secret_claims: Mutex<Option<(String, Value)>>,
    /// Why the token endpoint refused requests.
    pub refusals: Mutex<Vec<String>>,
    /// The `traceparent` headers of JWKS requests, in order.
    pub traceparents: Mutex<Vec<String>>,
}

#[derive(Clone)]
pub struct FakeIdp {
    pub base: String,
    pub inner: Arc<Inner>,
}

impl FakeIdp {
    /// Starts a fake Apple (issuer `https://appleid.apple.com`, as Apple's tokens say).
    pub async fn apple(client: ClientCheck, key: FakeKey) -> Self {
        Self::start(Some(APPLE_ISSUER.to_owned()), client, key).await
    }

    /// Starts a fake OIDC issuer whose issuer is its own base URL.
    pub async fn oidc(client: ClientCheck, key: FakeKey) -> Self {
        Self::start(None, client, key).await
    }

    async fn start(issuer: Option<String>, client: ClientCheck, key: FakeKey) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let inner = Arc::new(Inner {
            issuer: issuer.unwrap_or_else(|| base.clone()),
            base: base.clone(),
            keys: Mutex::new(vec![key]),
            grants: Mutex::new(HashMap::new()),
            jwks_hits: AtomicUsize::new(0),
            token_hits: AtomicUsize::new(0),
            jwks_delay_ms: AtomicU64::new(0),
            client,
            client_secrets: Mutex::new(Vec::new()),
            last_secret_claims: Mutex::new(None),
            refusals: Mutex::new(Vec::new()),
            traceparents: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/jwks", get(jwks))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/token", post(token))
            .route("/huge", get(huge))
            .with_state(inner.clone());
        tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        Self { base, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn jwks_hits(&self) -> usize {
        self.inner.jwks_hits.load(Ordering::SeqCst)
    }

    pub fn publish(&self, key: FakeKey) {
        self.inner.keys.lock().unwrap().push(key);
    }

    pub fn grant(&self, code: &str, grant: Grant) {
        self.inner
            .grants
            .lock()
            .unwrap()
            .insert(code.to_owned(), grant);
    }

    pub fn refusals(&self) -> Vec<String> {
        self.inner.refusals.lock().unwrap().clone()
    }

    pub fn client_secrets(&self) -> Vec<String> {
        self.inner.client_secrets.lock().unwrap().clone()
    }
}

async fn jwks(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Json<Value> {
    inner.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if let Some(traceparent) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        inner
            .traceparents
            .lock()
            .unwrap()
            .push(traceparent.to_owned());
    }
    let delay = inner.jwks_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let keys: Vec<Value> = inner
        .keys
        .lock()
        .unwrap()
        .iter()
        .map(|k| k.jwk.clone())
        .collect();
    Json(json!({ "keys": keys }))
}

/// A JSON document larger than Heimdall accepts from a provider.
async fn huge() -> Json<Value> {
    Json(json!({ "padding": "x".repeat(300 * 1024) }))
}

async fn discovery(State(inner): State<Arc<Inner>>) -> Json<Value> {
    Json(json!({
        "issuer": inner.issuer,
        "authorization_endpoint": format!("{}/authorize", inner.base),
        "token_endpoint": format!("{}/token", inner.base),
        "jwks_uri": format!("{}/jwks", inner.base),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

fn check_client(
    inner: &Inner,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(), String> {
    match &inner.client {
        ClientCheck::Apple {
            services_id,
            team_id,
            key_id,
            x,
            y,
        } => {
            if form.get("client_id") != Some(services_id) {
                return Err("client_id is not the services id".into());
            }
            let secret = form.get("client_secret").ok_or("no client_secret")?;
            let header = decode_header(secret).map_err(|e| format!("header: {e}"))?;
            if header.alg != Algorithm::ES256 {
                return Err("client secret is not ES256".into());
            }
            if header.kid.as_deref() != Some(key_id.as_str()) {
                return Err("client secret kid is not the key id".into());
            }
            let mut validation = Validation::new(Algorithm::ES256);
            validation.set_audience(&[APPLE_ISSUER]);
            validation.set_issuer(&[team_id]);
            validation.sub = Some(services_id.clone());
            validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
            let key = DecodingKey::from_ec_components(x, y).unwrap();
            let claims = decode::<Value>(secret, &key, &validation)
                .map_err(|e| format!("client secret: {e}"))?
                .claims;
            let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
            if !(1..=86_400).contains(&lifetime) {
                return Err(format!("client secret lifetime {lifetime}s is not short"));
            }
            inner.client_secrets.lock().unwrap().push(secret.clone());
            *inner.last_secret_claims.lock().unwrap() = Some((key_id.clone(), claims));
            Ok(())
        }
        ClientCheck::Basic { client_id, secret } => {
            let value = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic "))
                .ok_or("no basic credentials")?;
            let decoded = String::from_utf8(STANDARD.decode(value).map_err(|_| "not base64")?)
                .map_err(|_| "not utf-8")?;
            let (id, pw) = decoded.split_once(':').ok_or("no colon")?;
            let unescape = |s: &str| -> String {
                url::form_urlencoded::parse(format!("v={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if unescape(id) != *client_id || unescape(pw) != *secret {
                return Err("wrong client credentials".into());
            }
            Ok(())
        }
    }
}

async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    inner.token_hits.fetch_add(1, Ordering::SeqCst);
    let refuse = |status: StatusCode, error: &str, why: String| {
        inner.refusals.lock().unwrap().push(why);
        (status, Json(json!({ "error": error })))
    };
    if let Err(why) = check_client(&inner, &headers, &form) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client", why);
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type".into(),
        );
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = inner.grants.lock().unwrap().remove(&code) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown code".into(),
        );
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri mismatch".into(),
        );
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let computed = URL_SAFE_NO_PAD.encode(heimdall::crypto::sha256(verifier.as_bytes()));
        if &computed != challenge {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verifier mismatch".into(),
            );
        }
    }
    (
        StatusCode::OK,
        Json(json!({
            "access_token": "upstream-access-token",
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": grant.id_token,
        })),
    )
}
