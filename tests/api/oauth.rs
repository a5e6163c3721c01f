//! The OAuth 2.0 / OpenID Connect provider: clients, the authorization
//! endpoint (API path with a bearer), codes with PKCE, tokens, ID tokens verified by
//! a real OIDC library, userinfo, revocation, consent management.

use base64::{Engine, engine::general_purpose::STANDARD};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app, spawn_app_with};

pub const REDIRECT: &str = "https://client.example.com/callback";

/// acme, a developer (who registers clients) and a user (who signs in with them).
pub struct Setup {
    pub app: TestApp,
    pub developer: String,
    pub user: String,
}

pub async fn setup() -> Setup {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let user = app.user_token("acme", "alice@example.com", "member").await;
    Setup {
        app,
        developer,
        user,
    }
}

pub struct Client {
    pub id: String,
    pub secret: Option<String>,
}

pub async fn register(app: &TestApp, token: &str, body: Value) -> Client {
    let resp = app.post("/acme/v1/oauth/clients", Some(token), body).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    Client {
        id: resp.body["data"]["id"].as_str().unwrap().to_owned(),
        secret: resp.body["data"]["client_secret"]
            .as_str()
            .map(str::to_owned),
    }
}

pub async fn confidential(s: &Setup, scopes: Value) -> Client {
    register(
        &s.app,
        &s.developer,
        json!({"name": "My App", "redirect_uris": [REDIRECT], "allowed_scopes": scopes}),
    )
    .await
}

/// `GET /acme/v1/oauth/authorize` with `query` and an optional bearer.
pub async fn authorize(app: &TestApp, token: Option<&str>, query: &[(&str, &str)]) -> Resp {
    let mut request = app
        .client
        .get(app.url("/acme/v1/oauth/authorize"))
        .query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    read(request.send().await.unwrap()).await
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(resp: &Resp) -> std::collections::HashMap<String, String> {
    assert!(
        resp.status == 302 || resp.status == 303,
        "{} {}",
        resp.status,
        resp.text
    );
    let location = resp.header("location").unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn pkce() -> (String, String) {
    let verifier = heimdall::crypto::b64url(&heimdall::crypto::random_bytes(32).unwrap());
    let challenge = heimdall::crypto::b64url(&heimdall::crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// Runs authorize + consent for `token`; returns the code.
pub async fn code_for(
    app: &TestApp,
    token: &str,
    client: &Client,
    scope: &str,
    challenge: Option<&str>,
) -> String {
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    if let Some(c) = challenge {
        query.push(("code_challenge", c));
        query.push(("code_challenge_method", "S256"));
    }
    let resp = authorize(app, Some(token), &query).await;
    let resp = if resp.status == 200 {
        assert_eq!(resp.body["consent_required"], true, "{}", resp.text);
        let pending = resp.body["pending_authorization_id"].as_str().unwrap();
        app.post(
            "/acme/v1/oauth/authorize/consent",
            Some(token),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await
    } else {
        resp
    };
    assert_eq!(resp.status, 302, "a 302 to the client");
    let params = location_params(&resp);
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], app.issuer("acme"));
    params["code"].clone()
}

pub async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Resp {
    let mut request = app.client.post(app.url("/acme/v1/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    read(request.send().await.unwrap()).await
}

pub async fn exchange(app: &TestApp, client: &Client, code: &str, verifier: Option<&str>) -> Resp {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client.id.as_str()),
    ];
    if let Some(secret) = &client.secret {
        form.push(("client_secret", secret));
    }
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token_request(app, &form, None).await
}

fn oauth_error(resp: &Resp, status: u16, error: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(resp.body["error"], error, "{}", resp.text);
}

#[tokio::test]
async fn clients_are_registered_with_seed_003_shapes() {
    let s = setup().await;
    let app = &s.app;
    let resp = app
        .post(
            "/acme/v1/oauth/clients",
            Some(&s.developer),
            json!({"name": "My App", "description": "Example integration", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "profile", "email"], "client_type": "confidential"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let data = &resp.body["data"];
    for field in [
        "id",
        "name",
        "description",
        "redirect_uris",
        "allowed_scopes",
        "client_type",
        "is_active",
        "is_first_party",
        "client_secret",
    ] {
        assert!(data.get(field).is_some(), "{field}");
    }
    assert!(
        data["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("hm_sec_")
    );
    assert_eq!(data["is_first_party"], false);
    let id = data["id"].as_str().unwrap();
    assert_eq!(
        resp.body["_links"]["self"],
        format!("/acme/v1/oauth/clients/{id}")
    );
    assert!(!resp.text.contains("secret_hash"));

    // Defaults, listing, reading: the secret never again.
    let second = register(
        app,
        &s.developer,
        json!({"name": "Second", "redirect_uris": ["http://localhost:8080/cb"]}),
    )
    .await;
    let got = app
        .get(
            &format!("/acme/v1/oauth/clients/{}", second.id),
            Some(&s.developer),
        )
        .await;
    assert_eq!(
        got.body["data"]["allowed_scopes"],
        json!(["openid", "profile", "email"])
    );
    assert!(got.body["data"].get("client_secret").is_none());
    let mine = app.get("/acme/v1/oauth/clients", Some(&s.developer)).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 2);
    assert!(!mine.text.contains("hm_sec_"));

    // Ownership: another user sees nothing, and cannot change or delete.
    assert!(
        app.get("/acme/v1/oauth/clients", Some(&s.user)).await.body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.get(&format!("/acme/v1/oauth/clients/{id}"), Some(&s.user))
        .await
        .error(404, "not_found");
    app.delete(&format!("/acme/v1/oauth/clients/{id}"), Some(&s.user))
        .await
        .error(404, "not_found");
    let resp = app.get("/acme/v1/oauth/clients/all", Some(&s.user)).await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["oauth_clients:read"])
    );
    // An admin (oauth_clients:*) sees all of them.
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    assert_eq!(
        app.get("/acme/v1/oauth/clients/all", Some(&admin))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let resp = app
        .patch(
            &format!("/acme/v1/oauth/clients/{id}"),
            Some(&s.developer),
            json!({"name": "Renamed", "logo_url": "https://client.example.com/logo.png"}),
        )
        .await;
    assert_eq!(resp.body["data"]["name"], "Renamed", "{}", resp.text);
    let resp = app
        .post(
            &format!("/acme/v1/oauth/clients/{id}/regenerate-secret"),
            Some(&s.developer),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["client_id"], id);
    assert!(
        resp.body["data"]["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("hm_sec_")
    );
    assert!(
        resp.body["data"]["message"]
            .as_str()
            .unwrap()
            .contains("won't be shown again")
    );
    assert_eq!(
        app.delete(&format!("/acme/v1/oauth/clients/{id}"), Some(&s.developer))
            .await
            .status,
        204
    );
    assert_eq!(app.audit("oauth_client.created").await.len(), 2);
    assert_eq!(app.audit("oauth_client.secret_regenerated").await.len(), 1);
}

#[tokio::test]
async fn redirect_uris_and_first_party_rules() {
    let s = setup().await;
    let app = &s.app;
    for bad in [
        "http://client.example.com/cb",
        "https://client.example.com/cb#frag",
        "https://*.example.com/cb",
        "javascript:alert(1)",
        "not a uri",
        "/relative",
    ] {
        let resp = app
            .post(
                "/acme/v1/oauth/clients",
                Some(&s.developer),
                json!({"name": "x", "redirect_uris": [bad]}),
            )
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"]["redirect_uris"].is_string(),
            "{bad}: {}",
            resp.text
        );
    }
    for good in [
        "http://127.0.0.1:3000/cb",
        "http://[::1]/cb",
        "com.example.app:/oauth2redirect",
        "myapp://callback",
    ] {
        let resp = app
            .post(
                "/acme/v1/oauth/clients",
                Some(&s.developer),
                json!({"name": "x", "redirect_uris": [good], "client_type": "public"}),
            )
            .await;
        assert_eq!(resp.status, 201, "{good}: {}", resp.text);
        assert!(
            resp.body["data"].get("client_secret").is_none(),
            "public clients have no secret"
        );
    }
    app.post(
        "/acme/v1/oauth/clients",
        Some(&s.developer),
        json!({"name": "x", "redirect_uris": []}),
    )
    .await
    .error(400, "invalid_request");
    app.post(
        "/acme/v1/oauth/clients",
        Some(&s.developer),
        json!({"name": "x", "redirect_uris": [REDIRECT], "allowed_scopes": ["admin"]}),
    )
    .await
    .error(400, "invalid_request");

    // First-party clients: created and changed only through the admin lane.
    app.post(
        "/acme/v1/oauth/clients",
        Some(&s.developer),
        json!({"name": "x", "redirect_uris": [REDIRECT], "is_first_party": true}),
    )
    .await
    .error(403, "forbidden");
    let pak = app.create_pak("acme").await;
    let resp = app
        .post(
            "/v1/apps/acme/oauth-clients",
            Some(&pak),
            json!({"name": "Dashboard", "redirect_uris": [REDIRECT], "is_first_party": true}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let id = resp.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        resp.body["_links"]["self"],
        format!("/v1/apps/acme/oauth-clients/{id}")
    );
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    app.patch(
        &format!("/acme/v1/oauth/clients/{id}"),
        Some(&admin),
        json!({"name": "Hijacked"}),
    )
    .await
    .error(403, "forbidden");
    app.delete(&format!("/acme/v1/oauth/clients/{id}"), Some(&admin))
        .await
        .error(403, "forbidden");
    let resp = app
        .patch(
            &format!("/v1/apps/acme/oauth-clients/{id}"),
            Some(&pak),
            json!({"name": "Dashboard 2"}),
        )
        .await;
    assert_eq!(resp.body["data"]["name"], "Dashboard 2");
    assert!(
        app.get("/v1/apps/acme/oauth-clients", Some(&pak))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len()
            >= 5
    );
}

/// A client for `openidconnect` over our reqwest.
async fn http_client(
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (parts, body) = request.into_parts();
    let mut builder = client
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in parts.headers.iter() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await?;
    let mut out = openidconnect::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        out = out.header(name.as_str(), value.as_bytes());
    }
    let body = response.bytes().await?.to_vec();
    Ok(out.body(body).unwrap())
}

#[tokio::test]
async fn the_code_flow_works_with_a_real_oidc_library() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid", "profile", "email", "offline_access"])).await;
    app.patch(
        "/acme/v1/me",
        Some(&s.user),
        json!({"display_name": "Alice"}),
    )
    .await;

    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.issuer("acme")).unwrap(),
        &http_client,
    )
    .await
    .expect("discovery");
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.clone()),
        Some(ClientSecret::new(client.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = oidc
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The user's own login UI drives the authorization with their token (the API path).
    let consent = read(
        app.client
            .get(auth_url.as_str())
            .bearer_auth(&s.user)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert_eq!(consent.body["client"]["name"], "My App");
    let scopes: Vec<&str> = consent.body["requested_scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["openid", "profile", "email", "offline_access"]);
    assert!(consent.body["requested_scopes"][0]["description"].is_string());
    let pending = consent.body["pending_authorization_id"].as_str().unwrap();
    let approved = app
        .post(
            "/acme/v1/oauth/authorize/consent",
            Some(&s.user),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await;
    let params = location_params(&approved);
    assert!(approved.header("location").unwrap().starts_with(REDIRECT));
    assert_eq!(&params["state"], csrf.secret());
    assert_eq!(params["iss"], app.issuer("acme"), "RFC 9207");
    assert!(params["code"].starts_with("hm_ac_"));

    let tokens = oidc
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .expect("code exchange");
    assert!(tokens.access_token().secret().starts_with("hm_at_"));
    assert!(
        tokens
            .refresh_token()
            .unwrap()
            .secret()
            .starts_with("hm_rt_")
    );
    let id_token = tokens.id_token().expect("an ID token with openid");
    let claims = id_token
        .claims(&oidc.id_token_verifier(), &nonce)
        .expect("ID token verifies through jwks_uri");
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(claims.name().unwrap().get(None).unwrap().as_str(), "Alice");
    assert!(claims.auth_time().is_some());

    // userinfo, live.
    let at = tokens.access_token().secret().to_owned();
    let info = app.get("/acme/v1/oauth/userinfo", Some(&at)).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["email"], "alice@example.com");
    assert_eq!(info.body["name"], "Alice");
    assert!(
        info.body.get("roles").is_none(),
        "fields outside the granted scopes are omitted"
    );
    app.patch(
        "/acme/v1/me",
        Some(&s.user),
        json!({"display_name": "Alice B."}),
    )
    .await;
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&at)).await.body["name"],
        "Alice B."
    );
    let introspected = app
        .post("/acme/v1/oauth/introspect", Some(&at), json!({}))
        .await;
    assert_eq!(introspected.body["active"], true);
    assert_eq!(introspected.body["client_id"], client.id.as_str());

    // Refresh: rotation, inherited scopes, the old access token ends.
    let refreshed = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token().unwrap().secret()),
        ],
        Some((&client.id, client.secret.as_deref().unwrap())),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    assert_eq!(
        refreshed.body["scope"],
        "openid profile email offline_access"
    );
    assert_ne!(
        refreshed.body["refresh_token"],
        tokens.refresh_token().unwrap().secret().as_str()
    );
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&at)).await.status,
        401
    );
    let new_at = refreshed.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&new_at))
            .await
            .status,
        200
    );
    // Reusing the old refresh token revokes the family.
    let reuse = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token().unwrap().secret()),
        ],
        Some((&client.id, client.secret.as_deref().unwrap())),
    )
    .await;
    oauth_error(&reuse, 400, "invalid_grant");
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&new_at))
            .await
            .status,
        401
    );
    let next = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refreshed.body["refresh_token"].as_str().unwrap(),
            ),
        ],
        Some((&client.id, client.secret.as_deref().unwrap())),
    )
    .await;
    oauth_error(&next, 400, "invalid_grant");
}

#[tokio::test]
async fn authorization_errors_redirect_only_to_registered_uris() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid", "email"])).await;
    let public = register(app, &s.developer, json!({"name": "Mobile", "redirect_uris": ["com.example.app:/cb"], "client_type": "public"})).await;
    let id = client.id.as_str();

    // No redirect for an unknown client or an unregistered URI: an error page.
    for query in [
        vec![
            ("response_type", "code"),
            ("client_id", "nope"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", "https://evil.example.com/cb"),
            ("scope", "openid"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", "https://client.example.com/callback/extra"),
            ("scope", "openid"),
        ],
        vec![
            ("response_type", "code"),
            ("client_id", id),
            ("scope", "openid"),
        ],
    ] {
        let resp = authorize(app, None, &query).await;
        assert_eq!(resp.status, 400, "{query:?}: {}", resp.text);
        assert!(resp.header("location").is_none());
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(resp.header("x-frame-options"), Some("DENY"));
    }

    // Everything else goes back to the client with state and iss.
    for (query, error) in [
        (
            vec![
                ("response_type", "token"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s1"),
            ],
            "unsupported_response_type",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid roles"),
                ("state", "s1"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("state", "s1"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s1"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
                ("state", "s1"),
                ("code_challenge", &"a".repeat(43)),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
    ] {
        let resp = authorize(app, Some(&s.user), &query).await;
        let params = location_params(&resp);
        assert_eq!(params["error"], error, "{query:?}");
        assert_eq!(params["state"], "s1");
        assert_eq!(params["iss"], app.issuer("acme"));
    }
    // Public clients must use PKCE.
    let resp = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &public.id),
            ("redirect_uri", "com.example.app:/cb"),
            ("scope", "openid"),
            ("state", "s2"),
        ],
    )
    .await;
    assert_eq!(location_params(&resp)["error"], "invalid_request");
    // Repeated parameters are refused.
    let resp = read(
        app.client
            .get(app.url(&format!(
                "/acme/v1/oauth/authorize?client_id={id}&client_id={id}&response_type=code"
            )))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 400);
    // No session and no bearer: an API client is told to sign the user in.
    let resp = read(
        app.client
            .get(app.url("/acme/v1/oauth/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", REDIRECT),
                ("scope", "openid"),
            ])
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    let resp = authorize(
        app,
        None,
        &[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "s3"),
            ("prompt", "none"),
        ],
    )
    .await;
    assert_eq!(location_params(&resp)["error"], "login_required");
}

#[tokio::test]
async fn consent_is_remembered_denied_and_expires() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid", "profile", "email"])).await;
    let code = code_for(app, &s.user, &client, "openid email", None).await;
    assert!(code.starts_with("hm_ac_"));
    // Remembered for the same or fewer scopes: straight to the client.
    let resp = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "email"),
            ("state", "again"),
        ],
    )
    .await;
    assert!(location_params(&resp).contains_key("code"));
    // More scopes: ask again.
    let resp = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(resp.status, 200);
    let pending = resp.body["pending_authorization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let denied = app
        .post(
            "/acme/v1/oauth/authorize/consent",
            Some(&s.user),
            json!({"pending_authorization_id": pending, "approved": false}),
        )
        .await;
    assert_eq!(location_params(&denied)["error"], "access_denied");
    // Answered once.
    app.post(
        "/acme/v1/oauth/authorize/consent",
        Some(&s.user),
        json!({"pending_authorization_id": pending, "approved": true}),
    )
    .await
    .error(410, "gone");
    // Another user cannot answer someone else's request; requests expire after 15 minutes.
    let resp = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
        ],
    )
    .await;
    let pending = resp.body["pending_authorization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/acme/v1/oauth/authorize/consent",
        Some(&s.developer),
        json!({"pending_authorization_id": pending, "approved": true}),
    )
    .await
    .error(404, "not_found");
    app.clock.advance(chrono::Duration::minutes(16));
    let user = app.user_token("acme", "bob@example.com", "member").await;
    let _ = user;
    let fresh_user = app
        .signin("acme", "alice@example.com", "correct horse battery")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/acme/v1/oauth/authorize/consent",
        Some(&fresh_user),
        json!({"pending_authorization_id": pending, "approved": true}),
    )
    .await
    .error(410, "gone");
    assert_eq!(app.audit("consent.granted").await.len(), 1);

    // First-party clients skip consent.
    let pak = app.create_pak("acme").await;
    let first = app
        .post(
            "/v1/apps/acme/oauth-clients",
            Some(&pak),
            json!({"name": "Dashboard", "redirect_uris": [REDIRECT], "is_first_party": true}),
        )
        .await;
    let first_id = first.body["data"]["id"].as_str().unwrap().to_owned();
    let resp = authorize(
        app,
        Some(&fresh_user),
        &[
            ("response_type", "code"),
            ("client_id", &first_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
        ],
    )
    .await;
    assert!(location_params(&resp).contains_key("code"));
}

#[tokio::test]
async fn codes_are_single_use_bound_and_pkce_checked() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid", "email"])).await;
    let other = confidential(&s, json!(["openid"])).await;

    // Replaying a code fails and revokes what the first redemption produced.
    let code = code_for(app, &s.user, &client, "openid", None).await;
    let first = exchange(app, &client, &code, None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(
        first.body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let at = first.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&at)).await.status,
        200
    );
    oauth_error(
        &exchange(app, &client, &code, None).await,
        400,
        "invalid_grant",
    );
    let resp = app.get("/acme/v1/oauth/userinfo", Some(&at)).await;
    assert_eq!(resp.status, 401);
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    // Bound to the client, the redirect URI and the lifetime.
    let code = code_for(app, &s.user, &client, "openid", None).await;
    oauth_error(
        &exchange(app, &other, &code, None).await,
        400,
        "invalid_grant",
    );
    let code = code_for(app, &s.user, &client, "openid", None).await;
    let resp = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://client.example.com/other"),
            ("client_id", &client.id),
            ("client_secret", client.secret.as_deref().unwrap()),
        ],
        None,
    )
    .await;
    oauth_error(&resp, 400, "invalid_grant");
    let code = code_for(app, &s.user, &client, "openid", None).await;
    app.clock.advance(chrono::Duration::minutes(11));
    oauth_error(
        &exchange(app, &client, &code, None).await,
        400,
        "invalid_grant",
    );

    // PKCE: right verifier only, and no downgrade either way.
    let (verifier, challenge) = pkce();
    let code = code_for(app, &s.user, &client, "openid", Some(&challenge)).await;
    oauth_error(
        &exchange(app, &client, &code, None).await,
        400,
        "invalid_grant",
    );
    let code = code_for(app, &s.user, &client, "openid", Some(&challenge)).await;
    let (wrong, _) = pkce();
    oauth_error(
        &exchange(app, &client, &code, Some(&wrong)).await,
        400,
        "invalid_grant",
    );
    let code = code_for(app, &s.user, &client, "openid", Some(&challenge)).await;
    assert_eq!(
        exchange(app, &client, &code, Some(&verifier)).await.status,
        200
    );
    let code = code_for(app, &s.user, &client, "openid", None).await;
    oauth_error(
        &exchange(app, &client, &code, Some(&verifier)).await,
        400,
        "invalid_grant",
    );

    // Client authentication.
    let code = code_for(app, &s.user, &client, "openid", None).await;
    let resp = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
        ],
        None,
    )
    .await;
    oauth_error(&resp, 401, "invalid_client");
    assert!(resp.header("www-authenticate").is_some());
    let resp = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
        Some((&client.id, client.secret.as_deref().unwrap())),
    )
    .await;
    assert_eq!(resp.status, 200, "client_secret_basic: {}", resp.text);
}

#[tokio::test]
async fn ten_parallel_redemptions_one_success() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid"])).await;
    let code = code_for(app, &s.user, &client, "openid", None).await;
    let attempts = (0..10).map(|_| exchange(app, &client, &code, None));
    let responses = futures_util::future::join_all(attempts).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn public_clients_use_pkce_without_a_secret() {
    let s = setup().await;
    let app = &s.app;
    let public = register(app, &s.developer, json!({"name": "Mobile", "redirect_uris": [REDIRECT], "client_type": "public", "allowed_scopes": ["openid", "offline_access"]})).await;
    let (verifier, challenge) = pkce();
    let code = code_for(
        app,
        &s.user,
        &public,
        "openid offline_access",
        Some(&challenge),
    )
    .await;
    let resp = exchange(app, &public, &code, Some(&verifier)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let refreshed = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                resp.body["refresh_token"].as_str().unwrap(),
            ),
            ("client_id", &public.id),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    // A public client presenting a secret is not a public client.
    let code = code_for(app, &s.user, &public, "openid", Some(&challenge)).await;
    let resp = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &public.id),
            ("client_secret", "hm_sec_x"),
            ("code_verifier", &verifier),
        ],
        None,
    )
    .await;
    oauth_error(&resp, 401, "invalid_client");
}

#[tokio::test]
async fn revocation_follows_rfc_7009() {
    let s = setup().await;
    let app = &s.app;
    let client = confidential(&s, json!(["openid", "offline_access"])).await;
    let other = confidential(&s, json!(["openid"])).await;
    let code = code_for(app, &s.user, &client, "openid offline_access", None).await;
    let tokens = exchange(app, &client, &code, None).await.body;
    let (at, rt) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let revoke = |client: &Client, token: &str| {
        let form = vec![
            ("token".to_owned(), token.to_owned()),
            ("client_id".to_owned(), client.id.clone()),
            ("client_secret".to_owned(), client.secret.clone().unwrap()),
        ];
        async move {
            read(
                app.client
                    .post(app.url("/acme/v1/oauth/revoke"))
                    .form(&form)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    // Unknown tokens and other clients' tokens: 200, nothing happens.
    assert_eq!(revoke(&client, "hm_at_unknown").await.status, 200);
    assert_eq!(revoke(&other, at).await.status, 200);
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(at)).await.status,
        200
    );
    // Revoking the refresh token ends the access token too.
    assert_eq!(revoke(&client, rt).await.status, 200);
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(at)).await.status,
        401
    );
    let resp = read(
        app.client
            .post(app.url("/acme/v1/oauth/revoke"))
            .form(&[
                ("token", at),
                ("client_id", &client.id),
                ("client_secret", "hm_sec_wrong"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    oauth_error(&resp, 401, "invalid_client");
    let resp = read(
        app.client
            .post(app.url("/acme/v1/oauth/revoke"))
            .form(&[
                ("client_id", client.id.as_str()),
                ("client_secret", client.secret.as_deref().unwrap()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    oauth_error(&resp, 400, "invalid_request");
}

#[tokio::test]
async fn hs256_id_tokens_verify_with_the_client_secret() {
    let s = setup().await;
    let app = &s.app;
    let client = register(
        app,
        &s.developer,
        json!({"name": "Legacy", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email"], "id_token_signed_response_alg": "HS256"}),
    )
    .await;
    let code = code_for(app, &s.user, &client, "openid email", None).await;
    let tokens = exchange(app, &client, &code, None).await.body;
    let id_token = tokens["id_token"].as_str().unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&[&client.id]);
    validation.set_issuer(&[app.issuer("acme")]);
    let claims = jsonwebtoken::decode::<Value>(
        id_token,
        &jsonwebtoken::DecodingKey::from_secret(client.secret.as_deref().unwrap().as_bytes()),
        &validation,
    )
    .expect("verifies with the client secret")
    .claims;
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    // The secret is kept sealed (never in plaintext) for signing.
    let stored = <entity::oauth_client::Entity as sea_orm::EntityTrait>::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    let row = stored
        .iter()
        .find(|c| c.id.to_string() == client.id)
        .unwrap();
    assert!(row.sealed_secret.as_deref().unwrap().starts_with("v1."));
    assert!(
        !row.sealed_secret
            .as_deref()
            .unwrap()
            .contains(client.secret.as_deref().unwrap())
    );
}

#[tokio::test]
async fn users_review_and_revoke_consents_in_graphql() {
    let s = setup().await;
    let app = &s.app;
    let resp = app
        .graphql(
            Some(&s.developer),
            "mutation($input: CreateOAuthClientInput!) { createOauthClient(input: $input) { client { id name clientType allowedScopes redirectUris } clientSecret } }",
            json!({"input": {"name": "GQL App", "redirectUris": [REDIRECT], "allowedScopes": ["openid", "email", "offline_access"]}}),
        )
        .await;
    let created = &resp.body["data"]["createOauthClient"];
    assert_eq!(
        created["client"]["clientType"], "confidential",
        "{}",
        resp.text
    );
    let client = Client {
        id: created["client"]["id"].as_str().unwrap().to_owned(),
        secret: created["clientSecret"].as_str().map(str::to_owned),
    };
    let resp = app
        .graphql(
            Some(&s.developer),
            "{ myOauthClients { id name } oauthScopes { name description } }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["myOauthClients"][0]["name"], "GQL App");
    assert_eq!(
        resp.body["data"]["oauthScopes"].as_array().unwrap().len(),
        6
    );
    let resp = app
        .graphql(Some(&s.developer), "mutation($id: ID!) { regenerateOauthClientSecret(id: $id) { success clientSecret error } }", json!({"id": client.id}))
        .await;
    assert_eq!(
        resp.body["data"]["regenerateOauthClientSecret"]["success"], true,
        "{}",
        resp.text
    );
    let client = Client {
        id: client.id.clone(),
        secret: resp.body["data"]["regenerateOauthClientSecret"]["clientSecret"]
            .as_str()
            .map(str::to_owned),
    };

    let code = code_for(app, &s.user, &client, "openid email offline_access", None).await;
    let tokens = exchange(app, &client, &code, None).await.body;
    let at = tokens["access_token"].as_str().unwrap().to_owned();
    let resp = app.graphql(Some(&s.user), "{ myOauthConsents { clientId clientName scopes isFirstParty } myOauthTokens { id clientName scopes expiresAt kind } }", json!({})).await;
    assert_eq!(
        resp.body["data"]["myOauthConsents"][0]["clientName"], "GQL App",
        "{}",
        resp.text
    );
    assert_eq!(
        resp.body["data"]["myOauthConsents"][0]["scopes"],
        json!(["openid", "email", "offline_access"])
    );
    let tokens_list = resp.body["data"]["myOauthTokens"].as_array().unwrap();
    assert_eq!(tokens_list.len(), 2, "access and refresh");
    let token_id = tokens_list[0]["id"].as_str().unwrap().to_owned();
    let resp = app
        .graphql(
            Some(&s.user),
            "mutation($id: ID!) { revokeOauthToken(tokenId: $id) }",
            json!({"id": token_id}),
        )
        .await;
    assert_eq!(resp.body["data"]["revokeOauthToken"], true, "{}", resp.text);
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&at)).await.status,
        401
    );

    let code = code_for(app, &s.user, &client, "openid", None).await;
    let at = exchange(app, &client, &code, None).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .graphql(
            Some(&s.user),
            "mutation($id: ID!) { revokeOauthConsent(clientId: $id) }",
            json!({"id": client.id}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["revokeOauthConsent"], true,
        "{}",
        resp.text
    );
    assert_eq!(
        app.get("/acme/v1/oauth/userinfo", Some(&at)).await.status,
        401
    );
    assert!(
        app.graphql(Some(&s.user), "{ myOauthConsents { clientId } }", json!({}))
            .await
            .body["data"]["myOauthConsents"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.audit("consent.revoked").await.len(), 1);
    // Consent is asked again after revocation.
    let resp = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(resp.status, 200);

    let resp = app
        .graphql(
            Some(&s.developer),
            "mutation($id: ID!) { deleteOauthClient(id: $id) { success error } }",
            json!({"id": client.id}),
        )
        .await;
    assert_eq!(resp.body["data"]["deleteOauthClient"]["success"], true);
    let resp = app
        .graphql(
            Some(&s.user),
            "mutation($id: ID!) { deleteOauthClient(id: $id) { success } }",
            json!({"id": client.id}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_default_app_serves_the_root_oauth_paths() {
    let app = spawn_app_with(|c| c.default_app = Some("acme".into())).await;
    app.create_app("acme").await;
    let client = app
        .post(
            "/v1/apps/acme/m2m-clients",
            Some(&app.root_key),
            json!({"name": "x"}),
        )
        .await
        .body["data"]
        .clone();
    let resp = read(
        app.client
            .post(app.url("/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client["client_id"].as_str().unwrap()),
                ("client_secret", client["client_secret"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let doc = app
        .get("/.well-known/openid-configuration", None)
        .await
        .body;
    assert_eq!(doc["token_endpoint"], app.url("/v1/oauth/token"));
    let resp = app
        .request(Method::GET, "/v1/oauth/userinfo", Some("hm_at_nope"), None)
        .await;
    assert_eq!(resp.status, 401);
}
