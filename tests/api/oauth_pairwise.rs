//! Pairwise subject identifiers (OIDC Core §8) and client keys published at a
//! `jwks_uri` (RFC 7591 §2) — docs/src/oauth-extensions.md.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{Json, Router, extract::Path, routing::get};
use heimdall::clock::Clock as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, read},
    oauth::{Client, REDIRECT, code_for, exchange, pkce, register, setup},
};

/// A web server on loopback serving JSON documents by path (a client's JWK Set, a
/// sector's list of redirect URIs), counting the requests for each.
#[derive(Clone, Default)]
struct Documents {
    docs: Arc<Mutex<HashMap<String, Value>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    base: String,
}

impl Documents {
    async fn start() -> Self {
        let mut documents = Documents::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        documents.base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = documents.clone();
        let router = Router::new().route(
            "/{name}",
            get(move |Path(name): Path<String>| {
                let state = state.clone();
                async move {
                    *state.hits.lock().unwrap().entry(name.clone()).or_default() += 1;
                    match state.docs.lock().unwrap().get(&name) {
                        Some(doc) => Ok(Json(doc.clone())),
                        None => Err(axum::http::StatusCode::NOT_FOUND),
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        documents
    }

    fn put(&self, name: &str, doc: Value) {
        self.docs.lock().unwrap().insert(name.to_owned(), doc);
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    fn hits(&self, name: &str) -> usize {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

async fn verified(app: &TestApp, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.body).unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_aud = false;
    validation.set_issuer(&[app.issuer("acme")]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

/// Code flow for `client` (scope `openid email`): the token response.
async fn tokens(s: &crate::oauth::Setup, client: &Client) -> Value {
    let (verifier, challenge) = pkce();
    let code = code_for(&s.app, &s.user, client, "openid email", Some(&challenge)).await;
    let resp = exchange(&s.app, client, &code, Some(&verifier)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body
}

async fn user_id(app: &TestApp) -> String {
    let me = app
        .get(
            "/v1/apps/acme/users?email=alice@example.com",
            Some(&app.root_key),
        )
        .await;
    me.body["data"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pairwise_clients_see_their_own_subject_in_every_answer() {
    let s = setup().await;
    let app = &s.app;
    let docs = Documents::start().await;
    docs.put(
        "sector",
        json!([REDIRECT, "https://client.example.com/other"]),
    );
    let alice = user_id(app).await;

    // Discovery says both subject types.
    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(
        discovery.body["subject_types_supported"],
        json!(["public", "pairwise"])
    );

    let body = |extra: Value| {
        let mut body = json!({"name": "RP", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email"],
            "post_logout_redirect_uris": ["https://client.example.com/bye"]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let public = register(app, &s.developer, body(json!({}))).await;
    let pairwise_a = register(app, &s.developer, body(json!({"subject_type": "pairwise"}))).await;
    let pairwise_a2 = register(app, &s.developer, body(json!({"subject_type": "pairwise"}))).await;
    // Its sector is the host of its sector_identifier_uri (127.0.0.1), not of its
    // redirect URI.
    let pairwise_b = register(
        app,
        &s.developer,
        body(json!({"subject_type": "pairwise", "sector_identifier_uri": docs.url("sector")})),
    )
    .await;
    assert_eq!(docs.hits("sector"), 1);
    let shown = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{}", pairwise_b.id),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(
        shown.body["data"]["subject_type"], "pairwise",
        "{}",
        shown.text
    );
    assert_eq!(
        shown.body["data"]["sector_identifier_uri"],
        docs.url("sector")
    );

    let public_tokens = tokens(&s, &public).await;
    let a_tokens = tokens(&s, &pairwise_a).await;
    let a2_tokens = tokens(&s, &pairwise_a2).await;
    let b_tokens = tokens(&s, &pairwise_b).await;
    let sub = |t: &Value| {
        let token = t["id_token"].as_str().unwrap().to_owned();
        async move {
            verified(app, &token).await["sub"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (public_sub, a_sub, a2_sub, b_sub) = (
        sub(&public_tokens).await,
        sub(&a_tokens).await,
        sub(&a2_tokens).await,
        sub(&b_tokens).await,
    );
    assert_eq!(public_sub, alice);
    assert_eq!(a_sub.len(), 43, "{a_sub}");
    assert!(!a_sub.contains(&alice));
    // Same sector, same identifier; another sector, another.
    assert_eq!(a_sub, a2_sub);
    assert_ne!(a_sub, b_sub);
    assert_ne!(b_sub, alice);

    // userinfo and introspection answer the client's own subject.
    let at = a_tokens["access_token"].as_str().unwrap();
    let info = app.get("/acme/v1/oauth/userinfo", Some(at)).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["sub"], a_sub.as_str());
    assert_eq!(info.body["email"], "alice@example.com");
    let introspected = app
        .post("/acme/v1/oauth/introspect", Some(at), json!({}))
        .await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.text);
    assert_eq!(introspected.body["sub"], a_sub.as_str());
    let public_info = app
        .get(
            "/acme/v1/oauth/userinfo",
            Some(public_tokens["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(public_info.body["sub"], alice.as_str());

    // Refreshed ID tokens keep it (a refresh mints a new ID token when openid was granted).
    if let Some(refresh) = a_tokens["refresh_token"].as_str() {
        let resp = crate::oauth::token_request(
            app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", &pairwise_a.id),
                ("client_secret", pairwise_a.secret.as_deref().unwrap()),
            ],
            None,
        )
        .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        if let Some(id_token) = resp.body["id_token"].as_str() {
            assert_eq!(verified(app, id_token).await["sub"], a_sub.as_str());
        }
    }

    // A pairwise ID token is a good id_token_hint: it finds its user.
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", a_tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "https://client.example.com/bye")
        .append_pair("state", "s1")
        .finish();
    let resp = read(
        app.client
            .get(app.url(&format!("/acme/v1/oauth/logout?{query}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        resp.status == 302 || resp.status == 303,
        "{} {}",
        resp.status,
        resp.text
    );
    assert_eq!(
        resp.header("location"),
        Some("https://client.example.com/bye?state=s1")
    );

    // The same user and sector in another app: another salt, another identifier.
    app.create_app("other").await;
    assert_ne!(
        app.state.apps.by_name("other").await.unwrap().unwrap().id,
        app.state.apps.by_name("acme").await.unwrap().unwrap().id
    );
}

#[tokio::test]
async fn pairwise_settings_are_validated_and_the_sector_cannot_move() {
    let s = setup().await;
    let app = &s.app;
    let docs = Documents::start().await;
    docs.put("partial", json!([REDIRECT]));
    docs.put("not-a-list", json!({"redirect_uris": [REDIRECT]}));
    let root = app.root_key.clone();
    let create = |body: Value| {
        let root = root.clone();
        async move {
            app.post("/v1/apps/acme/oauth-clients", Some(&root), body)
                .await
        }
    };
    let two_hosts = json!([REDIRECT, "https://elsewhere.example.org/cb"]);

    let resp =
        create(json!({"name": "x", "redirect_uris": [REDIRECT], "subject_type": "secret"})).await;
    resp.error(400, "invalid_request");
    assert!(
        resp.body["error"]["details"]["fields"]["subject_type"].is_string(),
        "{}",
        resp.text
    );
    // Redirect URIs on two hosts need a sector_identifier_uri.
    let resp =
        create(json!({"name": "x", "redirect_uris": two_hosts, "subject_type": "pairwise"})).await;
    resp.error(400, "invalid_request");
    assert!(
        resp.body["error"]["details"]["fields"]["sector_identifier_uri"].is_string(),
        "{}",
        resp.text
    );
    // ... which must list every one of them.
    let resp = create(
        json!({"name": "x", "redirect_uris": two_hosts, "subject_type": "pairwise",
        "sector_identifier_uri": docs.url("partial")}),
    )
    .await;
    resp.error(400, "invalid_request");
    assert!(
        resp.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("elsewhere.example.org"),
        "{}",
        resp.text
    );
    let resp = create(
        json!({"name": "x", "redirect_uris": [REDIRECT], "subject_type": "pairwise",
        "sector_identifier_uri": docs.url("not-a-list")}),
    )
    .await;
    resp.error(400, "invalid_request");
    let resp = create(
        json!({"name": "x", "redirect_uris": [REDIRECT], "subject_type": "pairwise",
        "sector_identifier_uri": docs.url("missing")}),
    )
    .await;
    resp.error(400, "invalid_request");
    assert!(resp.text.contains("404"), "{}", resp.text);
    let resp = create(
        json!({"name": "x", "redirect_uris": [REDIRECT], "subject_type": "pairwise",
        "sector_identifier_uri": "ftp://example.com/list"}),
    )
    .await;
    resp.error(400, "invalid_request");

    // A pairwise client's sector is fixed: moving its redirect URIs to another host
    // would change every identifier its users have.
    let made =
        create(json!({"name": "x", "redirect_uris": [REDIRECT], "subject_type": "pairwise"})).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.body["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/apps/acme/oauth-clients/{id}");
    let moved = app
        .patch(
            &path,
            Some(&root),
            json!({"redirect_uris": ["https://elsewhere.example.org/cb"]}),
        )
        .await;
    moved.error(400, "invalid_request");
    assert!(
        moved.body["error"]["details"]["fields"]["redirect_uris"].is_string(),
        "{}",
        moved.text
    );
    // Another URI on the same host is fine.
    let same_host = app
        .patch(
            &path,
            Some(&root),
            json!({"redirect_uris": ["https://client.example.com/cb2"]}),
        )
        .await;
    assert_eq!(same_host.status, 200, "{}", same_host.text);
    // Back to public is the administrator's choice.
    let public = app
        .patch(&path, Some(&root), json!({"subject_type": "public"}))
        .await;
    assert_eq!(public.status, 200, "{}", public.text);
    assert_eq!(public.body["data"]["subject_type"], "public");

    // GraphQL: create and update carry the setting.
    let gql = app
        .graphql(
            Some(&root),
            r#"mutation($id: ID!) { updateOauthClient(app: "acme", id: $id, input: {subjectType: "pairwise", dpopBoundAccessTokens: true}) { subjectType dpopBoundAccessTokens sectorIdentifierUri } }"#,
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        gql.body["data"]["updateOauthClient"],
        json!({"subjectType": "pairwise", "dpopBoundAccessTokens": true, "sectorIdentifierUri": null}),
        "{}",
        gql.text
    );

    // Dynamic registration: RFC 7591 metadata and error codes.
    let on = app
        .patch(
            "/v1/apps/acme",
            Some(&root),
            json!({"settings": {"dynamic_registration": "open"}}),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.text);
    let reg = app
        .post(
            "/acme/v1/oauth/register",
            None,
            json!({"redirect_uris": [REDIRECT], "subject_type": "pairwise"}),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    assert_eq!(reg.body["subject_type"], "pairwise");
    let bad = app
        .post(
            "/acme/v1/oauth/register",
            None,
            json!({"redirect_uris": two_hosts, "subject_type": "pairwise"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.body["error"], "invalid_client_metadata");
}

/// An ES256 key pair: the PKCS#8 private key and the public JWK named `kid`.
fn es256_key(kid: &str) -> (EncodingKey, Value) {
    let generated =
        heimdall::crypto::keys::generate(heimdall::crypto::keys::SigningAlg::ES256).unwrap();
    let mut jwk = generated.public_jwk.clone();
    jwk["kid"] = json!(kid);
    (EncodingKey::from_ec_der(&generated.pkcs8), jwk)
}

fn assertion(key: &EncodingKey, kid: &str, client_id: &str, aud: &str, now: i64) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let jti = uuid::Uuid::new_v4().to_string();
    encode(
        &header,
        &json!({"iss": client_id, "sub": client_id, "aud": aud, "jti": jti, "iat": now, "exp": now + 60}),
        key,
    )
    .unwrap()
}

#[tokio::test]
async fn private_key_jwt_with_keys_published_at_a_jwks_uri() {
    let s = setup().await;
    let app = &s.app;
    let on = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"dynamic_registration": "open"}}),
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.text);
    let docs = Documents::start().await;
    let (k1, jwk1) = es256_key("k1");
    let (k2, jwk2) = es256_key("k2");
    docs.put("jwks", json!({"keys": [jwk1]}));
    docs.put(
        "private",
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}),
    );
    let register =
        |body: Value| async move { app.post("/acme/v1/oauth/register", None, body).await };

    // Refused: both forms, a set that is not a usable public JWK Set, an unreachable one.
    for (body, why) in [
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": docs.url("jwks"), "jwks": {"keys": [jwk1]}}),
            "both",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": docs.url("private")}),
            "symmetric",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": docs.url("nothing-here")}),
            "404",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "not a url"}),
            "url",
        ),
    ] {
        let resp = register(body).await;
        assert_eq!(resp.status, 400, "{why}: {}", resp.text);
        assert_eq!(
            resp.body["error"], "invalid_client_metadata",
            "{why}: {}",
            resp.text
        );
    }

    let reg = register(
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": docs.url("jwks"), "grant_types": ["authorization_code"], "scope": "openid"}),
    )
    .await;
    assert_eq!(reg.status, 201, "{}", reg.text);
    assert_eq!(reg.body["jwks_uri"], docs.url("jwks"));
    assert!(reg.body.get("jwks").is_none());
    let client_id = reg.body["client_id"].as_str().unwrap().to_owned();
    let fetched_at_registration = docs.hits("jwks");
    assert_eq!(fetched_at_registration, 1);

    // A token request authenticated with key k1 (the code flow's user consent first).
    let client = Client {
        id: client_id.clone(),
        secret: None,
    };
    let aud = format!("{}/v1/oauth/token", app.issuer("acme"));
    let user = s.user.as_str();
    let redeem = |key: &EncodingKey, kid: &str| {
        let client = &client;
        let assertion = assertion(key, kid, &client_id, &aud, app.clock.now().timestamp());
        async move {
            let (verifier, challenge) = pkce();
            let code = code_for(app, user, client, "openid", Some(&challenge)).await;
            crate::oauth::token_request(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ],
                None,
            )
            .await
        }
    };
    let ok = redeem(&k1, "k1").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // Cached: a second request does not fetch the set again.
    let ok = redeem(&k1, "k1").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(docs.hits("jwks"), fetched_at_registration);

    // The client rotates to k2: an assertion with the new kid refetches the set (once
    // the cooldown since the last fetch has passed) and is accepted; k1 is then gone.
    docs.put("jwks", json!({"keys": [jwk2]}));
    app.clock.advance(chrono::Duration::seconds(11));
    let rotated = redeem(&k2, "k2").await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    assert_eq!(docs.hits("jwks"), fetched_at_registration + 1);
    let old = redeem(&k1, "k1").await;
    assert_eq!(old.status, 401, "{}", old.text);
    assert_eq!(old.body["error"], "invalid_client");
    // SPEC §10: client authentication errors carry WWW-Authenticate.
    assert!(old.header("www-authenticate").is_some());
    // Made-up key ids within the cooldown do not make Heimdall fetch again.
    let (k3, _) = es256_key("k3");
    for _ in 0..3 {
        let refused = redeem(&k3, "k3").await;
        assert_eq!(refused.status, 401, "{}", refused.text);
    }
    assert_eq!(docs.hits("jwks"), fetched_at_registration + 1);
    // A client that used the Authorization header is challenged back (RFC 6749 §5.2).
    let basic = crate::oauth::token_request(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ],
        Some((&client_id, "wrong")),
    )
    .await;
    assert_eq!(basic.status, 401, "{}", basic.text);
    assert_eq!(
        basic.header("www-authenticate"),
        Some(r#"Basic realm="heimdall""#)
    );
}
