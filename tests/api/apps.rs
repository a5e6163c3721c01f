//! Apps over REST: create, list, read, update, delete; settings; isolation.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn root_creates_an_app_with_default_settings() {
    let app = spawn_app().await;
    let resp = app
        .post(
            "/v1/apps",
            Some(&app.root_key),
            json!({"name": "acme-corp", "display_name": "Acme Corp"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.header("location"), Some("/v1/apps/acme-corp"));
    let data = &resp.body["data"];
    assert_eq!(data["name"], "acme-corp");
    assert_eq!(data["display_name"], "Acme Corp");
    assert_eq!(data["issuer"], app.issuer("acme-corp"));
    assert!(uuid::Uuid::parse_str(data["id"].as_str().unwrap()).is_ok());
    let settings = &data["settings"];
    assert_eq!(settings["access_token_ttl"], 3600);
    assert_eq!(settings["refresh_token_ttl"], 2_592_000);
    assert_eq!(settings["password_min_length"], 10);
    assert_eq!(settings["default_role"], "member");
    assert_eq!(settings["signup_enabled"], true);
    assert_eq!(settings["require_verified_email"], false);
    assert_eq!(settings["signing_alg"], "RS256");
    assert_eq!(resp.body["_links"]["self"], "/v1/apps/acme-corp");
    // The response is not cacheable (it may carry secrets in other resources).
    assert_eq!(resp.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn app_names_are_unique_and_validated() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app
        .post("/v1/apps", Some(&app.root_key), json!({"name": "acme"}))
        .await;
    resp.error(409, "conflict");

    for bad in ["A", "Acme", "-acme", "acme_corp", "a", "v1", "graphql"] {
        let resp = app
            .post("/v1/apps", Some(&app.root_key), json!({"name": bad}))
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"]["name"].is_string(),
            "{bad}: {}",
            resp.text
        );
    }
    let resp = app
        .post(
            "/v1/apps",
            Some(&app.root_key),
            json!({"display_name": "x"}),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(
        error["message"].as_str().unwrap().contains("name"),
        "{}",
        resp.text
    );

    let resp = app
        .post(
            "/v1/apps",
            Some(&app.root_key),
            json!({"name": "nul-app", "display_name": "bad\u{0}name"}),
        )
        .await;
    resp.error(400, "invalid_request");
}

#[tokio::test]
async fn initial_settings_and_display_name_default() {
    let app = spawn_app().await;
    let data = app
        .create_app_with(
            json!({"name": "es", "settings": {"signing_alg": "ES256", "access_token_ttl": 600}}),
        )
        .await;
    assert_eq!(data["display_name"], "es");
    assert_eq!(data["settings"]["signing_alg"], "ES256");
    assert_eq!(data["settings"]["access_token_ttl"], 600);
    let jwks = app.get("/es/v1/.well-known/jwks.json", None).await;
    assert_eq!(jwks.body["keys"][0]["kty"], "EC");

    let resp = app
        .post(
            "/v1/apps",
            Some(&app.root_key),
            json!({"name": "bad", "settings": {"unknown": 1}}),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(
        error["details"]["fields"]["settings.unknown"].is_string(),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn only_root_creates_and_deletes_apps() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;

    let resp = app
        .post("/v1/apps", Some(&pak), json!({"name": "other"}))
        .await;
    resp.error(403, "forbidden");
    let resp = app.delete("/v1/apps/acme", Some(&pak)).await;
    resp.error(403, "forbidden");

    let resp = app.delete("/v1/apps/acme", Some(&app.root_key)).await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    app.get("/v1/apps/acme", Some(&app.root_key))
        .await
        .error(404, "not_found");
    // The deleted app's key went with it.
    app.get("/v1/apps/acme", Some(&pak))
        .await
        .error(401, "unauthenticated");
    app.get("/acme/v1/.well-known/jwks.json", None)
        .await
        .error(404, "not_found");
    // The name is free again.
    app.create_app("acme").await;
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401_with_www_authenticate() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let resp = app.get("/v1/apps/acme", None).await;
    resp.error(401, "unauthenticated");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    for token in [
        "hm_root_not-a-real-key-but-long-enough-to-look-right-xx",
        "hm_pak_abc",
        "garbage",
        "a.b.c",
    ] {
        let resp = app.get("/v1/apps/acme", Some(token)).await;
        resp.error(401, "unauthenticated");
        assert!(
            resp.header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{token}"
        );
    }
    let resp = app
        .client
        .get(app.url("/v1/apps/acme"))
        .header("authorization", format!("Basic {}", app.root_key))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn listing_apps_is_paginated_and_scoped() {
    let app = spawn_app().await;
    for name in ["app-a", "app-b", "app-c"] {
        app.create_app(name).await;
    }
    let page1 = app.get("/v1/apps?limit=2", Some(&app.root_key)).await;
    assert_eq!(page1.status, 200, "{}", page1.text);
    let names: Vec<_> = page1.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("app-a"), json!("app-b")]);
    let cursor = page1.body["next_cursor"].as_str().unwrap();
    let page2 = app
        .get(
            &format!("/v1/apps?limit=2&cursor={cursor}"),
            Some(&app.root_key),
        )
        .await;
    let names: Vec<_> = page2.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("app-c")]);
    assert!(page2.body["next_cursor"].is_null());

    // An app key lists only its own app.
    let pak = app.create_pak("app-b").await;
    let resp = app.get("/v1/apps", Some(&pak)).await;
    let names: Vec<_> = resp.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("app-b")]);
}

#[tokio::test]
async fn an_app_key_reads_and_updates_its_own_app_only() {
    let app = spawn_app().await;
    let acme = app.create_app("acme").await;
    app.create_app("globex").await;
    let pak = app.create_pak("acme").await;

    let resp = app.get("/v1/apps/acme", Some(&pak)).await;
    assert_eq!(resp.status, 200);
    // By id as well as by name.
    let resp = app
        .get(
            &format!("/v1/apps/{}", acme["id"].as_str().unwrap()),
            Some(&pak),
        )
        .await;
    assert_eq!(resp.body["data"]["name"], "acme");

    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"display_name": "Acme Inc", "settings": {"signup_enabled": false, "allowed_origins": ["https://app.acme.test"]}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["display_name"], "Acme Inc");
    assert_eq!(resp.body["data"]["settings"]["signup_enabled"], false);
    assert_eq!(
        resp.body["data"]["settings"]["access_token_ttl"], 3600,
        "untouched settings are kept"
    );
    assert_eq!(
        app.get("/v1/apps/acme", Some(&pak)).await.body["data"]["display_name"],
        "Acme Inc"
    );

    // Another app does not exist for this key.
    app.get("/v1/apps/globex", Some(&pak))
        .await
        .error(404, "not_found");
    app.patch("/v1/apps/globex", Some(&pak), json!({"display_name": "x"}))
        .await
        .error(404, "not_found");
    app.get("/v1/apps/globex/api-keys", Some(&pak))
        .await
        .error(404, "not_found");
    app.delete("/v1/apps/globex", Some(&pak))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn app_updates_are_validated() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let root = Some(app.root_key.as_str());
    let cases = [
        (json!({"name": "renamed"}), "name"),
        (
            json!({"settings": {"access_token_ttl": 10}}),
            "settings.access_token_ttl",
        ),
        (
            json!({"settings": {"access_token_ttl": "1h"}}),
            "settings.access_token_ttl",
        ),
        (
            json!({"settings": {"password_min_length": 4}}),
            "settings.password_min_length",
        ),
        (
            json!({"settings": {"allowed_origins": ["https://a.test/path"]}}),
            "settings.allowed_origins",
        ),
        (
            json!({"settings": {"login_url": "javascript:alert(1)"}}),
            "settings.login_url",
        ),
        (
            json!({"settings": {"invite_url_template": "https://a.test/join"}}),
            "settings.invite_url_template",
        ),
        (
            json!({"settings": {"signing_alg": "HS256"}}),
            "settings.signing_alg",
        ),
        (
            json!({"settings": {"default_role": "Not A Role"}}),
            "settings.default_role",
        ),
        (json!({"settings": {"nope": true}}), "settings.nope"),
    ];
    for (body, field) in cases {
        let resp = app.patch("/v1/apps/acme", root, body.clone()).await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"][field].is_string(),
            "{body}: {}",
            resp.text
        );
    }
    let resp = app
        .patch("/v1/apps/acme", root, json!({"unknown_top_level": 1}))
        .await;
    resp.error(400, "invalid_request");
    // Nothing was changed by the rejected requests.
    let current = app.get("/v1/apps/acme", root).await;
    assert_eq!(current.body["data"]["settings"]["access_token_ttl"], 3600);
}

#[tokio::test]
async fn clearing_an_optional_setting_with_null() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .patch(
            "/v1/apps/acme",
            root,
            json!({"settings": {"login_url": "https://login.acme.test/"}}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["settings"]["login_url"],
        "https://login.acme.test/"
    );
    let resp = app
        .patch(
            "/v1/apps/acme",
            root,
            json!({"settings": {"login_url": null}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp.body["data"]["settings"]["login_url"].is_null());
}
