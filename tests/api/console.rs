//! The admin console: its session exchange (`/console/session`), the cookie on
//! `/graphql` with its CSRF header, the embedded app, and the `stats` query.

use heimdall::clock::Clock;
use reqwest::{Method, header};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app, spawn_app_with};

const CSRF: &str = "x-heimdall-csrf";

/// Signs in with `key`; returns the response, the cookie pair (`name=value`) and the
/// CSRF token.
async fn sign_in(app: &TestApp, key: &str) -> (Resp, String, String) {
    let resp = app
        .post("/console/session", None, json!({ "key": key }))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let set_cookie = resp.header("set-cookie").unwrap().to_owned();
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = resp.body["data"]["csrf_token"].as_str().unwrap().to_owned();
    (resp, pair, csrf)
}

async fn with_cookie(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header(header::COOKIE, cookie);
    if let Some(csrf) = csrf {
        request = request.header(CSRF, csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.unwrap()).await
}

async fn gql_cookie(app: &TestApp, cookie: &str, csrf: Option<&str>, query: &str) -> Resp {
    with_cookie(
        app,
        Method::POST,
        "/graphql",
        cookie,
        csrf,
        Some(json!({ "query": query })),
    )
    .await
}

#[tokio::test]
async fn root_key_session_cookie_and_csrf() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let (resp, cookie, csrf) = sign_in(&app, &app.root_key).await;

    let set_cookie = resp.header("set-cookie").unwrap();
    assert!(
        set_cookie.starts_with("heimdall_console=hm_cs_"),
        "{set_cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    assert!(
        !resp.text.contains(&app.root_key),
        "the key is never echoed"
    );
    assert!(!set_cookie.contains(&app.root_key));
    assert_eq!(resp.body["data"]["principal"], "root");
    assert!(resp.body["data"]["expires_at"].is_string());

    // The cookie with the CSRF header acts as the root key.
    let ok = gql_cookie(&app, &cookie, Some(&csrf), "{ apps { nodes { name } } }").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["data"]["apps"]["nodes"][0]["name"], "acme");

    // Without the CSRF header, or with another, the cookie is refused.
    let missing = gql_cookie(&app, &cookie, None, "{ apps { nodes { name } } }").await;
    assert_eq!(missing.status, 403, "{}", missing.text);
    assert_eq!(missing.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(missing.body["data"].is_null());
    let wrong = gql_cookie(&app, &cookie, Some("nope"), "{ apps { nodes { name } } }").await;
    assert_eq!(wrong.status, 403, "{}", wrong.text);

    // A reloaded console gets its CSRF token back from the cookie alone.
    let current = with_cookie(&app, Method::GET, "/console/session", &cookie, None, None).await;
    assert_eq!(current.status, 200, "{}", current.text);
    assert_eq!(current.body["data"]["csrf_token"], csrf.as_str());

    // Writes audited as the root key.
    let created = gql_cookie(
        &app,
        &cookie,
        Some(&csrf),
        r#"mutation { createApp(input: {name: "beta"}) { name } }"#,
    )
    .await;
    assert_eq!(
        created.body["data"]["createApp"]["name"], "beta",
        "{}",
        created.text
    );
    let entries = app.audit("app.created").await;
    let last = entries.last().unwrap();
    assert_eq!(last.actor_type, "root");
    assert_eq!(last.actor_id.as_deref(), Some("env"));

    // The cookie is no bearer token, and the session secret is not stored.
    let rows = entity::console_session::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let secret = cookie.split_once('=').unwrap().1;
    assert_ne!(rows[0].token_hash, secret);
    assert!(!rows[0].key_hash.as_deref().unwrap().contains(&app.root_key));
    let bearer = app.get("/v1/apps", Some(secret)).await;
    assert_eq!(bearer.status, 401, "{}", bearer.text);

    // Sign-out needs the CSRF header, then ends the session and clears the cookie.
    let refused = with_cookie(
        &app,
        Method::DELETE,
        "/console/session",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let out = with_cookie(
        &app,
        Method::DELETE,
        "/console/session",
        &cookie,
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(out.status, 204, "{}", out.text);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = gql_cookie(&app, &cookie, Some(&csrf), "{ apps { nodes { name } } }").await;
    assert_eq!(after.status, 401, "{}", after.text);
    assert_eq!(
        after.body["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let current = with_cookie(&app, Method::GET, "/console/session", &cookie, None, None).await;
    current.error(401, "unauthenticated");
}

#[tokio::test]
async fn bad_keys_are_401_and_never_echoed() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let user_token = app.user_token("acme", "u@example.com", "owner").await;
    for key in [
        "hm_root_not-a-real-key-000000000000000000000",
        "hm_pak_not-a-real-key-0000000000000000000000",
        "hello",
        user_token.as_str(),
    ] {
        let resp = app
            .post("/console/session", None, json!({ "key": key }))
            .await;
        resp.error(401, "unauthenticated");
        assert!(resp.header("set-cookie").is_none());
        assert!(!resp.text.contains(key), "{}", resp.text);
    }
    let form = app
        .send_raw(
            Method::POST,
            "/console/session",
            None,
            Some("application/x-www-form-urlencoded"),
            format!("key={}", app.root_key).into_bytes(),
        )
        .await;
    assert_eq!(form.status, 415, "{}", form.text);
    let no_cookie = app.get("/console/session", None).await;
    no_cookie.error(401, "unauthenticated");
}

#[tokio::test]
async fn idle_timeout_and_lifetime_end_a_session() {
    let app = spawn_app().await;
    let (_, cookie, csrf) = sign_in(&app, &app.root_key).await;
    let query = "{ apps { nodes { name } } }";

    // Use keeps it alive past one idle period.
    app.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(
        gql_cookie(&app, &cookie, Some(&csrf), query).await.status,
        200
    );
    app.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(
        gql_cookie(&app, &cookie, Some(&csrf), query).await.status,
        200
    );

    // Thirty idle minutes end it.
    app.clock.advance(chrono::Duration::minutes(31));
    let ended = gql_cookie(&app, &cookie, Some(&csrf), query).await;
    assert_eq!(ended.status, 401, "{}", ended.text);
    assert!(ended.header("www-authenticate").is_some());

    // However active, the absolute lifetime ends a session too.
    let (_, cookie, csrf) = sign_in(&app, &app.root_key).await;
    for _ in 0..26 {
        app.clock.advance(chrono::Duration::minutes(29));
        gql_cookie(&app, &cookie, Some(&csrf), query).await;
    }
    let ended = gql_cookie(&app, &cookie, Some(&csrf), query).await;
    assert_eq!(ended.status, 401, "{}", ended.text);
}

#[tokio::test]
async fn app_key_session_acts_as_the_key_and_ends_with_it() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("other").await;
    let pak = app.create_pak("acme").await;
    let (resp, cookie, csrf) = sign_in(&app, &pak).await;
    assert_eq!(resp.body["data"]["principal"], "app_key");
    assert_eq!(resp.body["data"]["app"], "acme");

    let own = gql_cookie(&app, &cookie, Some(&csrf), "{ app { name } }").await;
    assert_eq!(own.body["data"]["app"]["name"], "acme", "{}", own.text);
    // Like the key: another app does not exist for it.
    let other = gql_cookie(
        &app,
        &cookie,
        Some(&csrf),
        r#"{ app(name: "other") { name } }"#,
    )
    .await;
    assert_eq!(
        other.body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{}",
        other.text
    );

    // Revoking the key ends its console sessions at once.
    let keys = app.get("/v1/apps/acme/api-keys", Some(&app.root_key)).await;
    let id = keys.body["data"][0]["id"].as_str().unwrap();
    let revoked = app
        .delete(&format!("/v1/apps/acme/api-keys/{id}"), Some(&app.root_key))
        .await;
    assert!(revoked.status < 300, "{}", revoked.text);
    let after = gql_cookie(&app, &cookie, Some(&csrf), "{ app { name } }").await;
    assert_eq!(after.status, 401, "{}", after.text);
}

#[tokio::test]
async fn https_sessions_are_secure_and_base_path_scoped() {
    let app = spawn_app_with(|config| {
        config.public_url = Some("https://id.example.com".into());
        config.base_path = "/heimdall".into();
    })
    .await;
    let resp = app
        .post("/console/session", None, json!({ "key": app.root_key }))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let set_cookie = resp.header("set-cookie").unwrap();
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/heimdall/"), "{set_cookie}");

    let page = app.get("/console/", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains(r#"<meta name="heimdall-base" content="/heimdall">"#),
        "{}",
        page.text
    );
    assert!(
        !page.text.contains(r#""/console/"#),
        "asset URLs carry the base path"
    );
}

#[tokio::test]
async fn the_console_is_served_with_its_csp_and_spa_fallback() {
    let app = spawn_app().await;
    let root = app.get("/console", None).await;
    assert_eq!(root.status, 308);
    assert_eq!(root.header("location"), Some("/console/"));
    for path in ["/console/", "/console/apps/acme/users", "/console/audit"] {
        let page = app.get(path, None).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(page.text.contains("heimdall-base"), "{}", page.text);
    }
    let missing = app.get("/console/assets/missing.js", None).await;
    missing.error(404, "not_found");

    // Every built asset is served, gzip-compressed on request.
    let html = app.get("/console/", None).await.text;
    for src in html
        .split("src=\"")
        .skip(1)
        .chain(html.split("href=\"").skip(1))
    {
        let path = src.split('"').next().unwrap();
        if !path.starts_with("/console/assets/") {
            continue;
        }
        let plain = app.get(path, None).await;
        assert_eq!(plain.status, 200, "{path}");
        assert!(plain.header("cache-control").unwrap().contains("immutable"));
        let gz = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
    }
}

#[tokio::test]
async fn stats_counts_sign_ins_tokens_webhooks_and_sessions() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("other").await;
    let signup = app
        .signup("acme", "a@example.com", "correct horse battery")
        .await;
    app.signin("acme", "a@example.com", "correct horse battery")
        .await;
    let failed = app
        .signin("acme", "a@example.com", "wrong password!!")
        .await;
    assert_eq!(failed.status, 401);
    let refreshed = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({ "refresh_token": signup["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    // Another app's activity does not count.
    app.signup("other", "b@example.com", "correct horse battery")
        .await;
    let m2m = app
        .post(
            "/v1/apps/acme/m2m-clients",
            Some(&app.root_key),
            json!({ "name": "svc", "scopes": [] }),
        )
        .await;
    let client_id = m2m.body["data"]["client_id"].as_str().unwrap().to_owned();
    let secret = m2m.body["data"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app
        .post(
            "/v1/apps/acme/tokens",
            None,
            json!({ "client_id": client_id, "client_secret": secret, "grant_type": "client_credentials" }),
        )
        .await;
    assert_eq!(token.status, 200, "{}", token.text);
    app.state.audit_buffer.flush().await;

    let query = r#"query($from: DateTime, $to: DateTime) {
        stats(app: "acme", from: $from, to: $to) {
            from to activeSessions
            days { day signIns failedSignIns }
            tokensIssued { grant count }
            webhooks { succeeded failed pending successRate }
        } }"#;
    let now = app.clock.now();
    let vars = json!({
        "from": (now - chrono::Duration::days(6)).to_rfc3339(),
        "to": (now + chrono::Duration::minutes(1)).to_rfc3339(),
    });
    let resp = app.graphql(Some(&app.root_key), query, vars.clone()).await;
    let stats = &resp.body["data"]["stats"];
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let days = stats["days"].as_array().unwrap();
    assert!((7..=8).contains(&days.len()), "{days:?}");
    let today = now.date_naive().to_string();
    let today = days.iter().find(|d| d["day"] == today.as_str()).unwrap();
    assert_eq!(today["signIns"], 2, "sign-up and sign-in: {}", resp.text);
    assert_eq!(today["failedSignIns"], 1);
    assert_eq!(days[0]["signIns"], 0);
    let grant = |name: &str| {
        stats["tokensIssued"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["grant"] == name)
            .unwrap()["count"]
            .clone()
    };
    assert_eq!(grant("sign_in"), 2);
    assert_eq!(grant("refresh_token"), 1);
    assert_eq!(grant("client_credentials"), 1);
    assert_eq!(grant("authorization_code"), 0);
    assert_eq!(stats["activeSessions"], 2, "{}", resp.text);
    assert_eq!(stats["webhooks"]["succeeded"], 0);
    assert!(stats["webhooks"]["successRate"].is_null());

    // Defaults to the last 30 days; a reversed or too long range is refused.
    let default = app
        .graphql(
            Some(&app.root_key),
            r#"{ stats(app: "acme") { days { day } } }"#,
            json!({}),
        )
        .await;
    let n = default.body["data"]["stats"]["days"]
        .as_array()
        .unwrap()
        .len();
    assert!((30..=31).contains(&n), "{}", default.text);
    let reversed = app
        .graphql(
            Some(&app.root_key),
            query,
            json!({ "from": vars["to"], "to": vars["from"] }),
        )
        .await;
    assert_eq!(
        reversed.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );

    // End users need audit.read.
    let member = app.user_token("acme", "m@example.com", "member").await;
    let refused = app
        .graphql(Some(&member), r#"{ stats { activeSessions } }"#, json!({}))
        .await;
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        refused.text
    );
    assert_eq!(
        refused.body["errors"][0]["extensions"]["missing"],
        json!(["audit.read"])
    );
    let admin = app.user_token("acme", "ad@example.com", "admin").await;
    let allowed = app
        .graphql(Some(&admin), r#"{ stats { activeSessions } }"#, json!({}))
        .await;
    assert!(allowed.body["errors"].is_null(), "{}", allowed.text);
}

#[tokio::test]
async fn admins_list_and_create_first_party_oauth_clients() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let created = app
        .graphql(
            Some(&app.root_key),
            r#"mutation { createOauthClient(app: "acme", input: {
                name: "Console", redirectUris: ["https://console.example.com/cb"],
                allowedScopes: ["openid"], clientType: "public", isFirstParty: true
            }) { client { id isFirstParty clientType } clientSecret } }"#,
            json!({}),
        )
        .await;
    let client = &created.body["data"]["createOauthClient"];
    assert_eq!(client["client"]["isFirstParty"], true, "{}", created.text);
    assert!(client["clientSecret"].is_null());
    let listed = app
        .graphql(
            Some(&app.root_key),
            r#"{ oauthClients(app: "acme") { nodes { name isFirstParty } pageInfo { hasNextPage } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        listed.body["data"]["oauthClients"]["nodes"][0]["name"], "Console",
        "{}",
        listed.text
    );
    // End users cannot make first-party clients.
    let user = app.user_token("acme", "u@example.com", "owner").await;
    let refused = app
        .graphql(
            Some(&user),
            r#"mutation { createOauthClient(input: {
                name: "Mine", redirectUris: ["https://x.example.com/cb"],
                allowedScopes: ["openid"], isFirstParty: true
            }) { client { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        refused.text
    );
}

/// An app administrator who is an end user: the console's OAuth flow (code + PKCE,
/// the verifier in an HttpOnly cookie), driven here through the authorization
/// endpoint's bearer path instead of the hosted login page.
#[tokio::test]
async fn end_users_sign_in_through_the_app_and_act_as_themselves() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.sync_roles(
        "acme",
        json!([{ "name": "helpdesk", "permissions": ["user.read", "audit.read"] }]),
    )
    .await;
    let token = app.user_token("acme", "help@example.com", "helpdesk").await;
    app.user_token("acme", "other@example.com", "member").await;

    let started = app
        .post("/console/session/oauth", None, json!({ "app": "acme" }))
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let flow_cookie = started.header("set-cookie").unwrap().to_owned();
    for attribute in [
        "heimdall_console_oauth=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/console/",
    ] {
        assert!(flow_cookie.contains(attribute), "{flow_cookie}");
    }
    let flow_pair = flow_cookie.split(';').next().unwrap().to_owned();
    let authorize = started.body["data"]["authorize_url"].as_str().unwrap();
    assert!(
        authorize.starts_with("/acme/v1/oauth/authorize?"),
        "{authorize}"
    );
    assert!(authorize.contains("code_challenge_method=S256"));
    let verifier = flow_pair.rsplit('.').next().unwrap();
    assert!(
        !authorize.contains(verifier),
        "the verifier stays in the cookie"
    );

    // The console's client is first-party and public: no consent screen.
    let redirected = read(
        app.client
            .get(app.url(authorize))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(redirected.status, 302, "{}", redirected.text);
    let location = url::Url::parse(redirected.header("location").unwrap()).unwrap();
    assert_eq!(location.path(), "/console/callback");
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();

    // Without the flow's cookie, or with another state, the code is refused.
    let no_cookie = app
        .post(
            "/console/session",
            None,
            json!({ "code": params["code"], "state": params["state"] }),
        )
        .await;
    assert_eq!(no_cookie.status, 401, "{}", no_cookie.text);
    let wrong_state = with_cookie(
        &app,
        Method::POST,
        "/console/session",
        &flow_pair,
        None,
        Some(json!({ "code": params["code"], "state": "other" })),
    )
    .await;
    assert_eq!(wrong_state.status, 401, "{}", wrong_state.text);

    let opened = with_cookie(
        &app,
        Method::POST,
        "/console/session",
        &flow_pair,
        None,
        Some(json!({ "code": params["code"], "state": params["state"] })),
    )
    .await;
    assert_eq!(opened.status, 201, "{}", opened.text);
    assert_eq!(opened.body["data"]["principal"], "end_user");
    assert_eq!(opened.body["data"]["app"], "acme");
    let cookies: Vec<_> = opened
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("heimdall_console_oauth=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    let session = cookies
        .iter()
        .find(|c| c.starts_with("heimdall_console="))
        .unwrap();
    let cookie = session.split(';').next().unwrap().to_owned();
    let csrf = opened.body["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The user's own permissions, no more: reads work, a change names what is missing.
    let users = gql_cookie(
        &app,
        &cookie,
        Some(&csrf),
        r#"{ users(app: "acme") { nodes { id email } } myPermissions { permissions } }"#,
    )
    .await;
    assert!(users.body["errors"].is_null(), "{}", users.text);
    assert_eq!(
        users.body["data"]["myPermissions"]["permissions"],
        json!(["audit.read", "user.read"])
    );
    let id = users.body["data"]["users"]["nodes"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = gql_cookie(
        &app,
        &cookie,
        Some(&csrf),
        &format!(r#"mutation {{ deactivateUser(app: "acme", id: "{id}") {{ status }} }}"#),
    )
    .await;
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        refused.text
    );
    assert_eq!(
        refused.body["errors"][0]["extensions"]["missing"],
        json!(["user.update"])
    );
    let keys_only = gql_cookie(
        &app,
        &cookie,
        Some(&csrf),
        r#"mutation { rotateSigningKey(app: "acme") { kid } }"#,
    )
    .await;
    assert_eq!(
        keys_only.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        keys_only.text
    );

    // The code was single-use.
    let replay = with_cookie(
        &app,
        Method::POST,
        "/console/session",
        &flow_pair,
        None,
        Some(json!({ "code": params["code"], "state": params["state"] })),
    )
    .await;
    assert_eq!(replay.status, 401, "{}", replay.text);

    // Revoking the user's sessions ends the console session.
    let me = app.get("/acme/v1/me", Some(&token)).await;
    let user_id = me.body["id"]
        .as_str()
        .or(me.body["data"]["id"].as_str())
        .unwrap()
        .to_owned();
    let revoked = app
        .delete(
            &format!("/v1/apps/acme/users/{user_id}/sessions"),
            Some(&app.root_key),
        )
        .await;
    assert!(revoked.status < 300, "{}", revoked.text);
    let after = gql_cookie(&app, &cookie, Some(&csrf), "{ myPermissions { role } }").await;
    assert_eq!(after.status, 401, "{}", after.text);

    // An unknown app is 404.
    let unknown = app
        .post("/console/session/oauth", None, json!({ "app": "nope" }))
        .await;
    unknown.error(404, "not_found");
}
