//! App keys (PAK) and root keys: shown once, stored hashed, revocable, scoped.

use entity::{api_key, root_key};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn an_app_key_is_shown_once_and_stored_hashed() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app
        .post(
            "/v1/apps/acme/api-keys",
            Some(&app.root_key),
            json!({"name": "backend"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let key = resp.body["data"]["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("hm_pak_"));
    assert!(key.len() >= "hm_pak_".len() + 43);
    assert_eq!(resp.body["data"]["name"], "backend");
    assert_eq!(resp.body["data"]["hint"], key[key.len() - 4..]);

    let list = app.get("/v1/apps/acme/api-keys", Some(&app.root_key)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert!(list.body["data"][0].get("key").is_none());
    assert!(!list.text.contains(&key));

    let stored = api_key::Entity::find().all(&*app.state.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].key_hash, key);
    assert_eq!(stored[0].key_hash.len(), 64);
    assert!(!format!("{:?}", stored[0]).contains(&key[7..]));

    // The key works, and sees its app.
    let me = app.get("/v1/apps/acme", Some(&key)).await;
    assert_eq!(me.status, 200, "{}", me.text);
}

#[tokio::test]
async fn revoking_an_app_key_stops_it_immediately() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let id = app
        .get("/v1/apps/acme/api-keys", Some(&app.root_key))
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .delete(&format!("/v1/apps/acme/api-keys/{id}"), Some(&app.root_key))
        .await;
    assert_eq!(resp.status, 204);
    app.get("/v1/apps/acme", Some(&pak))
        .await
        .error(401, "unauthenticated");
    // Gone means gone.
    app.delete(&format!("/v1/apps/acme/api-keys/{id}"), Some(&app.root_key))
        .await
        .error(404, "not_found");
    app.delete("/v1/apps/acme/api-keys/not-a-uuid", Some(&app.root_key))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn an_app_key_cannot_touch_another_apps_keys() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    let acme = app.create_pak("acme").await;
    let _globex = app.create_pak("globex").await;
    let globex_key_id = app
        .get("/v1/apps/globex/api-keys", Some(&app.root_key))
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post("/v1/apps/globex/api-keys", Some(&acme), json!({}))
        .await
        .error(404, "not_found");
    app.delete(
        &format!("/v1/apps/globex/api-keys/{globex_key_id}"),
        Some(&acme),
    )
    .await
    .error(404, "not_found");
    // Not through its own app's path either.
    app.delete(
        &format!("/v1/apps/acme/api-keys/{globex_key_id}"),
        Some(&acme),
    )
    .await
    .error(404, "not_found");
    // An app key may manage its own app's keys.
    let resp = app
        .post("/v1/apps/acme/api-keys", Some(&acme), json!({}))
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(resp.body["data"]["name"], "default");
}

#[tokio::test]
async fn a_root_key_is_generated_on_first_start_only() {
    let mut app = spawn_app_with(|c| c.root_key = None).await;
    // The harness does not keep the printed key; mint one the way `bootstrap` does.
    let key = heimdall::services::keys::create_root_key(&app.state, "bootstrap")
        .await
        .unwrap();
    assert!(key.starts_with("hm_root_"));
    let stored = root_key::Entity::find().all(&*app.state.db).await.unwrap();
    assert_eq!(
        stored.len(),
        2,
        "the first start created one, bootstrap another"
    );
    assert!(
        stored
            .iter()
            .all(|k| k.key_hash.len() == 64 && k.key_hash != key)
    );
    let resp = app
        .post("/v1/apps", Some(&key), json!({"name": "acme"}))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);

    app.restart().await;
    let stored = root_key::Entity::find().all(&*app.state.db).await.unwrap();
    assert_eq!(stored.len(), 2, "a restart creates no new key");
    assert_eq!(app.get("/v1/apps/acme", Some(&key)).await.status, 200);
}

#[tokio::test]
async fn first_start_reports_the_generated_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, url) = crate::helpers::TestDb::create().await;
    let mut config = crate::helpers::test_config(url, dir.path());
    config.root_key = None;
    let mut first = heimdall::startup::Application::build(config.clone())
        .await
        .unwrap();
    let key = first.take_initial_root_key().expect("a key on first start");
    assert!(key.starts_with("hm_root_"));
    assert!(first.take_initial_root_key().is_none());
    drop(first);
    let mut second = heimdall::startup::Application::build(config).await.unwrap();
    assert!(second.take_initial_root_key().is_none());
}

#[tokio::test]
async fn a_malformed_configured_root_key_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, url) = crate::helpers::TestDb::create().await;
    let mut config = crate::helpers::test_config(url, dir.path());
    config.root_key = Some("short".into());
    let err = heimdall::startup::Application::build(config)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("HEIMDALL_ROOT_KEY"), "{err}");
}
