//! The guard's verification of Heimdall-issued JWTs (RFC 8725): the algorithm is the
//! key's, hostile headers and foreign or stale tokens are refused with 401.

use entity::signing_key;
use heimdall::crypto::b64url;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{TestApp, spawn_app},
    signing_keys::{end_user_claims, real_claims, sign},
};

/// Signs `claims` with the app's real (ES256) key under an arbitrary header.
async fn sign_with_header(app: &TestApp, app_id: &str, header: Header, claims: &Value) -> String {
    let key = signing_key::Entity::find()
        .filter(signing_key::Column::AppId.eq(Uuid::parse_str(app_id).unwrap()))
        .one(&*app.state.db)
        .await
        .unwrap()
        .unwrap();
    let pkcs8 = app
        .state
        .vault
        .open(&key.private_key, &format!("signing_key:{}", key.id))
        .unwrap();
    let mut header = header;
    if header.kid.is_none() {
        header.kid = Some(key.id.clone());
    }
    encode(&header, claims, &EncodingKey::from_ec_der(&pkcs8)).unwrap()
}

async fn kid_of(app: &TestApp, slug: &str) -> String {
    app.get(&format!("/{slug}/v1/.well-known/jwks.json"), None)
        .await
        .body["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn setup() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let acme = app
        .create_app_with(json!({"name": "acme", "settings": {"signing_alg": "ES256"}}))
        .await;
    let globex = app
        .create_app_with(json!({"name": "globex", "settings": {"signing_alg": "ES256"}}))
        .await;
    (
        app,
        acme["id"].as_str().unwrap().to_owned(),
        globex["id"].as_str().unwrap().to_owned(),
    )
}

fn assert_rejected(resp: &crate::helpers::Resp, what: &str) {
    assert_eq!(resp.status, 401, "{what}: {}", resp.text);
    assert_eq!(resp.body["error"]["code"], "unauthenticated", "{what}");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .contains("invalid_token"),
        "{what}"
    );
}

#[tokio::test]
async fn a_valid_end_user_token_authenticates_but_the_admin_lane_wants_keys() {
    let (app, acme, _globex) = setup().await;
    let token = sign(&app, &acme, &real_claims(&app, "acme").await).await;
    app.get("/v1/apps/acme", Some(&token))
        .await
        .error(403, "forbidden");
    // Another app's admin lane: that app does not exist for this token.
    app.get("/v1/apps/globex", Some(&token))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn expired_future_and_foreign_tokens_are_rejected() {
    let (app, acme, globex) = setup().await;
    let header = Header::new(Algorithm::ES256);
    let base = real_claims(&app, "acme").await;
    let valid = sign_with_header(&app, &acme, header.clone(), &base).await;
    app.get("/v1/apps/acme", Some(&valid))
        .await
        .error(403, "forbidden");
    let mut expired = base.clone();
    expired["exp"] = json!(app.state.now().timestamp() - 1);
    let mut wrong_iss = base.clone();
    wrong_iss["iss"] = json!("heimdall");
    let mut other_apps_iss = base.clone();
    other_apps_iss["iss"] = json!(app.issuer("globex"));
    let mut iss_with_suffix = base.clone();
    iss_with_suffix["iss"] = json!(format!("{}/", app.issuer("acme")));
    let mut other_aid = base.clone();
    other_aid["aid"] = json!(globex);
    other_aid["iss"] = json!(app.issuer("globex"));
    let mut not_yet = base.clone();
    not_yet["nbf"] = json!(app.state.now().timestamp() + 3600);
    let mut no_exp = base.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut not_access = base.clone();
    not_access["type"] = json!("id_token");
    let mut unknown_session = base.clone();
    unknown_session["sid"] = json!(Uuid::now_v7().to_string());
    let mut other_user = base.clone();
    other_user["sub"] = json!(Uuid::now_v7().to_string());
    for (what, claims) in [
        ("a session that does not exist", unknown_session),
        ("a session of another user", other_user),
        ("expired", expired),
        ("wrong iss", wrong_iss),
        ("the issuer of another app", other_apps_iss),
        ("the issuer with a trailing slash", iss_with_suffix),
        ("aid of another app under this app's key", other_aid),
        ("not valid yet", not_yet),
        ("no exp", no_exp),
        ("not an access token", not_access),
    ] {
        let token = sign_with_header(&app, &acme, header.clone(), &claims).await;
        assert_rejected(&app.get("/v1/apps/acme", Some(&token)).await, what);
    }
    // Time moves past expiry.
    let mut short = base.clone();
    short["exp"] = json!(app.state.now().timestamp() + 60);
    let token = sign(&app, &acme, &short).await;
    app.get("/v1/apps/acme", Some(&token))
        .await
        .error(403, "forbidden");
    app.clock.advance(chrono::Duration::seconds(61));
    assert_rejected(
        &app.get("/v1/apps/acme", Some(&token)).await,
        "expired by the clock",
    );
}

#[tokio::test]
async fn hostile_headers_are_rejected_even_when_signed() {
    let (app, acme, _) = setup().await;
    let claims = end_user_claims(&app, "acme", &acme, 600);
    let mut jku = Header::new(Algorithm::ES256);
    jku.jku = Some("https://attacker.test/jwks.json".into());
    let mut x5u = Header::new(Algorithm::ES256);
    x5u.x5u = Some("https://attacker.test/cert.pem".into());
    let mut unknown_kid = Header::new(Algorithm::ES256);
    unknown_kid.kid = Some("not-a-key".into());
    for (what, header) in [("jku", jku), ("x5u", x5u), ("unknown kid", unknown_kid)] {
        let token = sign_with_header(&app, &acme, header, &claims).await;
        assert_rejected(&app.get("/v1/apps/acme", Some(&token)).await, what);
    }
    // An embedded `jwk` header, added to an otherwise valid token.
    let valid = sign(&app, &acme, &claims).await;
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid_of(&app, "acme").await, "jwk": {"kty": "EC"}});
    parts[0] = b64url(header.to_string().as_bytes());
    assert_rejected(
        &app.get("/v1/apps/acme", Some(&parts.join("."))).await,
        "jwk header",
    );
}

#[tokio::test]
async fn algorithm_confusion_and_none_are_rejected() {
    let app = spawn_app().await;
    let rsa = app.create_app("acme").await;
    let acme = rsa["id"].as_str().unwrap().to_owned();
    let claims = end_user_claims(&app, "acme", &acme, 600);
    let jwks = app.get("/acme/v1/.well-known/jwks.json", None).await.body;
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let payload = b64url(claims.to_string().as_bytes());

    // alg: none, with and without a signature.
    for alg in ["none", "None", "NONE"] {
        let header = b64url(
            json!({"alg": alg, "typ": "JWT", "kid": kid})
                .to_string()
                .as_bytes(),
        );
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.c2ln"),
        ] {
            assert_rejected(&app.get("/v1/apps/acme", Some(&token)).await, alg);
        }
    }
    // HS256 keyed with the public key material (the classic RS/HS confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.clone());
    for secret in [
        jwks["keys"][0]["n"].as_str().unwrap().as_bytes().to_vec(),
        jwks["keys"][0].to_string().into_bytes(),
    ] {
        let token = encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_rejected(
            &app.get("/v1/apps/acme", Some(&token)).await,
            "HS256 confusion",
        );
    }
    // A valid token with its payload changed.
    let valid = sign(&app, &acme, &claims).await;
    let mut parts: Vec<&str> = valid.split('.').collect();
    let mut tampered = claims.clone();
    tampered["role"] = json!("owner");
    let tampered_payload = b64url(tampered.to_string().as_bytes());
    parts[1] = &tampered_payload;
    assert_rejected(
        &app.get("/v1/apps/acme", Some(&parts.join("."))).await,
        "tampered payload",
    );
    // Valid RS256 token whose header claims ES256.
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    parts[0] = b64url(
        json!({"alg": "ES256", "typ": "JWT", "kid": kid})
            .to_string()
            .as_bytes(),
    );
    assert_rejected(
        &app.get("/v1/apps/acme", Some(&parts.join("."))).await,
        "alg swapped",
    );
}

#[tokio::test]
async fn an_app_key_of_one_app_and_a_token_of_another_never_mix() {
    let (app, acme, globex) = setup().await;
    // A token signed by globex's key claiming to be acme's: aid does not match the key.
    let mut claims = end_user_claims(&app, "acme", &acme, 600);
    let token = sign_with_header(&app, &globex, Header::new(Algorithm::ES256), &claims).await;
    assert_rejected(&app.get("/v1/apps/acme", Some(&token)).await, "foreign key");
    // Same with a consistent aid but acme's issuer.
    claims["aid"] = json!(globex);
    let token = sign_with_header(&app, &globex, Header::new(Algorithm::ES256), &claims).await;
    assert_rejected(
        &app.get("/v1/apps/globex", Some(&token)).await,
        "foreign issuer",
    );
}
