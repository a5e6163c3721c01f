//! The three verification shapes (docs/src/verifying-tokens.md): local JWKS (see signing_keys and m2m),
//! introspection, and /verify + /authorize + /authorize/batch.

use chrono::Duration;
use serde_json::json;

use crate::{
    helpers::{TestApp, spawn_app},
    m2m::{create_client, m2m_token},
};

const PW: &str = "correct horse battery";

async fn setup() -> TestApp {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.sync_roles(
        "acme",
        json!([
            {"name": "billing", "permissions": ["invoice.read", "invoice.create"]},
            {"name": "refunds", "permissions": ["invoice.refund"]},
            {"name": "ops", "permissions": ["invoice:*", "user.read"]},
        ]),
    )
    .await;
    app
}

#[tokio::test]
async fn introspection_reports_live_state() {
    let app = setup().await;
    let tokens = app.signup("acme", "alice@example.com", PW).await;
    let at = tokens["access_token"].as_str().unwrap();
    let resp = app
        .post("/acme/v1/oauth/introspect", Some(at), json!({}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = &resp.body;
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], tokens["user"]["id"]);
    assert_eq!(body["type"], "end_user");
    assert_eq!(body["role"], "member");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], app.issuer("acme"));
    assert!(
        body["aid"].is_string()
            && body["sid"].is_string()
            && body["exp"].is_number()
            && body["iat"].is_number()
    );
    // No body, an empty form, or JSON without `token` are all fine.
    let resp = app
        .client
        .post(app.url("/acme/v1/oauth/introspect"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let client = create_client(&app, "acme", json!(["invoice.read"])).await;
    let m2m = m2m_token(&app, "acme", &client).await;
    let resp = app
        .post("/acme/v1/oauth/introspect", Some(&m2m), json!({}))
        .await;
    assert_eq!(resp.body["active"], true);
    assert_eq!(resp.body["type"], "m2m");
    assert_eq!(resp.body["client_id"], client.id.as_str());
    assert_eq!(resp.body["scope"], "invoice.read");
    assert_eq!(resp.body["scopes"], json!(["invoice.read"]));

    // Cross-token introspection is refused.
    let resp = app
        .post(
            "/acme/v1/oauth/introspect",
            Some(&m2m),
            json!({"token": at}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert_eq!(resp.body["error"], "invalid_request");
    let resp = app
        .client
        .post(app.url("/acme/v1/oauth/introspect"))
        .bearer_auth(&m2m)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={at}&token_type_hint=access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // No bearer at all: 401.
    let resp = app.post("/acme/v1/oauth/introspect", None, json!({})).await;
    assert_eq!(resp.status, 401);
    assert!(resp.header("www-authenticate").is_some());
}

#[tokio::test]
async fn every_inactive_case_is_exactly_active_false() {
    let app = setup().await;
    app.create_app("globex").await;
    let inactive = json!({"active": false});
    let check = |token: String| {
        let app = &app;
        async move {
            let resp = app
                .post("/acme/v1/oauth/introspect", Some(&token), json!({}))
                .await;
            assert_eq!(resp.status, 200, "{}", resp.text);
            resp.body
        }
    };
    for garbage in [
        "garbage",
        "a.b.c",
        "hm_pak_nope",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        assert_eq!(check(garbage.to_owned()).await, inactive, "{garbage}");
    }
    // Another app's token.
    let other = app.signup("globex", "g@example.com", PW).await;
    assert_eq!(
        check(other["access_token"].as_str().unwrap().to_owned()).await,
        inactive
    );
    // An app key is not an access token.
    assert_eq!(check(app.create_pak("acme").await).await, inactive);
    // Signed out.
    let signed_out = app.signup("acme", "so@example.com", PW).await;
    let at = signed_out["access_token"].as_str().unwrap().to_owned();
    app.post("/acme/v1/auth/signout", Some(&at), json!({}))
        .await;
    assert_eq!(check(at).await, inactive);
    // Deactivated user.
    let deactivated = app.signup("acme", "d@example.com", PW).await;
    let id = deactivated["user"]["id"].as_str().unwrap();
    app.post(
        &format!("/v1/apps/acme/users/{id}/deactivate"),
        Some(&app.root_key),
        json!({}),
    )
    .await;
    assert_eq!(
        check(deactivated["access_token"].as_str().unwrap().to_owned()).await,
        inactive
    );
    // Expired.
    let expiring = app.signup("acme", "e@example.com", PW).await;
    app.clock.advance(Duration::seconds(3601));
    assert_eq!(
        check(expiring["access_token"].as_str().unwrap().to_owned()).await,
        inactive
    );
}

#[tokio::test]
async fn verify_describes_the_principal() {
    let app = setup().await;
    let token = app.user_token("acme", "bob@example.com", "billing").await;
    let resp = app.post("/acme/v1/verify", Some(&token), json!({})).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["valid"], true);
    assert_eq!(resp.body["principal"]["type"], "end_user");
    assert_eq!(resp.body["principal"]["role"], "billing");
    assert!(resp.body["principal"]["id"].is_string());
    app.post("/acme/v1/verify", None, json!({}))
        .await
        .error(401, "unauthenticated");
    app.post("/acme/v1/verify", Some("garbage"), json!({}))
        .await
        .error(401, "unauthenticated");
    app.create_app("globex").await;
    let outsider = app.signup("globex", "x@example.com", PW).await;
    app.post(
        "/acme/v1/verify",
        Some(outsider["access_token"].as_str().unwrap()),
        json!({}),
    )
    .await
    .error(401, "unauthenticated");
}

#[tokio::test]
async fn authorize_answers_yes_or_no_with_what_is_missing() {
    let app = setup().await;
    let token = app.user_token("acme", "carol@example.com", "billing").await;
    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(&token),
            json!({"permission": "invoice.read"}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["authorized"], true);
    assert!(resp.body["reason"].is_null());
    assert!(resp.body.get("missing").is_none());
    assert_eq!(resp.body["principal"]["type"], "end_user");

    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(&token),
            json!({"permissions": ["invoice.read", "invoice.refund"]}),
        )
        .await;
    assert_eq!(resp.body["authorized"], false);
    assert_eq!(resp.body["missing"], json!(["invoice.refund"]));
    assert!(
        resp.body["reason"]
            .as_str()
            .unwrap()
            .contains("invoice.refund")
    );

    // Wildcards and the separator.
    let ops = app.user_token("acme", "ops@example.com", "ops").await;
    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(&ops),
            json!({"permissions": ["invoice:refund", "invoice.anything"]}),
        )
        .await;
    assert_eq!(resp.body["authorized"], true, "{}", resp.text);

    // A tenant role adds its permissions while the tenant is active.
    let tenant = app
        .post(
            "/v1/apps/acme/tenants",
            Some(&app.root_key),
            json!({"slug": "t1", "name": "T1"}),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let carol = app
        .get(
            "/v1/apps/acme/users?email=carol%40example.com",
            Some(&app.root_key),
        )
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/v1/apps/acme/tenants/{tenant}/members"),
        Some(&app.root_key),
        json!({"user_id": carol, "role": "refunds"}),
    )
    .await;
    let switched = app
        .post(
            &format!("/acme/v1/me/tenants/{tenant}/switch"),
            Some(&token),
            json!({}),
        )
        .await;
    let in_tenant = switched.body["access_token"].as_str().unwrap();
    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(in_tenant),
            json!({"permission": "invoice.refund"}),
        )
        .await;
    assert_eq!(resp.body["authorized"], true, "{}", resp.text);
    assert_eq!(resp.body["principal"]["org_role"], "refunds");

    // Machine clients: their scopes are their permissions.
    let client = create_client(&app, "acme", json!(["invoice.read", "report:*"])).await;
    let m2m = m2m_token(&app, "acme", &client).await;
    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(&m2m),
            json!({"permissions": ["report.export", "invoice.read"]}),
        )
        .await;
    assert_eq!(resp.body["authorized"], true, "{}", resp.text);
    assert_eq!(resp.body["principal"]["type"], "m2m");
    let resp = app
        .post(
            "/acme/v1/authorize",
            Some(&m2m),
            json!({"permission": "invoice.refund"}),
        )
        .await;
    assert_eq!(resp.body["missing"], json!(["invoice.refund"]));

    for bad in [
        json!({}),
        json!({"permission": "invoice.read", "permissions": ["x.y"]}),
        json!({"permissions": []}),
        json!({"permission": "Not Valid"}),
        json!({"permission": 5}),
        json!({"permissions": vec!["a.b"; 101]}),
    ] {
        app.post("/acme/v1/authorize", Some(&token), bad.clone())
            .await
            .error(400, "invalid_request");
    }
    app.post("/acme/v1/authorize", None, json!({"permission": "x.y"}))
        .await
        .error(401, "unauthenticated");
}

#[tokio::test]
async fn batch_checks_have_seed_002s_shape() {
    let app = setup().await;
    app.sync_roles(
        "acme",
        json!([
            {"name": "billing", "permissions": ["invoice.read", "invoice.create"]},
            {"name": "manager", "permissions": ["invoice.read", "user.update", "role.assign"]},
        ]),
    )
    .await;
    let token = app.user_token("acme", "dave@example.com", "manager").await;
    let resp = app
        .post(
            "/acme/v1/authorize/batch",
            Some(&token),
            json!({ "checks": [
                { "id": "view-invoices", "permission": "invoice.read" },
                { "id": "refund-invoices", "permission": "invoice.refund" },
                { "id": "manage-team", "permissions": ["user.update", "role.assign"] }
            ] }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        resp.body,
        json!({ "results": [
            { "id": "view-invoices", "authorized": true },
            { "id": "refund-invoices", "authorized": false, "missing": ["invoice.refund"] },
            { "id": "manage-team", "authorized": true }
        ] })
    );
    for bad in [
        json!({"checks": []}),
        json!({"checks": [{"permission": "a.b"}]}),
        json!({"checks": [{"id": "x", "permission": "BAD"}]}),
        json!({"checks": (0..101).map(|i| json!({"id": i.to_string(), "permission": "a.b"})).collect::<Vec<_>>()}),
    ] {
        app.post("/acme/v1/authorize/batch", Some(&token), bad)
            .await
            .error(400, "invalid_request");
    }
}
