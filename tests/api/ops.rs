//! Operations: health, readiness, request ids, base path, CORS, security headers.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let resp = app.get("/healthz", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["status"], "ok");
    let resp = app.get("/readyz", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let resp = app.get("/healthz", None).await;
    assert!(!resp.header("x-request-id").unwrap().is_empty());
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app.get("/nope", None).await;
    assert!(resp.header("x-request-id").is_some());
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn everything_mounts_under_the_base_path() {
    let app = spawn_app_with(|c| c.base_path = "/heimdall/".into()).await;
    assert!(app.address.ends_with("/heimdall"));
    assert_eq!(app.get("/healthz", None).await.status, 200);
    assert_eq!(app.get("/readyz", None).await.status, 200);
    let bare = app
        .client
        .get(format!("http://127.0.0.1:{}/healthz", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 404);

    let data = app.create_app("acme").await;
    assert_eq!(
        data["issuer"],
        format!("http://127.0.0.1:{}/heimdall/acme", app.port)
    );
    let resp = app.get("/v1/apps/acme", Some(&app.root_key)).await;
    assert_eq!(resp.body["_links"]["self"], "/heimdall/v1/apps/acme");
    let doc = app
        .get("/acme/v1/.well-known/openid-configuration", None)
        .await;
    assert_eq!(
        doc.body["jwks_uri"],
        format!(
            "http://127.0.0.1:{}/heimdall/acme/v1/.well-known/jwks.json",
            app.port
        )
    );
    let gql = app
        .graphql(
            Some(&app.root_key),
            "{ apps { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(gql.body["data"]["apps"]["edges"][0]["node"]["name"], "acme");
}

#[tokio::test]
async fn cors_follows_the_apps_allowed_origins() {
    let app = spawn_app().await;
    app.create_app_with(
        json!({"name": "acme", "settings": {"allowed_origins": ["https://app.acme.test"]}}),
    )
    .await;
    app.create_app("globex").await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.acme.test", "/acme/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );

    let other = preflight("https://evil.test", "/acme/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // An origin allowed for one app is not allowed for another.
    let cross = preflight("https://app.acme.test", "/globex/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert!(cross.headers().get("access-control-allow-origin").is_none());

    let simple = app
        .client
        .get(app.url("/acme/v1/.well-known/jwks.json"))
        .header("origin", "https://app.acme.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );

    // Updating the setting takes effect on this instance at once.
    app.patch(
        "/v1/apps/globex",
        Some(&app.root_key),
        json!({"settings": {"allowed_origins": ["https://app.acme.test"]}}),
    )
    .await;
    let now_allowed = preflight("https://app.acme.test", "/globex/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert_eq!(
        now_allowed.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close_by_ref().await.unwrap();
    let resp = app.get("/readyz", None).await;
    resp.error(503, "unavailable");
    assert_eq!(app.get("/healthz", None).await.status, 200);
}
