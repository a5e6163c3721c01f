//! Signing keys, the JWKS and discovery: verified with a real JWT library.

use chrono::Duration;
use entity::signing_key;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// The claims of a real end-user access token: signs up a user in `slug`.
pub async fn real_claims(app: &TestApp, slug: &str) -> Value {
    let email = format!("{}@example.com", Uuid::new_v4().simple());
    let tokens = app.signup(slug, &email, "correct horse battery").await;
    verify_with_jwks(app, slug, tokens["access_token"].as_str().unwrap())
        .await
        .unwrap()
}

/// Claims shaped like an end-user access token for a session that does
/// not exist: good for signature and header checks, refused by the guard.
pub fn end_user_claims(app: &TestApp, slug: &str, app_id: &str, ttl: i64) -> Value {
    let now = app.state.now().timestamp();
    json!({
        "sub": Uuid::now_v7().to_string(), "aid": app_id, "sid": Uuid::now_v7().to_string(),
        "role": "member", "type": "end_user", "iat": now, "exp": now + ttl,
        "iss": app.issuer(slug), "jti": Uuid::new_v4().to_string(),
    })
}

pub async fn sign(app: &TestApp, app_id: &str, claims: &Value) -> String {
    app.state
        .signing
        .sign(Uuid::parse_str(app_id).unwrap(), claims)
        .await
        .unwrap()
}

/// Verifies a token through the published JWKS with jsonwebtoken.
pub async fn verify_with_jwks(
    app: &TestApp,
    slug: &str,
    token: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwks: JwkSet = serde_json::from_value(
        app.get(&format!("/{slug}/v1/.well-known/jwks.json"), None)
            .await
            .body,
    )
    .unwrap();
    let header = decode_header(token)?;
    let jwk = jwks
        .find(header.kid.as_deref().unwrap_or_default())
        .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.issuer(slug)]);
    validation.validate_aud = false;
    decode::<Value>(token, &key, &validation).map(|data| data.claims)
}

#[tokio::test]
async fn jwks_publishes_only_public_parts() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app.get("/acme/v1/.well-known/jwks.json", None).await;
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(resp.header("cache-control").unwrap().contains("max-age"));
    let keys = resp.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert!(key["kid"].is_string() && key["n"].is_string() && key["e"].is_string());
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(
            key.get(private).is_none(),
            "{private} must not be published"
        );
    }
    app.get("/nope/v1/.well-known/jwks.json", None)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn tokens_of_every_algorithm_verify_through_the_jwks() {
    let app = spawn_app().await;
    for (slug, alg, expected) in [
        ("rsa", "RS256", Algorithm::RS256),
        ("ec", "ES256", Algorithm::ES256),
        ("ed", "EdDSA", Algorithm::EdDSA),
    ] {
        let data = app
            .create_app_with(json!({"name": slug, "settings": {"signing_alg": alg}}))
            .await;
        let id = data["id"].as_str().unwrap();
        let token = sign(&app, id, &end_user_claims(&app, slug, id, 600)).await;
        assert_eq!(decode_header(&token).unwrap().alg, expected);
        let claims = verify_with_jwks(&app, slug, &token)
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims["aid"], id);
        assert_eq!(claims["iss"], app.issuer(slug));
        // Another app's JWKS does not verify it.
        if slug != "rsa" {
            assert!(verify_with_jwks(&app, "rsa", &token).await.is_err());
        }
    }
}

#[tokio::test]
async fn private_keys_are_encrypted_at_rest() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let keys = signing_key::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let sealed = &keys[0].private_key;
    assert!(sealed.starts_with("v1."), "{sealed}");
    // A PKCS#8 RSA key in base64 starts with "MII"; sealed bytes do not reveal it.
    assert!(!sealed.contains("MII"));
    assert!(!keys[0].public_key.contains("\"d\""));
}

#[tokio::test]
async fn rotation_keeps_the_old_key_published_for_seven_days() {
    let app = spawn_app().await;
    let data = app.create_app("acme").await;
    let id = data["id"].as_str().unwrap();
    let old_token = sign(&app, id, &end_user_claims(&app, "acme", id, 3600)).await;
    let old_kid = decode_header(&old_token).unwrap().kid.unwrap();

    let resp = app
        .post(
            "/v1/apps/acme/signing-keys/rotate",
            Some(&app.root_key),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let new_kid = resp.body["data"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(resp.body["data"]["status"], "active");

    let new_token = sign(&app, id, &end_user_claims(&app, "acme", id, 3600)).await;
    assert_eq!(decode_header(&new_token).unwrap().kid.unwrap(), new_kid);
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let kids: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(
        kids,
        vec![json!(new_kid), json!(old_kid)],
        "active key first"
    );
    assert!(verify_with_jwks(&app, "acme", &old_token).await.is_ok());
    assert!(verify_with_jwks(&app, "acme", &new_token).await.is_ok());

    let list = app
        .get("/v1/apps/acme/signing-keys", Some(&app.root_key))
        .await;
    let statuses: Vec<_> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!("active"), json!("retired")]);
    assert!(list.body["data"][1]["publish_until"].is_string());

    // Six days later the old key is still published; after seven it is gone.
    app.clock.advance(Duration::days(6));
    assert_eq!(
        app.get("/acme/v1/.well-known/jwks.json", None).await.body["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let kids: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, vec![json!(new_kid)]);
    // Heimdall itself no longer accepts tokens of the unpublished key.
    let verdict = app.state.signing.verify(&old_token).await.unwrap();
    assert!(verdict.is_err());
}

#[tokio::test]
async fn changing_signing_alg_rotates_to_a_key_of_that_type() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"signing_alg": "EdDSA"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await;
    let algs: Vec<_> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].clone())
        .collect();
    assert_eq!(algs, vec![json!("EdDSA"), json!("RS256")]);
    // Rotation asks for the configured algorithm, and refuses another.
    app.post(
        "/v1/apps/acme/signing-keys/rotate",
        Some(&app.root_key),
        json!({"alg": "RS256"}),
    )
    .await
    .error(400, "invalid_request");
    let resp = app
        .post(
            "/v1/apps/acme/signing-keys/rotate",
            Some(&app.root_key),
            json!({"alg": "EdDSA"}),
        )
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.body["data"]["alg"], "EdDSA");
}

#[tokio::test]
async fn keys_and_data_survive_a_restart() {
    let mut app = spawn_app().await;
    let data = app.create_app("acme").await;
    let id = data["id"].as_str().unwrap().to_owned();
    let pak = app.create_pak("acme").await;
    let token = sign(&app, &id, &end_user_claims(&app, "acme", &id, 3600)).await;
    let jwks_before = app.get("/acme/v1/.well-known/jwks.json", None).await.body;

    app.restart().await;

    assert_eq!(
        app.get("/acme/v1/.well-known/jwks.json", None).await.body,
        jwks_before
    );
    assert!(verify_with_jwks(&app, "acme", &token).await.is_ok());
    assert_eq!(app.get("/v1/apps/acme", Some(&pak)).await.status, 200);
    // Signing after the restart uses the same (decrypted) key.
    let after = sign(&app, &id, &end_user_claims(&app, "acme", &id, 3600)).await;
    assert_eq!(
        decode_header(&after).unwrap().kid,
        decode_header(&token).unwrap().kid
    );
}

#[tokio::test]
async fn discovery_documents_name_every_endpoint() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app
        .get("/acme/v1/.well-known/openid-configuration", None)
        .await;
    assert_eq!(resp.status, 200);
    let doc = &resp.body;
    let issuer = app.issuer("acme");
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["jwks_uri"],
        format!("{issuer}/v1/.well-known/jwks.json")
    );
    for (field, path) in [
        ("authorization_endpoint", "/v1/oauth/authorize"),
        ("token_endpoint", "/v1/oauth/token"),
        ("userinfo_endpoint", "/v1/oauth/userinfo"),
        ("revocation_endpoint", "/v1/oauth/revoke"),
        ("introspection_endpoint", "/v1/oauth/introspect"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        doc["grant_types_supported"],
        json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    // RFC 7523 client assertions too (docs/src/oauth-extensions.md).
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!([
            "openid",
            "profile",
            "email",
            "roles",
            "permissions",
            "offline_access"
        ])
    );
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
    // The issuer-relative location serves the same document.
    let relative = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(&relative.body, doc);
    // The JWKS it names is served.
    let jwks_path = doc["jwks_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.address)
        .to_owned();
    assert_eq!(app.get(&jwks_path, None).await.status, 200);
    app.get("/nope/.well-known/openid-configuration", None)
        .await
        .error(404, "not_found");
    // Without a default app the root path has nothing to serve.
    app.get("/.well-known/openid-configuration", None)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn the_default_app_is_served_at_the_root_paths() {
    let app = spawn_app_with(|c| c.default_app = Some("acme".into())).await;
    app.create_app("acme").await;
    let doc = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(doc.status, 200, "{}", doc.text);
    assert_eq!(doc.body["issuer"], app.issuer("acme"));
    assert_eq!(doc.body["token_endpoint"], app.url("/v1/oauth/token"));
    let versioned = app.get("/v1/.well-known/openid-configuration", None).await;
    assert_eq!(versioned.body, doc.body);
    let jwks = app.get("/v1/.well-known/jwks.json", None).await;
    assert_eq!(
        jwks.body,
        app.get("/acme/v1/.well-known/jwks.json", None).await.body
    );
}

#[tokio::test]
async fn signing_keys_are_admin_only_and_scoped() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    let pak = app.create_pak("acme").await;
    assert_eq!(
        app.get("/v1/apps/acme/signing-keys", Some(&pak))
            .await
            .status,
        200
    );
    app.get("/v1/apps/globex/signing-keys", Some(&pak))
        .await
        .error(404, "not_found");
    app.post("/v1/apps/globex/signing-keys/rotate", Some(&pak), json!({}))
        .await
        .error(404, "not_found");
    app.get("/v1/apps/acme/signing-keys", None)
        .await
        .error(401, "unauthenticated");
}
