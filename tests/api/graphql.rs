//! GraphQL: the committed schema, the same guard as REST, error codes, limits.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

fn code(resp: &Value) -> &str {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

#[test]
fn committed_schema_matches_the_served_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let served = heimdall::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &served).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == served,
        "schema.graphql is out of date: run `cargo run -- export-schema > schema.graphql` (or UPDATE_SCHEMA=1 cargo test)"
    );
}

const CREATE_APP: &str = "mutation($input: CreateAppInput!) { createApp(input: $input) { id name displayName issuer settings { signingAlg accessTokenTtl } } }";

#[tokio::test]
async fn apps_over_graphql() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .graphql(root, CREATE_APP, json!({"input": {"name": "acme", "displayName": "Acme", "settings": {"signingAlg": "EdDSA"}}}))
        .await;
    assert_eq!(resp.status, 200);
    let created = &resp.body["data"]["createApp"];
    assert_eq!(created["name"], "acme", "{}", resp.text);
    assert_eq!(created["issuer"], app.issuer("acme"));
    assert_eq!(created["settings"]["signingAlg"], "EdDSA");
    assert_eq!(created["settings"]["accessTokenTtl"], 3600);
    // REST sees the same app.
    assert_eq!(
        app.get("/v1/apps/acme", root).await.body["data"]["display_name"],
        "Acme"
    );

    let resp = app
        .graphql(
            root,
            "mutation { updateApp(name: \"acme\", input: {displayName: \"Acme Inc\", settings: {accessTokenTtl: 900, loginUrl: \"https://login.acme.test\"}}) { displayName settings { accessTokenTtl loginUrl } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["updateApp"]["displayName"], "Acme Inc",
        "{}",
        resp.text
    );
    assert_eq!(
        resp.body["data"]["updateApp"]["settings"]["accessTokenTtl"],
        900
    );
    let resp = app
        .graphql(root, "mutation { updateApp(name: \"acme\", input: {settings: {loginUrl: null}}) { settings { loginUrl accessTokenTtl } } }", json!({}))
        .await;
    assert!(
        resp.body["data"]["updateApp"]["settings"]["loginUrl"].is_null(),
        "{}",
        resp.text
    );
    assert_eq!(
        resp.body["data"]["updateApp"]["settings"]["accessTokenTtl"],
        900
    );

    let resp = app
        .graphql(root, "{ app(name: \"acme\") { name signingKeys { kid alg status publicJwk } apiKeys { edges { node { id } } } } }", json!({}))
        .await;
    let keys = &resp.body["data"]["app"]["signingKeys"];
    assert_eq!(keys[0]["alg"], "EdDSA", "{}", resp.text);
    assert_eq!(keys[0]["publicJwk"]["kty"], "OKP");

    let resp = app
        .graphql(root, "mutation { deleteApp(name: \"acme\") }", json!({}))
        .await;
    assert_eq!(resp.body["data"]["deleteApp"], true, "{}", resp.text);
    let resp = app
        .graphql(root, "{ app(name: \"acme\") { name } }", json!({}))
        .await;
    assert_eq!(code(&resp.body), "NOT_FOUND");
}

#[tokio::test]
async fn graphql_error_codes_follow_the_guard() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    app.create_app("acme").await;
    app.create_app("globex").await;
    let pak = app.create_pak("acme").await;

    let resp = app
        .graphql(None, "{ apps { edges { node { name } } } }", json!({}))
        .await;
    assert_eq!(code(&resp.body), "UNAUTHENTICATED");
    let resp = app
        .graphql(Some(&pak), CREATE_APP, json!({"input": {"name": "x1"}}))
        .await;
    assert_eq!(code(&resp.body), "FORBIDDEN");
    let resp = app
        .graphql(Some(&pak), "{ app(name: \"globex\") { name } }", json!({}))
        .await;
    assert_eq!(code(&resp.body), "NOT_FOUND");
    assert!(resp.body["data"]["app"].is_null());
    let resp = app
        .graphql(root, CREATE_APP, json!({"input": {"name": "Bad Name"}}))
        .await;
    assert_eq!(code(&resp.body), "BAD_USER_INPUT");
    assert!(
        resp.body["errors"][0]["extensions"]["fields"]["name"].is_string(),
        "{}",
        resp.text
    );
    let resp = app
        .graphql(root, CREATE_APP, json!({"input": {"name": "acme"}}))
        .await;
    assert_eq!(code(&resp.body), "CONFLICT");
    let resp = app.graphql(root, "{ app { name } }", json!({})).await;
    assert_eq!(code(&resp.body), "BAD_USER_INPUT");
    // An app key's own app is implied.
    let resp = app
        .graphql(
            Some(&pak),
            "{ app { name } apps { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["app"]["name"], "acme", "{}", resp.text);
    assert_eq!(
        resp.body["data"]["apps"]["edges"].as_array().unwrap().len(),
        1
    );
    // A bad credential is a 401, never anonymous.
    let resp = app
        .graphql(
            Some("hm_pak_nope"),
            "{ apps { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 401);
    assert_eq!(code(&resp.body), "UNAUTHENTICATED");
    // Unknown fields and bad syntax.
    let resp = app.graphql(root, "{ nope }", json!({})).await;
    assert_eq!(code(&resp.body), "BAD_USER_INPUT");
    let resp = app.graphql(root, "{ apps { ", json!({})).await;
    assert_eq!(code(&resp.body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn api_keys_over_graphql() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .graphql(root, "mutation { createApiKey(app: \"acme\", name: \"ci\") { key apiKey { id name hint } } }", json!({}))
        .await;
    let payload = &resp.body["data"]["createApiKey"];
    let key = payload["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("hm_pak_"), "{}", resp.text);
    assert_eq!(payload["apiKey"]["hint"], key[key.len() - 4..]);
    let id = payload["apiKey"]["id"].as_str().unwrap().to_owned();

    let resp = app
        .graphql(
            Some(&key),
            "{ app { apiKeys { edges { node { id name lastUsedAt } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["app"]["apiKeys"]["edges"][0]["node"]["id"],
        id.as_str()
    );
    assert!(!resp.text.contains(&key));

    let resp = app
        .graphql(
            Some(&key),
            "mutation($id: ID!) { revokeApiKey(id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["revokeApiKey"], true, "{}", resp.text);
    let resp = app.graphql(Some(&key), "{ app { name } }", json!({})).await;
    assert_eq!(resp.status, 401);

    let resp = app
        .graphql(
            root,
            "mutation { rotateSigningKey(app: \"acme\") { status alg } }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["rotateSigningKey"]["status"], "active");
}

#[tokio::test]
async fn connections_paginate() {
    let app = spawn_app().await;
    for name in ["app-a", "app-b", "app-c"] {
        app.create_app(name).await;
    }
    let query = "query($after: String) { apps(first: 2, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }";
    let root = Some(app.root_key.as_str());
    let page1 = app.graphql(root, query, json!({})).await;
    let apps = &page1.body["data"]["apps"];
    assert_eq!(apps["edges"].as_array().unwrap().len(), 2, "{}", page1.text);
    assert_eq!(apps["pageInfo"]["hasNextPage"], true);
    let after = apps["pageInfo"]["endCursor"].clone();
    let page2 = app.graphql(root, query, json!({"after": after})).await;
    assert_eq!(
        page2.body["data"]["apps"]["edges"][0]["node"]["name"],
        "app-c"
    );
    assert_eq!(page2.body["data"]["apps"]["pageInfo"]["hasNextPage"], false);
    let bad = app
        .graphql(root, "{ apps(first: 500) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(code(&bad.body), "BAD_USER_INPUT");
    let bad = app
        .graphql(
            root,
            "{ apps(after: \"garbage\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&bad.body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn transport_errors_and_limits() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .send_raw(
            Method::POST,
            "/graphql",
            root,
            Some("application/json"),
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(code(&resp.body), "BAD_USER_INPUT");
    let resp = app
        .send_raw(
            Method::POST,
            "/graphql",
            root,
            Some("text/plain"),
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 415);

    let deep = format!("{{ apps {{ edges {{ node {{ {} }} }} }} }}", "__typename");
    assert_eq!(app.graphql(root, &deep, json!({})).await.status, 200);
    let mut nested = String::from("name");
    for _ in 0..20 {
        nested = format!("ofType {{ {nested} }}");
    }
    let query = format!("{{ __type(name: \"Query\") {{ fields {{ type {{ {nested} }} }} }} }}");
    let resp = app.graphql(root, &query, json!({})).await;
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested"),
        "{}",
        resp.text
    );

    let aliases: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    let resp = app
        .graphql(root, &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases"),
        "{}",
        resp.text
    );

    let batch: Vec<Value> = (0..11)
        .map(|_| json!({"query": "{ __typename }"}))
        .collect();
    let resp = app
        .request(Method::POST, "/graphql", root, Some(Value::Array(batch)))
        .await;
    assert_eq!(resp.status, 400);
    let batch: Vec<Value> = (0..2).map(|_| json!({"query": "{ __typename }"})).collect();
    let resp = app
        .request(Method::POST, "/graphql", root, Some(Value::Array(batch)))
        .await;
    assert_eq!(resp.body[1]["data"]["__typename"], "Query", "{}", resp.text);

    let graphiql = app.get("/graphql", None).await;
    assert_eq!(graphiql.status, 200);
    assert!(graphiql.text.contains("GraphiQL"));
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = spawn_app_with(|c| c.graphql_introspection = false).await;
    let resp = app
        .graphql(
            Some(&app.root_key),
            "{ __schema { types { name } } }",
            json!({}),
        )
        .await;
    assert!(
        !resp.body["data"]["__schema"]["types"].is_array(),
        "{}",
        resp.text
    );
    let on = spawn_app().await;
    let resp = on
        .graphql(
            Some(&on.root_key),
            "{ __schema { types { name } } }",
            json!({}),
        )
        .await;
    assert!(resp.body["data"]["__schema"]["types"].is_array());
}

/// The introspection queries GraphiQL, graphql-codegen and Apollo send, verbatim
/// (printed by graphql-js 16.15.0 `getIntrospectionQuery()` and graphql-core 3.3.2
/// `get_introspection_query()`), pass the limits; deep data queries do not.
#[tokio::test]
async fn the_standard_introspection_query_works_under_the_limits() {
    let app = spawn_app().await;
    let root = Some(app.root_key.as_str());
    for query in [
        include_str!("fixtures/introspection_graphql_js_16.15.0.graphql"),
        include_str!("fixtures/introspection_graphql_core_3.3.2.graphql"),
    ] {
        for token in [root, None] {
            let resp = app.graphql(token, query, json!({})).await;
            assert_eq!(resp.status, 200, "{}", resp.text);
            assert!(resp.body["errors"].is_null(), "{}", resp.text);
            let schema = &resp.body["data"]["__schema"];
            assert_eq!(schema["queryType"]["name"], "Query");
            assert_eq!(schema["mutationType"]["name"], "Mutation");
            let types = schema["types"].as_array().unwrap();
            assert!(types.iter().any(|t| t["name"] == "User"), "{}", resp.text);
        }
    }

    // Data fields still have their limit: 14 levels through a cycle.
    let deep = "{ me { tenants { tenant { members { user { tenants { tenant { members { user { tenants { tenant { members { user { id } } } } } } } } } } } } } }";
    let resp = app.graphql(root, deep, json!({})).await;
    let message = resp.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("nested too deep"), "{}", resp.text);
    assert!(resp.body["data"].is_null(), "{}", resp.text);

    let off = spawn_app_with(|c| c.graphql_introspection = false).await;
    let resp = off
        .graphql(
            Some(&off.root_key),
            include_str!("fixtures/introspection_graphql_js_16.15.0.graphql"),
            json!({}),
        )
        .await;
    let message = resp.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("introspection is switched off"),
        "{}",
        resp.text
    );
    assert!(
        !resp.body["data"]["__schema"]["types"].is_array(),
        "{}",
        resp.text
    );
}

/// GraphiQL's page and assets come from the binary, under a CSP that names no
/// other origin.
#[tokio::test]
async fn graphiql_is_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/graphql", None).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("http") && !csp.contains("//"), "{csp}");
    assert!(!page.text.contains("https://") && !page.text.contains("http://"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    // No inline script: every <script> has a same-origin src.
    assert!(!page.text.contains("<script>"), "{}", page.text);
    let assets: Vec<&str> = page
        .text
        .split(['"', '\''])
        .filter(|piece| piece.starts_with("/graphql/assets/"))
        .collect();
    assert_eq!(assets.len(), 5, "{}", page.text);
    for asset in assets {
        let gzipped = app
            .client
            .get(app.url(asset))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.status(), 200, "{asset}");
        let kind = gzipped.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{kind}"
        );
        let encoded = gzipped.headers().get("content-encoding").cloned();
        let gz = gzipped.bytes().await.unwrap();
        let plain = app
            .client
            .get(app.url(asset))
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.unwrap();
        if encoded.is_some() {
            assert_eq!(&gz[..2], &[0x1f, 0x8b], "{asset}");
            assert!(plain.len() > gz.len(), "{asset}");
        }
        let text = String::from_utf8(plain.to_vec()).unwrap();
        assert!(!text.contains("sourceMappingURL"), "{asset}");
    }
    assert_eq!(app.get("/graphql/assets/nope.js", None).await.status, 404);
}

/// A role's holders are a list of users: `user.read`, even when the role is reached
/// through the caller's own `me`.
#[tokio::test]
async fn role_holders_need_user_read() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let member = app.user_token("acme", "member@example.com", "member").await;
    app.user_token("acme", "other@example.com", "member").await;
    let resp = app
        .graphql(
            Some(&member),
            "{ me { role { name users { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&resp.body), "FORBIDDEN", "{}", resp.text);
    assert!(!resp.text.contains("other@example.com"), "{}", resp.text);
    let resp = app
        .graphql(Some(&member), "{ me { role { name } } }", json!({}))
        .await;
    assert_eq!(
        resp.body["data"]["me"]["role"]["name"], "member",
        "{}",
        resp.text
    );

    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    let resp = app
        .graphql(
            Some(&admin),
            "{ me { role { users { email } } } }",
            json!({}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let resp = app
        .graphql(
            Some(&app.root_key),
            r#"{ role(app: "acme", name: "member") { users { email } } }"#,
            json!({}),
        )
        .await;
    let emails: Vec<&str> = resp.body["data"]["role"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["member@example.com", "other@example.com"],
        "{}",
        resp.text
    );
}
