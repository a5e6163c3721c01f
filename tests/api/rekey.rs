//! Master-key rotation and `heimdall rekey`: rotate (new key current, old one
//! previous), re-key while the server runs, drop the previous key, and every
//! credential issued under the old key still works; every sealed value opens under
//! the new key alone.

use heimdall::{
    config::Secret,
    crypto::{self, vault::MasterKey},
    services::signing::SigningService,
};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::{
    admin_cli::heimdall_json, helpers::spawn_app, m2m::create_client,
    signing_keys::verify_with_jwks,
};

// The command runs as a blocking child process while the server under test keeps
// running on another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_rekey_and_drop_the_previous_key_and_every_credential_works() {
    let mut app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let machine = create_client(&app, "acme", json!([])).await;
    let hook = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&pak),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["user.created"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    let provider = app
        .put(
            "/v1/apps/acme/providers/google",
            Some(&pak),
            json!({"issuer": "https://accounts.google.com", "client_id": "abc.apps",
                   "client_secret": "upstream-secret", "redirect_uri": "https://acme.example/cb"}),
        )
        .await;
    assert_eq!(provider.status, 201, "{}", provider.text);
    let stored_root = heimdall_json(&app, &["root-keys", "create", "--name", "old"], None)["data"]
        ["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens = app
        .signup("acme", "ada@example.com", "correct horse 1")
        .await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // A pairwise client: its users' identifiers hang on the app's sealed salt.
    let pairwise = app
        .post(
            "/v1/apps/acme/oauth-clients",
            Some(&pak),
            json!({"name": "RP", "redirect_uris": ["https://rp.example/cb"], "subject_type": "pairwise"}),
        )
        .await;
    assert_eq!(pairwise.status, 201, "{}", pairwise.text);
    let pairwise_id = pairwise.body["data"]["id"].as_str().unwrap().to_owned();
    let acme_id = app.state.apps.by_name("acme").await.unwrap().unwrap().id;
    let ada = app
        .get("/v1/apps/acme/users?email=ada@example.com", Some(&pak))
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();
    let pairwise_sub = |state: heimdall::state::AppState| {
        let id = pairwise_id.clone();
        async move {
            let client = heimdall::services::oauth::clients::find(&state, acme_id, &id)
                .await
                .unwrap()
                .unwrap();
            heimdall::services::oauth::pairwise::subject(&state, &client, ada)
                .await
                .unwrap()
        }
    };
    let sub_before = pairwise_sub(app.state.clone()).await;

    // Rotate: the new key is current, the old one previous.
    let old = app.config.master_key.clone().unwrap();
    let old_id = MasterKey::parse(old.expose()).unwrap().id().to_owned();
    let new = MasterKey::new(crypto::random_bytes(32).unwrap().try_into().unwrap());
    app.config.master_key = Some(Secret::new(new.to_base64()));
    app.config.master_key_previous = Some(old);
    app.restart().await;
    assert_eq!(app.get("/v1/apps/acme", Some(&pak)).await.status, 200);

    // Re-key while the server runs, in small batches; a second run finds nothing.
    let report = heimdall_json(&app, &["rekey", "--batch-size", "1"], None);
    let resealed = |column: &str| {
        report["data"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == column)
            .unwrap_or_else(|| panic!("{column} in {report}"))["resealed"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(resealed("signing_keys.private_key"), 1, "{report}");
    assert_eq!(resealed("webhook_endpoints.sealed_secret"), 1, "{report}");
    assert_eq!(resealed("identity_providers.secret"), 1, "{report}");
    assert_eq!(resealed("oauth_pairwise_salts.sealed_salt"), 1, "{report}");
    assert_eq!(report["data"]["retained_hash_keys"], json!([old_id]));
    assert_eq!(report["data"]["master_key_id"], new.id());
    let again = heimdall_json(&app, &["rekey"], None);
    for column in again["data"]["columns"].as_array().unwrap() {
        assert_eq!(column["resealed"], 0, "{again}");
        assert_eq!(column["failed"], 0, "{again}");
    }

    // Drop the previous key.
    app.config.master_key_previous = None;
    app.restart().await;

    // Every sealed value is under the new key and opens with it alone.
    let prefix = format!("v1.{}.", new.id());
    // Pairwise identifiers do not change with the master key.
    assert_eq!(pairwise_sub(app.state.clone()).await, sub_before);
    let keys = entity::signing_key::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    for key in &keys {
        assert!(key.private_key.starts_with(&prefix));
        app.state
            .vault
            .open(&key.private_key, &SigningService::aad(&key.id))
            .unwrap();
    }
    for endpoint in entity::webhook_endpoint::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap()
    {
        assert!(endpoint.sealed_secret.starts_with(&prefix));
        app.state
            .vault
            .open(
                &endpoint.sealed_secret,
                &heimdall::services::webhooks::aad(endpoint.id),
            )
            .unwrap();
    }
    for provider in entity::identity_provider::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap()
    {
        let sealed = provider.secret.unwrap();
        assert!(sealed.starts_with(&prefix));
        let plain = app
            .state
            .vault
            .open(
                &sealed,
                &heimdall::services::federation::providers::aad(provider.app_id, provider.id),
            )
            .unwrap();
        assert_eq!(plain, b"upstream-secret");
    }

    // Every credential issued under the old key works.
    assert_eq!(app.get("/v1/apps/acme", Some(&pak)).await.status, 200);
    assert_eq!(app.get("/v1/apps", Some(&stored_root)).await.status, 200);
    let m2m = app
        .post(
            "/v1/apps/acme/tokens",
            None,
            json!({"grant_type": "client_credentials", "client_id": machine.id,
                   "client_secret": machine.secret}),
        )
        .await;
    assert_eq!(m2m.status, 200, "{}", m2m.text);
    verify_with_jwks(&app, "acme", &access).await.unwrap();
    let verified = app.post("/acme/v1/verify", Some(&access), json!({})).await;
    assert_eq!(verified.body["valid"], true, "{}", verified.text);
    let refreshed = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let signed_in = app
        .signin("acme", "ada@example.com", "correct horse 1")
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    verify_with_jwks(
        &app,
        "acme",
        signed_in.body["access_token"].as_str().unwrap(),
    )
    .await
    .unwrap();
    // New secrets are hashed under the new key and work too.
    let new_pak = app.create_pak("acme").await;
    assert_eq!(app.get("/v1/apps/acme", Some(&new_pak)).await.status, 200);
}

// The command runs as a blocking child process while the server under test keeps
// running on another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_without_the_key_a_value_was_sealed_with_fails_and_changes_nothing() {
    let mut app = spawn_app().await;
    app.create_app("acme").await;
    // A new key with the old one forgotten: the signing key cannot be opened.
    let new = MasterKey::new(crypto::random_bytes(32).unwrap().try_into().unwrap());
    let before = entity::signing_key::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    app.stop().await;
    app.config.master_key = Some(Secret::new(new.to_base64()));
    let out = crate::admin_cli::heimdall(&app, &["--json", "rekey"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HEIMDALL_MASTER_KEY_PREVIOUS"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.to_string().contains("\"failed\":1"), "{report}");
    let db = heimdall::db::Db::connect(&app.config.database_url, 1)
        .await
        .unwrap();
    let after = entity::signing_key::Entity::find().all(&*db).await.unwrap();
    assert_eq!(before, after, "nothing was rewritten");
}
