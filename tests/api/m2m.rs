//! Machine clients and the client-credentials grant.

use std::collections::BTreeSet;

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::Duration;
use entity::m2m_client;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::{
    helpers::{Resp, TestApp, spawn_app},
    signing_keys::verify_with_jwks,
};

pub struct Client {
    pub id: String,
    pub secret: String,
}

pub async fn create_client(app: &TestApp, slug: &str, scopes: Value) -> Client {
    let resp = app
        .post(
            &format!("/v1/apps/{slug}/m2m-clients"),
            Some(&app.root_key),
            json!({"name": "cron", "scopes": scopes}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    Client {
        id: resp.body["data"]["client_id"].as_str().unwrap().to_owned(),
        secret: resp.body["data"]["client_secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

pub async fn form(app: &TestApp, path: &str, body: &str, basic: Option<(&str, &str)>) -> Resp {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some((id, secret)) = basic {
        request = request.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    crate::helpers::read(request.send().await.unwrap()).await
}

/// A client-credentials token for `client`.
pub async fn m2m_token(app: &TestApp, slug: &str, client: &Client) -> String {
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.id, client.secret
    );
    let resp = form(app, &format!("/{slug}/v1/oauth/token"), &body, None).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body["access_token"].as_str().unwrap().to_owned()
}

fn oauth_error(resp: &Resp, status: u16, error: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(resp.body["error"], error, "{}", resp.text);
    assert!(resp.body["error_description"].is_string());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
}

async fn acme() -> TestApp {
    let app = spawn_app().await;
    app.create_app_with(json!({"name": "acme", "settings": {"signing_alg": "ES256"}}))
        .await;
    app
}

#[tokio::test]
async fn clients_are_created_once_and_stored_hashed() {
    let app = acme().await;
    let client = create_client(
        &app,
        "acme",
        json!(["invoice.read", "user.read", "invoice.read"]),
    )
    .await;
    assert!(client.id.starts_with("m2m_"));
    assert!(client.secret.starts_with("hm_sec_"));
    let list = app
        .get("/v1/apps/acme/m2m-clients", Some(&app.root_key))
        .await;
    assert_eq!(
        list.body["data"][0]["scopes"],
        json!(["invoice.read", "user.read"])
    );
    assert!(
        !list.text.contains(&client.secret) && list.body["data"][0].get("client_secret").is_none()
    );
    let stored = m2m_client::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert_eq!(stored[0].secret_hash.len(), 64);
    assert_ne!(stored[0].secret_hash, client.secret);

    let resp = app
        .post(
            "/v1/apps/acme/m2m-clients",
            Some(&app.root_key),
            json!({"name": "x", "scopes": ["Not:Valid"]}),
        )
        .await;
    assert!(resp.error(400, "invalid_request")["details"]["fields"]["scopes"].is_string());
    let resp = app
        .patch(
            &format!("/v1/apps/acme/m2m-clients/{}", client.id),
            Some(&app.root_key),
            json!({"name": "nightly"}),
        )
        .await;
    assert_eq!(resp.body["data"]["name"], "nightly", "{}", resp.text);
    app.create_app("globex").await;
    let pak = app.create_pak("globex").await;
    app.get(
        &format!("/v1/apps/globex/m2m-clients/{}", client.id),
        Some(&pak),
    )
    .await
    .error(404, "not_found");
    app.get(
        &format!("/v1/apps/acme/m2m-clients/{}", client.id),
        Some(&pak),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn client_credentials_issue_spec_m2m_tokens() {
    let app = acme().await;
    let client = create_client(&app, "acme", json!(["invoice.read", "user.read"])).await;
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.id, client.secret
    );
    let resp = form(&app, "/acme/v1/oauth/token", &body, None).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.header("pragma"), Some("no-cache"));
    assert_eq!(resp.body["token_type"], "Bearer");
    assert_eq!(resp.body["expires_in"], 3600);
    assert_eq!(resp.body["scope"], "invoice.read user.read");
    assert!(resp.body.get("refresh_token").is_none());

    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    let keys: BTreeSet<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["sub", "aid", "type", "scopes", "iat", "exp", "iss", "jti"])
    );
    assert_eq!(claims["sub"], client.id.as_str());
    assert_eq!(claims["type"], "m2m");
    assert_eq!(claims["scopes"], json!(["invoice.read", "user.read"]));
    assert_eq!(claims["iss"], app.issuer("acme"));

    // JSON body, client_secret_basic, and the JSON token endpoint.
    let resp = app
        .post("/acme/v1/oauth/token", None, json!({"grant_type": "client_credentials", "client_id": client.id, "client_secret": client.secret, "scope": "user.read"}))
        .await;
    assert_eq!(resp.body["scope"], "user.read", "{}", resp.text);
    let resp = form(
        &app,
        "/acme/v1/oauth/token",
        "grant_type=client_credentials",
        Some((&client.id, &client.secret)),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    // Basic credentials are form-urlencoded inside (RFC 6749 §2.3.1).
    let encoded_id = client.id.replace('_', "%5F");
    let resp = form(
        &app,
        "/acme/v1/oauth/token",
        "grant_type=client_credentials",
        Some((&encoded_id, &client.secret)),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let resp = app
        .post("/v1/apps/acme/tokens", None, json!({"grant_type": "client_credentials", "client_id": client.id, "client_secret": client.secret}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp.body["access_token"].is_string() && resp.body["expires_in"].is_number());

    assert!(
        app.get(
            &format!("/v1/apps/acme/m2m-clients/{}", client.id),
            Some(&app.root_key)
        )
        .await
        .body["data"]["last_used_at"]
            .is_string()
    );
    app.state.audit_buffer.flush().await;
    assert_eq!(app.audit("m2m.token_issued").await.len(), 5);
    assert!(!format!("{:?}", app.audit("m2m.token_issued").await).contains(&client.secret));
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = acme().await;
    let client = create_client(&app, "acme", json!(["invoice.read"])).await;
    let (id, secret) = (client.id.as_str(), client.secret.as_str());
    let path = "/acme/v1/oauth/token";

    let resp = form(
        &app,
        path,
        &format!("grant_type=client_credentials&client_id={id}&client_secret=hm_sec_wrong"),
        None,
    )
    .await;
    oauth_error(&resp, 401, "invalid_client");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    oauth_error(
        &form(
            &app,
            path,
            "grant_type=client_credentials&client_id=m2m_nope&client_secret=x",
            None,
        )
        .await,
        401,
        "invalid_client",
    );
    oauth_error(
        &form(&app, path, "grant_type=client_credentials", None).await,
        401,
        "invalid_client",
    );
    oauth_error(
        &form(
            &app,
            path,
            &format!("grant_type=client_credentials&client_id={id}"),
            None,
        )
        .await,
        401,
        "invalid_client",
    );
    oauth_error(
        &form(&app, path, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=user.delete"), None).await,
        400,
        "invalid_scope",
    );
    oauth_error(
        &form(&app, path, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&client_secret={secret}"), None).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &form(&app, path, &format!("grant_type=client_credentials&grant_type=client_credentials&client_id={id}&client_secret={secret}"), None).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &form(
            &app,
            path,
            &format!("grant_type=client_credentials&client_secret={secret}"),
            Some((id, secret)),
        )
        .await,
        400,
        "invalid_request",
    );
    oauth_error(
        &form(
            &app,
            path,
            &format!("client_id={id}&client_secret={secret}"),
            None,
        )
        .await,
        400,
        "invalid_request",
    );
    oauth_error(
        &form(
            &app,
            path,
            "grant_type=password&username=a&password=b",
            None,
        )
        .await,
        400,
        "unsupported_grant_type",
    );
    oauth_error(
        &form(&app, path, "grant_type=urn:nope", None).await,
        400,
        "unsupported_grant_type",
    );
    let resp = app
        .send_raw(
            Method::POST,
            path,
            None,
            Some("text/plain"),
            b"grant_type=client_credentials".to_vec(),
        )
        .await;
    oauth_error(&resp, 400, "invalid_request");
    let resp = app
        .send_raw(
            Method::POST,
            path,
            None,
            Some("application/json"),
            b"{\"grant_type\": 5}".to_vec(),
        )
        .await;
    oauth_error(&resp, 400, "invalid_request");
    let resp = app
        .send_raw(
            Method::POST,
            path,
            None,
            Some("application/json"),
            b"{\"grant_type\": \"a\", \"grant_type\": \"b\"}".to_vec(),
        )
        .await;
    oauth_error(&resp, 400, "invalid_request");
    let resp = app
        .send_raw(
            Method::POST,
            path,
            None,
            Some("application/x-www-form-urlencoded"),
            vec![0xff, 0xfe],
        )
        .await;
    oauth_error(&resp, 400, "invalid_request");
    oauth_error(
        &form(
            &app,
            "/nope/v1/oauth/token",
            "grant_type=client_credentials",
            None,
        )
        .await,
        404,
        "invalid_request",
    );
    // Another app's client is not a client here.
    app.create_app("globex").await;
    let resp = form(
        &app,
        "/globex/v1/oauth/token",
        &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        None,
    )
    .await;
    oauth_error(&resp, 401, "invalid_client");
}

#[tokio::test]
async fn failed_client_authentication_is_throttled() {
    let app = acme().await;
    let client = create_client(&app, "acme", json!([])).await;
    let bad = format!(
        "grant_type=client_credentials&client_id={}&client_secret=hm_sec_guess",
        client.id
    );
    for _ in 0..20 {
        oauth_error(
            &form(&app, "/acme/v1/oauth/token", &bad, None).await,
            401,
            "invalid_client",
        );
    }
    let resp = form(&app, "/acme/v1/oauth/token", &bad, None).await;
    assert_eq!(resp.status, 429, "{}", resp.text);
    assert!(resp.header("retry-after").is_some());
    app.state.audit_buffer.flush().await;
    assert!(app.audit("m2m.client_auth_failed").await.len() >= 20);
}

#[tokio::test]
async fn secret_rotation_has_a_grace_period() {
    let app = acme().await;
    let client = create_client(&app, "acme", json!(["invoice.read"])).await;
    let old_token = m2m_token(&app, "acme", &client).await;
    let resp = app
        .post(
            &format!("/v1/apps/acme/m2m-clients/{}/rotate-secret", client.id),
            Some(&app.root_key),
            json!({"grace_period_seconds": 600}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let new = Client {
        id: client.id.clone(),
        secret: resp.body["data"]["client_secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_ne!(new.secret, client.secret);
    assert!(resp.body["data"]["previous_secret_expires_at"].is_string());

    // Both secrets work during the grace period, and old tokens stay valid.
    let during_old = m2m_token(&app, "acme", &client).await;
    let new_token = m2m_token(&app, "acme", &new).await;
    for token in [&old_token, &during_old, &new_token] {
        assert_eq!(
            app.post("/acme/v1/verify", Some(token), json!({}))
                .await
                .status,
            200
        );
    }
    app.clock.advance(Duration::seconds(601));
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.id, client.secret
    );
    oauth_error(
        &form(&app, "/acme/v1/oauth/token", &body, None).await,
        401,
        "invalid_client",
    );
    // Tokens of the rotated-out secret end with it; the new secret's go on.
    for token in [&old_token, &during_old] {
        app.post("/acme/v1/verify", Some(token), json!({}))
            .await
            .error(401, "unauthenticated");
        assert_eq!(
            app.post("/acme/v1/oauth/introspect", Some(token), json!({}))
                .await
                .body,
            json!({"active": false})
        );
    }
    assert_eq!(
        app.post("/acme/v1/verify", Some(&new_token), json!({}))
            .await
            .status,
        200
    );

    // Zero grace ends the old secret at once; more than 7 days is refused.
    let path = format!("/v1/apps/acme/m2m-clients/{}/rotate-secret", client.id);
    let resp = app
        .post(
            &path,
            Some(&app.root_key),
            json!({"grace_period_seconds": 0}),
        )
        .await;
    assert_eq!(resp.status, 200);
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        new.id, new.secret
    );
    oauth_error(
        &form(&app, "/acme/v1/oauth/token", &body, None).await,
        401,
        "invalid_client",
    );
    app.post(
        &path,
        Some(&app.root_key),
        json!({"grace_period_seconds": 604_801}),
    )
    .await
    .error(400, "invalid_request");
    // The default grace is a day.
    let resp = app.post(&path, Some(&app.root_key), json!({})).await;
    let until = chrono::DateTime::parse_from_rfc3339(
        resp.body["data"]["previous_secret_expires_at"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - app.state.now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "{hours}");
    assert_eq!(app.audit("m2m_client.secret_rotated").await.len(), 3);
}

#[tokio::test]
async fn deleting_a_client_ends_its_tokens() {
    let app = acme().await;
    let client = create_client(&app, "acme", json!(["invoice.read"])).await;
    let token = m2m_token(&app, "acme", &client).await;
    assert_eq!(
        app.post(
            "/acme/v1/authorize",
            Some(&token),
            json!({"permission": "invoice.read"})
        )
        .await
        .status,
        200
    );
    let resp = app
        .delete(
            &format!("/v1/apps/acme/m2m-clients/{}", client.id),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(resp.status, 204);
    app.post(
        "/acme/v1/authorize",
        Some(&token),
        json!({"permission": "invoice.read"}),
    )
    .await
    .error(401, "unauthenticated");
    assert_eq!(
        app.post("/acme/v1/oauth/introspect", Some(&token), json!({}))
            .await
            .body,
        json!({"active": false})
    );
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.id, client.secret
    );
    oauth_error(
        &form(&app, "/acme/v1/oauth/token", &body, None).await,
        401,
        "invalid_client",
    );
}

#[tokio::test]
async fn m2m_clients_over_graphql() {
    let app = acme().await;
    let pak = app.create_pak("acme").await;
    let resp = app
        .graphql(Some(&pak), "mutation { createM2mClient(input: {name: \"billing-sync\", scopes: [\"invoice.read\"]}) { clientSecret client { clientId scopes } } }", json!({}))
        .await;
    let created = &resp.body["data"]["createM2mClient"];
    let id = created["client"]["clientId"].as_str().unwrap().to_owned();
    assert!(
        created["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with("hm_sec_"),
        "{}",
        resp.text
    );
    let resp = app
        .graphql(Some(&pak), "mutation($id: String!) { updateM2mClient(clientId: $id, input: {scopes: [\"invoice.read\", \"invoice.refund\"]}) { scopes } }", json!({"id": id}))
        .await;
    assert_eq!(
        resp.body["data"]["updateM2mClient"]["scopes"],
        json!(["invoice.read", "invoice.refund"])
    );
    let resp = app
        .graphql(Some(&pak), "mutation($id: String!) { rotateM2mClientSecret(clientId: $id, gracePeriodSeconds: 60) { clientSecret client { previousSecretExpiresAt } } }", json!({"id": id}))
        .await;
    assert!(
        resp.body["data"]["rotateM2mClientSecret"]["client"]["previousSecretExpiresAt"].is_string(),
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&pak),
            "{ m2mClients { edges { node { clientId name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["m2mClients"]["edges"][0]["node"]["clientId"],
        id.as_str()
    );
    let resp = app
        .graphql(
            Some(&pak),
            "mutation($id: String!) { deleteM2mClient(clientId: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["deleteM2mClient"], true);
    let resp = app
        .graphql(
            Some(&pak),
            "query($id: String!) { m2mClient(clientId: $id) { name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}
