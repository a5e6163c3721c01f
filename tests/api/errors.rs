//! Every REST error class: bad input never panics and never answers 500.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_wrong_type_and_oversized_bodies() {
    let app = spawn_app_with(|c| c.body_limit = 4096).await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(error["message"].as_str().unwrap().contains("JSON"));

    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("text/plain"),
            b"{\"name\":\"x\"}".to_vec(),
        )
        .await;
    resp.error(415, "unsupported_media_type");
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            None,
            b"{\"name\":\"x\"}".to_vec(),
        )
        .await;
    resp.error(415, "unsupported_media_type");

    let big = format!(
        "{{\"name\": \"acme\", \"display_name\": \"{}\"}}",
        "x".repeat(10_000)
    );
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            big.into_bytes(),
        )
        .await;
    resp.error(413, "payload_too_large");

    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            b"[1,2,3]".to_vec(),
        )
        .await;
    resp.error(400, "invalid_request");
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            b"{\"name\": 42}".to_vec(),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(
        error["details"]["fields"]["name"].is_string(),
        "{}",
        resp.text
    );
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            b"{\"name\":\"ok-name\",\"extra\":1}".to_vec(),
        )
        .await;
    resp.error(400, "invalid_request");
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            deep.into_bytes(),
        )
        .await;
    assert!(resp.status == 400 || resp.status == 413, "{}", resp.status);
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json"),
            vec![0xff, 0xfe, 0x00],
        )
        .await;
    resp.error(400, "invalid_request");
    let resp = app
        .send_raw(
            Method::POST,
            "/v1/apps",
            root,
            Some("application/json; charset=utf-8"),
            b"{\"name\":\"charset-ok\"}".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
}

#[tokio::test]
async fn absurd_pagination_is_a_400() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    for query in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=abc",
        "limit=1e3",
        "limit=99999999999999999999",
        "cursor=nope",
        "cursor=%FF",
    ] {
        let resp = app.get(&format!("/v1/apps?{query}"), root).await;
        assert_eq!(resp.status, 400, "{query}: {}", resp.text);
        assert_eq!(resp.body["error"]["code"], "invalid_request");
    }
    assert_eq!(app.get("/v1/apps?limit=200", root).await.status, 200);
}

#[tokio::test]
async fn unknown_routes_methods_and_odd_paths() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    app.get("/no/such/route", None)
        .await
        .error(404, "not_found");
    app.request(Method::PUT, "/v1/apps", root, Some(json!({})))
        .await
        .error(405, "method_not_allowed");
    for path in [
        "/v1/apps/%FF%FE",
        "/v1/apps/..%2F..%2Fetc",
        "/v1/apps/a%00b",
        &format!("/v1/apps/{}", "x".repeat(5000)),
    ] {
        let resp = app.get(path, root).await;
        assert!(
            resp.status == 400 || resp.status == 404,
            "{path}: {}",
            resp.status
        );
        assert!(resp.body["error"]["code"].is_string(), "{path}");
    }
    let resp = app
        .get("/v1/apps/acme", Some("x".repeat(20_000).as_str()))
        .await;
    assert!(
        resp.status == 401 || resp.status == 431 || resp.status == 400,
        "{}",
        resp.status
    );
}

#[tokio::test]
async fn garbage_authorization_headers_are_401() {
    let app = spawn_app().await;
    for value in [
        "Bearer",
        "Bearer ",
        "Bearer  ",
        "bearer hm_pak_x",
        "Token abc",
        "Bearer a.b",
        "Bearer ....",
        "Bearer eyJ.eyJ.sig",
    ] {
        let resp = app
            .client
            .get(app.url("/v1/apps"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{value}");
    }
    // Non-UTF-8 header bytes.
    let resp = app
        .client
        .get(app.url("/v1/apps"))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

/// Every JSON body names missing, unknown and ill-typed fields in `details.fields`.
#[tokio::test]
async fn json_bodies_name_missing_unknown_and_ill_typed_fields() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let root = Some(app.root_key.as_str());
    let cases = [
        (
            "/acme/v1/auth/signup",
            None,
            json!({"email": "a@example.com"}),
            "password",
        ),
        (
            "/acme/v1/auth/signin",
            None,
            json!({"password": "x"}),
            "email",
        ),
        (
            "/acme/v1/auth/signup",
            None,
            json!({"email": "a@example.com", "password": "correct horse battery", "colour": "red"}),
            "colour",
        ),
        (
            "/acme/v1/auth/signup",
            None,
            json!({"email": 5, "password": "x"}),
            "email",
        ),
        ("/v1/apps", root, json!({"display_name": "no name"}), "name"),
        ("/v1/apps/acme/users", root, json!({"email": []}), "email"),
        (
            "/v1/apps/acme/webhooks",
            root,
            json!({"url": "https://x.test/h"}),
            "events",
        ),
    ];
    for (path, token, body, field) in cases {
        let resp = app.post(path, token, body).await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"][field].is_string(),
            "{path} {field}: {}",
            resp.text
        );
    }
}
