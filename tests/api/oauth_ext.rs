//! OAuth extensions (docs/src/oauth-extensions.md): RFC 8414 metadata, dynamic client
//! registration (RFC 7591/7592) with initial access tokens, pushed authorization
//! requests (RFC 9126), and JWT client authentication (RFC 7523).

use heimdall::clock::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::{
    helpers::{Resp, TestApp, read, spawn_app_with},
    oauth::{Client, REDIRECT, authorize, location_params, pkce, setup, token_request},
};

fn oauth_error(resp: &Resp, status: u16, error: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(resp.body["error"], error, "{}", resp.text);
}

async fn set_settings(app: &TestApp, settings: Value) {
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({ "settings": settings }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
}

async fn register(app: &TestApp, token: Option<&str>, body: Value) -> Resp {
    app.post("/acme/v1/oauth/register", token, body).await
}

/// authorize → consent → code, for a query (PAR or not) that needs consent.
async fn code_via(app: &TestApp, user: &str, query: &[(&str, &str)]) -> String {
    let resp = authorize(app, Some(user), query).await;
    let resp = if resp.status == 200 {
        let pending = resp.body["pending_authorization_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", resp.text))
            .to_owned();
        app.post(
            "/acme/v1/oauth/authorize/consent",
            Some(user),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await
    } else {
        resp
    };
    let params = location_params(&resp);
    params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {params:?}"))
        .clone()
}

#[tokio::test]
async fn authorization_server_metadata_is_served_at_both_rfc_8414_paths() {
    let app = spawn_app_with(|c| c.default_app = Some("acme".into())).await;
    app.create_app("acme").await;
    let openid = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(openid.status, 200, "{}", openid.text);
    for path in [
        "/.well-known/oauth-authorization-server/acme",
        "/acme/.well-known/oauth-authorization-server",
    ] {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text);
        assert!(
            resp.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(resp.body, openid.body, "{path}");
        assert_eq!(resp.body["issuer"], app.issuer("acme"));
        let base = app.issuer("acme");
        assert_eq!(
            resp.body["pushed_authorization_request_endpoint"],
            format!("{base}/v1/oauth/par")
        );
        assert_eq!(resp.body["require_pushed_authorization_requests"], false);
        let methods = resp.body["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap();
        for m in [
            "private_key_jwt",
            "client_secret_jwt",
            "client_secret_basic",
        ] {
            assert!(methods.contains(&json!(m)), "{m}");
        }
        // Registration is off by default: not advertised.
        assert!(resp.body.get("registration_endpoint").is_none());
    }
    // The default app at the root path, with the root endpoints.
    let root = app
        .get("/.well-known/oauth-authorization-server", None)
        .await;
    assert_eq!(root.status, 200, "{}", root.text);
    assert_eq!(root.body["issuer"], app.issuer("acme"));
    // Unknown apps are 404.
    let missing = app
        .get("/.well-known/oauth-authorization-server/nope", None)
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text);

    set_settings(
        &app,
        json!({"dynamic_registration": "open", "require_pushed_authorization_requests": true}),
    )
    .await;
    let resp = app
        .get("/.well-known/oauth-authorization-server/acme", None)
        .await;
    assert_eq!(
        resp.body["registration_endpoint"],
        format!("{}/v1/oauth/register", app.issuer("acme"))
    );
    assert_eq!(resp.body["require_pushed_authorization_requests"], true);
    let bad = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"dynamic_registration": "sometimes"}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
}

#[tokio::test]
async fn open_registration_creates_an_ordinary_client_managed_by_its_registration_token() {
    let s = setup().await;
    let app = &s.app;
    let body = json!({
        "client_name": "Agent",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid profile offline_access",
        "logo_uri": "https://client.example.com/logo.png",
        "post_logout_redirect_uris": ["https://client.example.com/bye"],
        "contacts": ["ops@client.example.com"],
    });
    // Off by default.
    let off = register(app, None, body.clone()).await;
    oauth_error(&off, 403, "access_denied");

    set_settings(app, json!({"dynamic_registration": "open"})).await;
    let resp = register(app, None, body.clone()).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let reg = resp.body.clone();
    let client_id = reg["client_id"].as_str().unwrap().to_owned();
    let secret = reg["client_secret"].as_str().unwrap().to_owned();
    let rat = reg["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = reg["registration_client_uri"].as_str().unwrap().to_owned();
    assert_eq!(
        uri,
        format!("{}/v1/oauth/register/{client_id}", app.issuer("acme"))
    );
    assert_eq!(resp.header("location"), Some(uri.as_str()));
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(reg["client_name"], "Agent");
    assert_eq!(reg["scope"], "openid profile offline_access");
    assert_eq!(
        reg["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        reg["post_logout_redirect_uris"],
        json!(["https://client.example.com/bye"])
    );
    assert_eq!(reg["client_secret_expires_at"], 0);

    // Audited without secrets.
    let entries = app.audit("oauth.client_registered").await;
    assert_eq!(entries.len(), 1);
    let text = serde_json::to_string(&entries[0].metadata).unwrap();
    assert!(!text.contains(&secret) && !text.contains(&rat));

    // The seed-003 management sees an ordinary third-party client.
    let managed = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{client_id}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(managed.status, 200, "{}", managed.text);
    assert_eq!(managed.body["data"]["is_first_party"], false);
    assert_eq!(managed.body["data"]["client_type"], "confidential");
    assert!(managed.body["data"].get("client_secret").is_none());

    // RFC 7592 read: the same metadata, never the secret again, and a successor
    // registration access token (§3); the one used stops working.
    let read_back = app
        .get(&format!("/acme/v1/oauth/register/{client_id}"), Some(&rat))
        .await;
    assert_eq!(read_back.status, 200, "{}", read_back.text);
    assert_eq!(read_back.body["client_name"], "Agent");
    assert!(read_back.body.get("client_secret").is_none());
    let old_rat = rat;
    let rat = read_back.body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(rat.starts_with("hm_rat_") && rat != old_rat);
    for token in [
        None,
        Some("hm_rat_wrong"),
        Some(secret.as_str()),
        Some(old_rat.as_str()),
    ] {
        let resp = app
            .get(&format!("/acme/v1/oauth/register/{client_id}"), token)
            .await;
        oauth_error(&resp, 401, "invalid_token");
    }

    // The client signs a user in with code + PKCE and gets a refresh token.
    let client = Client {
        id: client_id.clone(),
        secret: Some(secret.clone()),
    };
    let (verifier, challenge) = pkce();
    let code = code_via(
        app,
        &s.user,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid offline_access"),
            ("state", "xyz"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let tokens = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
        Some((&client.id, &secret)),
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert!(tokens.body["refresh_token"].as_str().is_some());

    // RFC 7592 update: metadata replaced.
    let mut update = body.clone();
    update["client_id"] = json!(client_id);
    update["client_name"] = json!("Agent 2");
    let put = app
        .put(
            &format!("/acme/v1/oauth/register/{client_id}"),
            Some(&rat),
            update.clone(),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.body["client_name"], "Agent 2");
    let rat = put.body["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    update["client_id"] = json!("someone-else");
    let wrong = app
        .put(
            &format!("/acme/v1/oauth/register/{client_id}"),
            Some(&rat),
            update,
        )
        .await;
    oauth_error(&wrong, 400, "invalid_client_metadata");

    // RFC 7592 delete: the client is gone.
    let deleted = app
        .delete(&format!("/acme/v1/oauth/register/{client_id}"), Some(&rat))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let gone = app
        .get(&format!("/acme/v1/oauth/register/{client_id}"), Some(&rat))
        .await;
    oauth_error(&gone, 401, "invalid_token");
    let managed = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{client_id}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(managed.status, 404);
}

#[tokio::test]
async fn registration_refuses_bad_metadata_with_rfc_7591_errors() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "open"})).await;
    for (body, error) in [
        (json!({"client_name": "x"}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["http://evil.example.com/cb"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example.com/*"]}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": "https://a.example.com/cb"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "response_types": ["token"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "scope": "openid admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "logo_uri": "javascript:alert(1)"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "client_name": 7}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "is_first_party": true, "require_pushed_authorization_requests": "yes"}),
            "invalid_client_metadata",
        ),
    ] {
        let resp = register(app, None, body.clone()).await;
        oauth_error(&resp, 400, error);
        assert!(resp.body["error_description"].as_str().is_some(), "{body}");
    }
    let not_json = app
        .send_raw(
            reqwest::Method::POST,
            "/acme/v1/oauth/register",
            None,
            Some("application/json"),
            b"[1,2".to_vec(),
        )
        .await;
    oauth_error(&not_json, 400, "invalid_client_metadata");
    // A public client (no secret) is never first-party.
    let public = register(
        app,
        None,
        json!({"redirect_uris": ["http://127.0.0.1:8765/cb"], "token_endpoint_auth_method": "none", "is_first_party": true}),
    )
    .await;
    assert_eq!(public.status, 201, "{}", public.text);
    assert!(public.body.get("client_secret").is_none());
    let id = public.body["client_id"].as_str().unwrap();
    let managed = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{id}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(managed.body["data"]["client_type"], "public");
    assert_eq!(managed.body["data"]["is_first_party"], false);
}

#[tokio::test]
async fn open_registration_is_rate_limited_per_ip() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "open"})).await;
    let body = json!({"redirect_uris": [REDIRECT]});
    for _ in 0..20 {
        let resp = register(app, None, body.clone()).await;
        assert_eq!(resp.status, 201, "{}", resp.text);
    }
    let resp = register(app, None, body).await;
    assert_eq!(resp.status, 429, "{}", resp.text);
    assert!(resp.header("retry-after").is_some());
}

#[tokio::test]
async fn token_registration_needs_an_initial_access_token_minted_by_admins() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "token"})).await;
    let body = json!({"redirect_uris": [REDIRECT], "client_name": "Partner"});
    let none = register(app, None, body.clone()).await;
    oauth_error(&none, 401, "invalid_token");
    let wrong = register(app, Some("hm_iat_nope"), body.clone()).await;
    oauth_error(&wrong, 401, "invalid_token");

    // End users cannot mint; admins can.
    let denied = app
        .post(
            "/v1/apps/acme/oauth-initial-access-tokens",
            Some(&s.user),
            json!({}),
        )
        .await;
    assert!(
        denied.status == 401 || denied.status == 403,
        "{}",
        denied.text
    );
    let minted = app
        .post(
            "/v1/apps/acme/oauth-initial-access-tokens",
            Some(&app.root_key),
            json!({"name": "partner onboarding", "max_uses": 1, "expires_in": 3600}),
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.text);
    let token = minted.body["data"]["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hm_iat_"));
    assert_eq!(minted.body["data"]["uses_left"], 1);
    let listed = app
        .get(
            "/v1/apps/acme/oauth-initial-access-tokens",
            Some(&app.root_key),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert!(!listed.text.contains(&token));

    // Bad metadata does not spend the use.
    let bad = register(app, Some(&token), json!({"redirect_uris": ["nope"]})).await;
    oauth_error(&bad, 400, "invalid_redirect_uri");
    let ok = register(app, Some(&token), body.clone()).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let used_up = register(app, Some(&token), body.clone()).await;
    oauth_error(&used_up, 401, "invalid_token");

    // Revoked tokens stop working.
    let unlimited = app
        .post(
            "/v1/apps/acme/oauth-initial-access-tokens",
            Some(&app.root_key),
            json!({}),
        )
        .await;
    let id = unlimited.body["data"]["id"].as_str().unwrap().to_owned();
    let token = unlimited.body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(register(app, Some(&token), body.clone()).await.status, 201);
    assert_eq!(register(app, Some(&token), body.clone()).await.status, 201);
    let revoked = app
        .delete(
            &format!("/v1/apps/acme/oauth-initial-access-tokens/{id}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    oauth_error(
        &register(app, Some(&token), body).await,
        401,
        "invalid_token",
    );
    let entries = app.audit("oauth.client_registered").await;
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].actor_type, "anonymous");
    assert!(
        entries[0]
            .actor_id
            .as_deref()
            .unwrap()
            .starts_with("initial_access_token:")
    );
}

async fn push(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Resp {
    let mut request = app.client.post(app.url("/acme/v1/oauth/par")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn pushed_authorization_requests_are_used_once() {
    let s = setup().await;
    let app = &s.app;
    let client = crate::oauth::confidential(&s, json!(["openid", "profile"])).await;
    let secret = client.secret.clone().unwrap();
    let (verifier, challenge) = pkce();
    let form = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("state", "pushed-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // Client authentication is required.
    let anonymous = push(app, &form, None).await;
    oauth_error(&anonymous, 401, "invalid_client");
    let wrong = push(app, &form, Some((&client.id, "hm_sec_wrong"))).await;
    oauth_error(&wrong, 401, "invalid_client");
    // The pushed request is validated like an authorization request.
    let mut bad = form.to_vec();
    bad[2] = ("scope", "openid email");
    oauth_error(
        &push(app, &bad, Some((&client.id, &secret))).await,
        400,
        "invalid_scope",
    );
    let mut bad = form.to_vec();
    bad[1] = ("redirect_uri", "https://evil.example.com/cb");
    oauth_error(
        &push(app, &bad, Some((&client.id, &secret))).await,
        400,
        "invalid_request",
    );

    let pushed = push(app, &form, Some((&client.id, &secret))).await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    assert_eq!(pushed.header("cache-control"), Some("no-store"));
    assert_eq!(pushed.body["expires_in"], 60);
    let request_uri = pushed.body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    // Another client cannot use it.
    let other = crate::oauth::confidential(&s, json!(["openid"])).await;
    let resp = authorize(
        app,
        Some(&s.user),
        &[("client_id", &other.id), ("request_uri", &request_uri)],
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.text);

    let query = [
        ("client_id", client.id.as_str()),
        ("request_uri", request_uri.as_str()),
    ];
    let resp = authorize(app, Some(&s.user), &query).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let pending = resp.body["pending_authorization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post(
            "/acme/v1/oauth/authorize/consent",
            Some(&s.user),
            json!({"pending_authorization_id": pending, "approved": true}),
        )
        .await;
    let params = location_params(&resp);
    assert_eq!(params["state"], "pushed-state");
    let tokens = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
        Some((&client.id, &secret)),
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    // Once only.
    let again = authorize(app, Some(&s.user), &query).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert!(again.text.contains("request_uri"), "{}", again.text);
    // Unknown and expired request URIs.
    let unknown = authorize(
        app,
        Some(&s.user),
        &[
            ("client_id", &client.id),
            ("request_uri", "urn:ietf:params:oauth:request_uri:nope"),
        ],
    )
    .await;
    assert_eq!(unknown.status, 400);
    let pushed = push(app, &form, Some((&client.id, &secret))).await;
    let late = pushed.body["request_uri"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::seconds(61));
    let expired = authorize(
        app,
        Some(&s.user),
        &[("client_id", &client.id), ("request_uri", &late)],
    )
    .await;
    assert_eq!(expired.status, 400, "{}", expired.text);

    // The app setting requires PAR: direct requests are refused.
    set_settings(app, json!({"require_pushed_authorization_requests": true})).await;
    let direct = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(direct.status, 400, "{}", direct.text);
    assert!(direct.text.contains("PAR"), "{}", direct.text);
}

#[tokio::test]
async fn a_registered_client_can_require_par() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "open"})).await;
    let reg = register(
        app,
        None,
        json!({"redirect_uris": [REDIRECT], "require_pushed_authorization_requests": true, "scope": "openid"}),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let id = reg.body["client_id"].as_str().unwrap();
    let (_, challenge) = pkce();
    let direct = authorize(
        app,
        Some(&s.user),
        &[
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(direct.status, 400, "{}", direct.text);
}

/// An ES256 key pair: the PKCS#8 private key and the public JWK.
fn es256_key() -> (Vec<u8>, Value) {
    let generated =
        heimdall::crypto::keys::generate(heimdall::crypto::keys::SigningAlg::ES256).unwrap();
    let mut jwk = generated.public_jwk.clone();
    jwk["kid"] = json!("k1");
    (generated.pkcs8, jwk)
}

fn assertion(
    key: &EncodingKey,
    alg: Algorithm,
    client_id: &str,
    aud: &str,
    jti: &str,
    now: i64,
) -> String {
    let mut header = Header::new(alg);
    if alg != Algorithm::HS256 {
        header.kid = Some("k1".into());
    }
    encode(
        &header,
        &json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "iat": now, "exp": now + 60}),
        key,
    )
    .unwrap()
}

#[tokio::test]
async fn private_key_jwt_and_client_secret_jwt_authenticate_clients_once_per_jti() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "open"})).await;
    let (pkcs8, jwk) = es256_key();
    let reg = register(
        app,
        None,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [jwk]}, "scope": "openid"}),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    assert!(reg.body.get("client_secret").is_none());
    let client_id = reg.body["client_id"].as_str().unwrap().to_owned();
    let key = EncodingKey::from_ec_der(&pkcs8);
    let token_endpoint = format!("{}/v1/oauth/token", app.issuer("acme"));
    let now = app.clock.now().timestamp();

    let (verifier, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = code_via(app, &s.user, &query).await;
    let jwt = assertion(
        &key,
        Algorithm::ES256,
        &client_id,
        &token_endpoint,
        "jti-1",
        now,
    );
    let exchange = |code: String, jwt: String, verifier: String| async move {
        token_request(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", jwt.as_str()),
            ],
            None,
        )
        .await
    };
    let ok = exchange(code, jwt.clone(), verifier.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.body["id_token"].as_str().is_some());

    // The same assertion again: a replay.
    let code = code_via(app, &s.user, &query).await;
    let replay = exchange(code.clone(), jwt, verifier.clone()).await;
    oauth_error(&replay, 401, "invalid_client");
    assert!(replay.text.contains("jti"), "{}", replay.text);
    // Wrong audience, wrong key, expired, no jti.
    let other_key = EncodingKey::from_ec_der(&es256_key().0);
    for (jwt, why) in [
        (
            assertion(
                &key,
                Algorithm::ES256,
                &client_id,
                "https://elsewhere.example.com",
                "jti-2",
                now,
            ),
            "aud",
        ),
        (
            assertion(
                &other_key,
                Algorithm::ES256,
                &client_id,
                &token_endpoint,
                "jti-3",
                now,
            ),
            "signature",
        ),
        (
            assertion(
                &key,
                Algorithm::ES256,
                &client_id,
                &token_endpoint,
                "jti-4",
                now - 3600,
            ),
            "expired",
        ),
    ] {
        let resp = exchange(code.clone(), jwt, verifier.clone()).await;
        oauth_error(&resp, 401, "invalid_client");
        assert!(resp.text.contains(why), "{why}: {}", resp.text);
    }
    // A secret is not accepted for a private_key_jwt client.
    let basic = token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
        Some((&client_id, "hm_sec_anything")),
    )
    .await;
    oauth_error(&basic, 401, "invalid_client");
    // The fresh assertion still works with the same code (the failures did not spend it).
    let fresh = assertion(
        &key,
        Algorithm::ES256,
        &client_id,
        &app.issuer("acme"),
        "jti-5",
        now,
    );
    let ok = exchange(code, fresh, verifier).await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    // client_secret_jwt: HS256 with the client secret.
    let reg = register(
        app,
        None,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_jwt", "scope": "openid"}),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    let hs_id = reg.body["client_id"].as_str().unwrap().to_owned();
    let hs_secret = reg.body["client_secret"].as_str().unwrap().to_owned();
    let hs_key = EncodingKey::from_secret(hs_secret.as_bytes());
    let revoke = |jwt: String| {
        let hs_id = hs_id.clone();
        async move {
            read(
                app.client
                    .post(app.url("/acme/v1/oauth/revoke"))
                    .form(&[
                        ("token", "hm_at_unknown"),
                        ("client_id", hs_id.as_str()),
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", jwt.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let jwt = assertion(
        &hs_key,
        Algorithm::HS256,
        &hs_id,
        &token_endpoint,
        "hs-1",
        now,
    );
    assert_eq!(revoke(jwt.clone()).await.status, 200);
    oauth_error(&revoke(jwt).await, 401, "invalid_client");
    let forged = assertion(
        &EncodingKey::from_secret(b"guess"),
        Algorithm::HS256,
        &hs_id,
        &token_endpoint,
        "hs-2",
        now,
    );
    oauth_error(&revoke(forged).await, 401, "invalid_client");
}

#[tokio::test]
async fn jti_replays_are_seen_by_every_instance() {
    let s = setup().await;
    let app = &s.app;
    set_settings(app, json!({"dynamic_registration": "open"})).await;
    let reg = register(
        app,
        None,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_jwt"}),
    )
    .await;
    let id = reg.body["client_id"].as_str().unwrap().to_owned();
    let secret = reg.body["client_secret"].as_str().unwrap().to_owned();
    let now = app.clock.now().timestamp();
    let jwt = assertion(
        &EncodingKey::from_secret(secret.as_bytes()),
        Algorithm::HS256,
        &id,
        &app.issuer("acme"),
        "shared",
        now,
    );
    let other = app.second_instance().await;
    let client = heimdall::services::oauth::clients::find(&other.state, reg_app_id(app).await, &id)
        .await
        .unwrap()
        .unwrap();
    let verify = |state: heimdall::state::AppState| {
        let client = client.clone();
        let jwt = jwt.clone();
        let aud = vec![app.issuer("acme")];
        async move {
            heimdall::services::oauth::client_auth::verify(&state, &client, None, &jwt, &aud)
                .await
                .is_ok()
        }
    };
    assert!(verify(app.state.clone()).await);
    assert!(!verify(other.state.clone()).await);
}

async fn reg_app_id(app: &TestApp) -> uuid::Uuid {
    app.state.apps.by_name("acme").await.unwrap().unwrap().id
}

async fn jwks_key(app: &TestApp, token: &str) -> jsonwebtoken::DecodingKey {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.body).unwrap();
    jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap()
}

#[tokio::test]
async fn api_resources_are_managed_by_admins_and_get_rfc_9068_jwt_access_tokens() {
    let s = setup().await;
    let app = &s.app;
    let root = app.root_key.clone();
    let create = |body: Value| app.post("/v1/apps/acme/api-resources", Some(&root), body);
    let resp = create(json!({"identifier": "https://api.example.com/invoices", "name": "Invoices", "scopes": ["invoices:read", "invoices:write"], "include_permissions": true})).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let data = &resp.body["data"];
    assert_eq!(data["access_token_format"], "jwt");
    assert_eq!(data["token_ttl"], 3600);
    assert_eq!(data["scopes"], json!(["invoices:read", "invoices:write"]));
    let id = data["id"].as_str().unwrap().to_owned();
    assert!(resp.header("location").unwrap().ends_with(&id));
    for (body, status) in [
        (
            json!({"identifier": "https://api.example.com/invoices"}),
            409,
        ),
        (json!({"identifier": "not a uri"}), 400),
        (json!({"identifier": "https://api.example.com/x#frag"}), 400),
        (json!({"identifier": "http://api.example.com/x"}), 400),
        (
            json!({"identifier": "https://api.example.com/y", "access_token_format": "paseto"}),
            400,
        ),
        (
            json!({"identifier": "https://api.example.com/y", "token_ttl": 5}),
            400,
        ),
        (
            json!({"identifier": "https://api.example.com/y", "scopes": ["bad scope"]}),
            400,
        ),
        (json!({"name": "no identifier"}), 400),
    ] {
        let resp = create(body.clone()).await;
        assert_eq!(resp.status, status, "{body}: {}", resp.text);
    }
    let denied = app
        .post(
            "/v1/apps/acme/api-resources",
            Some(&s.user),
            json!({"identifier": "https://api.example.com/z"}),
        )
        .await;
    assert!(
        denied.status == 401 || denied.status == 403,
        "{}",
        denied.text
    );
    let opaque =
        create(json!({"identifier": "urn:example:legacy", "access_token_format": "opaque"})).await;
    assert_eq!(opaque.status, 201, "{}", opaque.text);
    let listed = app.get("/v1/apps/acme/api-resources", Some(&root)).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
    let patched = app
        .patch(
            &format!("/v1/apps/acme/api-resources/{id}"),
            Some(&root),
            json!({"token_ttl": 600}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["data"]["token_ttl"], 600);
    let renamed = app
        .patch(
            &format!("/v1/apps/acme/api-resources/{id}"),
            Some(&root),
            json!({"identifier": "https://other.example.com"}),
        )
        .await;
    assert_eq!(renamed.status, 400, "{}", renamed.text);
    assert_eq!(app.audit("api_resource.created").await.len(), 2);

    // A code exchanged for the resource: an at+jwt verifiable with the app's JWKS.
    let client =
        crate::oauth::confidential(&s, json!(["openid", "profile", "offline_access"])).await;
    let secret = client.secret.clone().unwrap();
    let (verifier, challenge) = pkce();
    let query = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile offline_access"),
        ("state", "xyz"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = code_via(app, &s.user, &query).await;
    let exchange = |resource: &'static str| {
        let code = code.clone();
        let verifier = verifier.clone();
        let client = client.id.clone();
        let secret = secret.clone();
        async move {
            token_request(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    ("resource", resource),
                ],
                Some((&client, &secret)),
            )
            .await
        }
    };
    // An unknown resource is invalid_target, and the code is still good.
    oauth_error(
        &exchange("https://unknown.example.com").await,
        400,
        "invalid_target",
    );
    let tokens = exchange("https://api.example.com/invoices").await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.body["expires_in"], 600);
    let at = tokens.body["access_token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["https://api.example.com/invoices"]);
    validation.set_issuer(&[app.issuer("acme")]);
    let claims = jsonwebtoken::decode::<Value>(&at, &jwks_key(app, &at).await, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["client_id"], client.id);
    assert_eq!(claims["scope"], "openid profile offline_access");
    assert!(claims["sub"].as_str().is_some());
    for claim in ["exp", "iat", "jti", "auth_time", "permissions", "amr"] {
        assert!(claims.get(claim).is_some(), "{claim}: {claims}");
    }

    // Heimdall accepts it where OAuth access tokens go: /verify, introspection, userinfo.
    let verified = app.post("/acme/v1/verify", Some(&at), json!({})).await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["valid"], true);
    let introspected = read(
        app.client
            .post(app.url("/acme/v1/oauth/introspect"))
            .bearer_auth(&at)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.text);
    assert_eq!(introspected.body["client_id"], client.id);
    let userinfo = app.get("/acme/v1/oauth/userinfo", Some(&at)).await;
    assert_eq!(userinfo.status, 200, "{}", userinfo.text);
    // It is not an end-user session token.
    let me = app.get("/acme/v1/me", Some(&at)).await;
    assert!(me.status == 401 || me.status == 403, "{}", me.text);
    // A tampered token is refused.
    let mut tampered = at.clone();
    tampered.pop();
    tampered.push(if at.ends_with('A') { 'B' } else { 'A' });
    let refused = app
        .post("/acme/v1/verify", Some(&tampered), json!({}))
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text);

    // The refresh token renews it for the resource too; an opaque resource gets hm_at_.
    let rt = tokens.body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = token_request(
        app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("resource", "urn:example:legacy"),
        ],
        Some((&client.id, &secret)),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert!(
        refreshed.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("hm_at_")
    );

    // Deleting the resource ends its tokens.
    let deleted = app
        .delete(&format!("/v1/apps/acme/api-resources/{id}"), Some(&root))
        .await;
    assert_eq!(deleted.status, 204);
    let refused = app.post("/acme/v1/verify", Some(&at), json!({})).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
}

#[tokio::test]
async fn api_resources_are_managed_over_graphql_too() {
    let s = setup().await;
    let app = &s.app;
    let created = app
        .graphql(
            Some(&app.root_key),
            r#"mutation { createApiResource(app: "acme", input: {identifier: "https://api.example.com/v2", scopes: ["read"], tokenTtl: 900}) { id identifier scopes accessTokenFormat tokenTtl includePermissions } }"#,
            json!({}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let resource = &created.body["data"]["createApiResource"];
    assert_eq!(
        resource["identifier"], "https://api.example.com/v2",
        "{}",
        created.text
    );
    assert_eq!(resource["accessTokenFormat"], "jwt");
    assert_eq!(resource["tokenTtl"], 900);
    let id = resource["id"].as_str().unwrap();
    let listed = app
        .graphql(
            Some(&app.root_key),
            r#"{ apiResources(app: "acme") { identifier } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        listed.body["data"]["apiResources"][0]["identifier"],
        "https://api.example.com/v2"
    );
    let bad = app
        .graphql(
            Some(&app.root_key),
            r#"mutation { createApiResource(app: "acme", input: {identifier: "nope"}) { id } }"#,
            json!({}),
        )
        .await;
    assert!(
        bad.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("identifier"),
        "{}",
        bad.text
    );
    let denied = app
        .graphql(
            Some(&s.user),
            r#"{ apiResources(app: "acme") { identifier } }"#,
            json!({}),
        )
        .await;
    assert!(denied.body["errors"].is_array(), "{}", denied.text);
    let updated = app
        .graphql(
            Some(&app.root_key),
            r#"mutation($id: ID!) { updateApiResource(app: "acme", id: $id, input: {includePermissions: true}) { includePermissions } }"#,
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        updated.body["data"]["updateApiResource"]["includePermissions"], true,
        "{}",
        updated.text
    );
    let deleted = app
        .graphql(
            Some(&app.root_key),
            r#"mutation($id: ID!) { deleteApiResource(app: "acme", id: $id) }"#,
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        deleted.body["data"]["deleteApiResource"], true,
        "{}",
        deleted.text
    );
}
