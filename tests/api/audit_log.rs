//! The audit log: reading it over both REST lanes and GraphQL with
//! filters and cursor pagination, its immutability, the entries of admin changes and
//! security events, retention, and the absence of secrets.

use heimdall::clock::Clock;
use serde_json::{Value, json};

use crate::{
    helpers::{Resp, TestApp, spawn_app},
    m2m::{create_client, form},
};

const PW: &str = "correct horse battery";

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    (app, pak)
}

async fn create_user(app: &TestApp, pak: &str, email: &str) -> String {
    let resp = app
        .post(
            "/v1/apps/acme/users",
            Some(pak),
            json!({"email": email, "password": PW}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body["data"]["id"].as_str().unwrap().to_owned()
}

fn actions(resp: &Resp) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Every entry of the app through the admin lane, following cursors.
async fn all_entries(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/apps/acme/audit-log?limit=100{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let resp = app.get(&path, Some(token)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        entries.extend(resp.body["data"].as_array().unwrap().iter().cloned());
        match resp.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return entries,
        }
    }
}

#[tokio::test]
async fn entries_have_the_spec_shape_and_come_newest_first() {
    let (app, pak) = setup().await;
    let resp = app
        .client
        .post(app.url("/v1/apps/acme/users"))
        .bearer_auth(&pak)
        .header("user-agent", "audit-test/1.0")
        .json(&json!({"email": "alice@example.com", "password": PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let alice: Value = resp.json().await.unwrap();
    let alice = alice["data"]["id"].as_str().unwrap().to_owned();
    let bob = create_user(&app, &pak, "bob@example.com").await;

    let resp = app.get("/v1/apps/acme/audit-log", Some(&pak)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let data = resp.body["data"].as_array().unwrap();
    // Newest first: bob's creation, then alice's (the PAK's creation happened before).
    let created: Vec<&Value> = data
        .iter()
        .filter(|e| e["action"] == "user.created")
        .collect();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["target"]["id"], json!(bob));
    assert_eq!(created[1]["target"]["id"], json!(alice));
    let entry = created[1];
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "actor",
            "created_at",
            "id",
            "ip",
            "metadata",
            "target",
            "user_agent"
        ]
    );
    assert_eq!(entry["actor"]["type"], "api_key");
    assert!(entry["actor"]["id"].is_string(), "{entry}");
    assert_eq!(entry["target"], json!({"type": "user", "id": alice}));
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["user_agent"], "audit-test/1.0");
    assert!(entry["metadata"].is_object());
    chrono::DateTime::parse_from_rfc3339(entry["created_at"].as_str().unwrap()).unwrap();
    // The app's creation is the oldest entry, then the PAK's.
    let oldest = &data[data.len() - 1];
    assert_eq!(oldest["action"], "app.created");
    assert_eq!(oldest["actor"]["type"], "root");
    assert_eq!(oldest["metadata"], json!({"name": "acme"}));
    assert_eq!(data[data.len() - 2]["action"], "api_key.created");
    assert_eq!(data[data.len() - 2]["actor"]["type"], "root");
    assert!(resp.body["next_cursor"].is_null());

    // Ids are strictly decreasing.
    let ids: Vec<&str> = data.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
}

#[tokio::test]
async fn filters_narrow_the_log() {
    let (app, pak) = setup().await;
    let alice = create_user(&app, &pak, "alice@example.com").await;
    let signin = app.signin("acme", "alice@example.com", PW).await;
    assert_eq!(signin.status, 200);
    let wrong = app
        .signin("acme", "alice@example.com", "wrong password!")
        .await;
    assert_eq!(wrong.status, 401);
    let before_bob = app.clock.now();
    app.clock.advance(chrono::Duration::hours(1));
    let bob = create_user(&app, &pak, "bob@example.com").await;
    let resp = app
        .post(
            &format!("/v1/apps/acme/users/{bob}/deactivate"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    let get = |q: &str| {
        let path = format!("/v1/apps/acme/audit-log?{q}");
        let (app, pak) = (&app, &pak);
        async move { app.get(&path, Some(pak)).await }
    };
    assert_eq!(
        actions(&get("action=user.created").await),
        ["user.created", "user.created"]
    );
    let family = actions(&get("action=user.*").await);
    assert_eq!(
        family,
        [
            "user.deactivated",
            "user.created",
            "user.signin_failed",
            "user.signed_in",
            "user.created"
        ]
    );
    // Target: everything that happened to alice.
    let about_alice = get(&format!("target_id={alice}")).await;
    // (Her sign-in's target is the session it opened.)
    assert_eq!(
        actions(&about_alice),
        ["user.signin_failed", "user.created"]
    );
    // Actor: alice's own sign-in is hers.
    let by_alice = actions(&get(&format!("actor_id={alice}")).await);
    assert!(
        by_alice.contains(&"user.signed_in".to_owned()),
        "{by_alice:?}"
    );
    assert!(!by_alice.contains(&"user.created".to_owned()));
    // Time window: since is inclusive, until exclusive.
    let cut = (before_bob + chrono::Duration::seconds(1)).to_rfc3339();
    let cut = urlencode(&cut);
    assert_eq!(
        actions(&get(&format!("since={cut}")).await),
        ["user.deactivated", "user.created"]
    );
    let until = actions(&get(&format!("until={cut}&action=user.created")).await);
    assert_eq!(until, ["user.created"]);
    let combined = get(&format!("since={cut}&action=user.created&target_id={bob}")).await;
    assert_eq!(actions(&combined), ["user.created"]);
    assert_eq!(combined.body["data"][0]["target"]["id"], json!(bob));
    // Nothing matches.
    assert!(actions(&get("action=tenant.created").await).is_empty());
    // Families with an underscore (literal, not a LIKE wildcard), in any case.
    let client = crate::m2m::create_client(&app, "acme", json!(["user.read"])).await;
    assert_eq!(
        actions(&get("action=m2m_client.*").await),
        ["m2m_client.created"]
    );
    assert_eq!(
        actions(&get("action=M2M_Client.*").await),
        ["m2m_client.created"]
    );
    assert!(actions(&get("action=m2mXclient.*").await).is_empty());
    assert!(actions(&get("action=m2m%25.*").await).is_empty());
    assert!(!client.id.is_empty());

    // Bad filters are 400s naming the parameter.
    let bad = get("since=yesterday").await;
    assert_eq!(
        bad.error(400, "invalid_request")["details"]["fields"]["since"]
            .as_str()
            .map(|m| m.contains("RFC 3339")),
        Some(true),
        "{}",
        bad.text
    );
    let later = urlencode("2030-01-01T00:00:00Z");
    let earlier = urlencode("2020-01-01T00:00:00Z");
    get(&format!("since={later}&until={earlier}"))
        .await
        .error(400, "invalid_request");
    get("actor=someone").await.error(400, "invalid_request");
    // A literal % is a value like any other: it matches nothing.
    assert!(actions(&get("action=user%25").await).is_empty());
    get("action=us*").await.error(400, "invalid_request");
    get("limit=0").await.error(400, "invalid_request");
    get("cursor=garbage").await.error(400, "invalid_request");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn cursor_pagination_walks_every_entry_once() {
    let (app, pak) = setup().await;
    for i in 0..7 {
        create_user(&app, &pak, &format!("u{i}@example.com")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/v1/apps/acme/audit-log?action=user.created&limit=3".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let resp = app.get(&path, Some(&pak)).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        pages += 1;
        let data = resp.body["data"].as_array().unwrap();
        assert!(data.len() <= 3);
        for e in data {
            seen.push(
                e["metadata"]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
            seen.push(e["id"].as_str().unwrap().to_owned());
        }
        match resp.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let ids: Vec<&String> = seen.iter().skip(1).step_by(2).collect();
    assert_eq!(ids.len(), 7);
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 7, "no entry twice");
    let mut descending = ids.clone();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, descending, "newest first across pages");
}

#[tokio::test]
async fn consumer_lane_needs_audit_read_and_sees_only_its_app() {
    let (app, pak) = setup().await;
    app.create_app("other").await;
    let other_pak = app.create_pak("other").await;
    let resp = app
        .post(
            "/v1/apps/other/users",
            Some(&other_pak),
            json!({"email": "x@example.com", "password": PW}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    let member = app.user_token("acme", "member@example.com", "member").await;
    // A role with audit.read alone is enough.
    app.sync_roles(
        "acme",
        json!([{"name": "auditor", "permissions": ["audit.read"]}]),
    )
    .await;
    let auditor = app
        .user_token("acme", "auditor@example.com", "auditor")
        .await;

    let resp = app.get("/acme/v1/audit-log", Some(&admin)).await;
    let got = actions(&resp);
    assert!(got.contains(&"user.signed_in".to_owned()), "{got:?}");
    assert_eq!(
        resp.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["metadata"]["email"] == "x@example.com")
            .count(),
        0,
        "another app's entries never show"
    );
    let filtered = app
        .get(
            "/acme/v1/audit-log?action=user.signed_in&limit=2",
            Some(&auditor),
        )
        .await;
    assert_eq!(actions(&filtered), ["user.signed_in", "user.signed_in"]);
    assert!(filtered.body["next_cursor"].is_string());

    app.get("/acme/v1/audit-log", Some(&member))
        .await
        .error(403, "forbidden");
    app.get("/acme/v1/audit-log", None)
        .await
        .error(401, "unauthenticated");
    // An end user of acme cannot read another app's log on either lane.
    let foreign = app.get("/other/v1/audit-log", Some(&admin)).await;
    assert!(
        [401, 403, 404].contains(&foreign.status),
        "{}",
        foreign.text
    );
    assert!(!foreign.text.contains("x@example.com"));
    let cross = app.get("/v1/apps/other/audit-log", Some(&pak)).await;
    assert!(cross.status == 403 || cross.status == 404, "{}", cross.text);
    // The admin lane itself is root/app key only.
    let lane = app.get("/v1/apps/acme/audit-log", Some(&admin)).await;
    assert_eq!(lane.status, 403, "{}", lane.text);
}

#[tokio::test]
async fn entries_are_immutable_through_the_api() {
    let (app, pak) = setup().await;
    create_user(&app, &pak, "alice@example.com").await;
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    let id = app.get("/v1/apps/acme/audit-log", Some(&pak)).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (token, base) in [(&pak, "/v1/apps/acme"), (&admin, "/acme/v1")] {
        let path = format!("{base}/audit-log");
        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
            reqwest::Method::DELETE,
        ] {
            let resp = app
                .request(method.clone(), &path, Some(token), Some(json!({})))
                .await;
            resp.error(405, "method_not_allowed");
        }
        let one = app
            .request(
                reqwest::Method::DELETE,
                &format!("{path}/{id}"),
                Some(token),
                None,
            )
            .await;
        assert!(one.status == 404 || one.status == 405, "{}", one.text);
    }
    let after = app.get("/v1/apps/acme/audit-log", Some(&pak)).await;
    assert_eq!(after.body["data"][0]["id"], json!(id));
}

#[tokio::test]
async fn graphql_audit_log_connection_with_filters() {
    let (app, pak) = setup().await;
    let alice = create_user(&app, &pak, "alice@example.com").await;
    create_user(&app, &pak, "bob@example.com").await;
    create_user(&app, &pak, "carol@example.com").await;
    let member = app.user_token("acme", "member@example.com", "member").await;
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    let query = r#"query($filter: AuditLogFilter, $first: Int, $after: String) {
        auditLog(filter: $filter, first: $first, after: $after) {
            edges { cursor node { id action actor { type id } target { type id } ip userAgent createdAt metadata } }
            pageInfo { hasNextPage endCursor }
        }
    }"#;
    let resp = app
        .graphql(
            Some(&pak),
            query,
            json!({"filter": {"action": "user.created"}, "first": 2}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let log = &resp.body["data"]["auditLog"];
    let edges = log["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0]["node"]["action"], "user.created");
    assert_eq!(edges[0]["node"]["target"]["type"], "user");
    assert_eq!(
        edges[0]["node"]["actor"]["type"], "root",
        "user_token creates with the root key"
    );
    assert_eq!(log["pageInfo"]["hasNextPage"], true);
    let after = log["pageInfo"]["endCursor"].as_str().unwrap();
    let rest = app
        .graphql(
            Some(&pak),
            query,
            json!({"filter": {"action": "user.created"}, "first": 10, "after": after}),
        )
        .await;
    let rest_edges = rest.body["data"]["auditLog"]["edges"].as_array().unwrap();
    // alice, bob, carol, member, admin: 5 creations in all.
    assert_eq!(rest_edges.len(), 3, "{}", rest.text);
    assert_eq!(rest_edges[2]["node"]["target"]["id"], json!(alice));

    let by_target = app
        .graphql(
            Some(&admin),
            query,
            json!({"filter": {"targetId": alice, "since": "2000-01-01T00:00:00Z"}}),
        )
        .await;
    assert!(by_target.body["errors"].is_null(), "{}", by_target.text);
    let edges = by_target.body["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["action"], "user.created");

    let denied = app.graphql(Some(&member), query, json!({})).await;
    assert_eq!(
        denied.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        denied.text
    );
    let bad = app
        .graphql(Some(&pak), query, json!({"filter": {"action": "us*"}}))
        .await;
    assert_eq!(
        bad.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{}",
        bad.text
    );
}

/// Drives the writes that handle secrets and checks that each is audited and that
/// no secret, password, token or hash reaches the log (API answers and the table).
#[tokio::test]
async fn security_events_are_audited_without_secrets() {
    let (app, pak) = setup().await;
    let mut secrets: Vec<String> = vec![pak.clone(), app.root_key.clone(), PW.to_owned()];

    // App keys.
    let key = app
        .post(
            "/v1/apps/acme/api-keys",
            Some(&app.root_key),
            json!({"name": "ci"}),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.text);
    secrets.push(key.body["data"]["key"].as_str().unwrap().to_owned());
    let key_id = key.body["data"]["id"].as_str().unwrap().to_owned();
    let revoked = app
        .delete(
            &format!("/v1/apps/acme/api-keys/{key_id}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);

    // Signing keys, directly and through the signing_alg setting.
    let rotated = app
        .post("/v1/apps/acme/signing-keys/rotate", Some(&pak), json!({}))
        .await;
    assert_eq!(rotated.status, 201, "{}", rotated.text);
    let patched = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"settings": {"signing_alg": "ES256", "access_token_ttl": 900}}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);

    // Users, passwords, sessions.
    let alice = create_user(&app, &pak, "alice@example.com").await;
    let signin = app.signin("acme", "alice@example.com", PW).await;
    for field in ["access_token", "refresh_token"] {
        secrets.push(signin.body[field].as_str().unwrap().to_owned());
    }
    let failed = app
        .signin("acme", "alice@example.com", "not the password")
        .await;
    assert_eq!(failed.status, 401);
    secrets.push("not the password".into());
    let new_password = "an entirely new passphrase";
    secrets.push(new_password.into());
    let changed = app
        .patch(
            &format!("/v1/apps/acme/users/{alice}"),
            Some(&pak),
            json!({"password": new_password}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);

    // Machine clients: creation, rotation, token issuance.
    let client = create_client(&app, "acme", json!(["user.read"])).await;
    secrets.push(client.secret.clone());
    let rotated = app
        .post(
            &format!("/v1/apps/acme/m2m-clients/{}/rotate-secret", client.id),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.body["data"]["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(new_secret.clone());
    let token = form(
        &app,
        "/acme/v1/oauth/token",
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret={new_secret}",
            client.id
        ),
        None,
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.text);
    secrets.push(token.body["access_token"].as_str().unwrap().to_owned());

    // OAuth clients.
    let oauth = app
        .post(
            "/v1/apps/acme/oauth-clients",
            Some(&pak),
            json!({"name": "Dash", "redirect_uris": ["https://dash.example.com/cb"]}),
        )
        .await;
    assert_eq!(oauth.status, 201, "{}", oauth.text);
    let oauth_id = oauth.body["data"]["id"].as_str().unwrap().to_owned();
    if let Some(s) = oauth.body["data"]["client_secret"].as_str() {
        secrets.push(s.to_owned());
    }
    let regenerated = app
        .post(
            &format!("/v1/apps/acme/oauth-clients/{oauth_id}/regenerate-secret"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(regenerated.status, 200, "{}", regenerated.text);
    secrets.push(
        regenerated.body["data"]["client_secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    );

    // Webhooks.
    let hook = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&pak),
            json!({"url": "https://hooks.example.com/T0/B0/urlsecret?key=querysecret", "events": ["*"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.text);
    secrets.push(hook.body["data"]["secret"].as_str().unwrap().to_owned());
    let hook_id = hook.body["data"]["id"].as_str().unwrap().to_owned();
    let rotated = app
        .post(
            &format!("/v1/apps/acme/webhooks/{hook_id}/rotate-secret"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    secrets.push(rotated.body["data"]["secret"].as_str().unwrap().to_owned());

    // Invites and password resets carry tokens.
    let invite = app
        .post(
            "/v1/apps/acme/invites",
            Some(&pak),
            json!({"email": "bob@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{}", invite.text);
    secrets.push(invite.body["data"]["token"].as_str().unwrap().to_owned());
    let reset = app
        .post(
            "/v1/apps/acme/password-resets",
            Some(&pak),
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(reset.status, 201, "{}", reset.text);
    if let Some(t) = reset.body["data"]["token"].as_str() {
        secrets.push(t.to_owned());
    }

    let entries = all_entries(&app, &pak, "").await;
    let got: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "api_key.created",
        "api_key.revoked",
        "signing_key.rotated",
        "app.updated",
        "user.created",
        "user.signed_in",
        "user.signin_failed",
        "user.updated",
        "m2m_client.created",
        "m2m_client.secret_rotated",
        "m2m.token_issued",
        "oauth_client.created",
        "oauth_client.secret_regenerated",
        "webhook.created",
        "webhook.secret_rotated",
        "invite.created",
    ] {
        assert!(got.contains(&expected), "{expected} missing from {got:?}");
    }
    // Two rotations: the explicit one and the algorithm change.
    assert_eq!(
        got.iter().filter(|a| **a == "signing_key.rotated").count(),
        2
    );
    let setting = entries
        .iter()
        .find(|e| e["action"] == "app.updated")
        .unwrap();
    let mut changed: Vec<&str> = setting["metadata"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    changed.sort_unstable();
    assert_eq!(
        changed,
        ["settings.access_token_ttl", "settings.signing_alg"]
    );

    // What the API shows and what the table holds.
    let mut text = serde_json::to_string(&entries).unwrap();
    for model in stored_entries(&app).await {
        text.push_str(&serde_json::to_string(&model.metadata).unwrap());
        text.push_str(model.user_agent.as_deref().unwrap_or_default());
    }
    // Receivers' own tokens in an endpoint URL stay out too: only the origin is kept.
    secrets.push("urlsecret".into());
    secrets.push("querysecret".into());
    assert!(text.contains("https://hooks.example.com"), "{text}");
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the audit log"
        );
    }
    for marker in [
        "hm_root_", "hm_pak_", "hm_sec_", "hm_at_", "hm_rt_", "hm_ac_", "hm_inv_", "hm_ev_",
        "hm_pr_", "whsec_", "$argon2", "eyJ",
    ] {
        assert!(!text.contains(marker), "{marker} appears in the audit log");
    }
}

async fn stored_entries(app: &TestApp) -> Vec<entity::audit_entry::Model> {
    use sea_orm::EntityTrait;
    entity::audit_entry::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn retention_removes_old_entries_per_app() {
    let (app, pak) = setup().await;
    app.create_app("keep").await;
    let keep_pak = app.create_pak("keep").await;
    for bad in [json!(0), json!(3651), json!("30")] {
        let resp = app
            .patch(
                "/v1/apps/acme",
                Some(&pak),
                json!({"settings": {"audit_retention_days": bad}}),
            )
            .await;
        assert!(
            resp.error(400, "invalid_request")["details"]["fields"]
                .get("settings.audit_retention_days")
                .is_some(),
            "{}",
            resp.text
        );
    }
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"settings": {"audit_retention_days": 30}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["settings"]["audit_retention_days"], 30);
    let fresh = app.get("/v1/apps/keep", Some(&keep_pak)).await;
    assert_eq!(fresh.body["data"]["settings"]["audit_retention_days"], 365);

    create_user(&app, &pak, "old@example.com").await;
    let resp = app
        .post(
            "/v1/apps/keep/users",
            Some(&keep_pak),
            json!({"email": "old@example.com", "password": PW}),
        )
        .await;
    assert_eq!(resp.status, 201);
    app.clock.advance(chrono::Duration::days(29));
    create_user(&app, &pak, "recent@example.com").await;
    let purge = heimdall::services::audit_log::purge_expired;
    assert_eq!(
        purge(&app.state).await.unwrap(),
        0,
        "nothing is 30 days old yet"
    );

    app.clock.advance(chrono::Duration::days(2));
    let removed = purge(&app.state).await.unwrap();
    assert!(removed >= 3, "{removed}");
    let left = all_entries(&app, &pak, "").await;
    let emails: Vec<&str> = left
        .iter()
        .filter_map(|e| e["metadata"]["email"].as_str())
        .collect();
    assert_eq!(emails, ["recent@example.com"], "{left:?}");
    // The other app keeps a year.
    let kept = app.get("/v1/apps/keep/audit-log", Some(&keep_pak)).await;
    assert!(
        actions(&kept).contains(&"user.created".to_owned()),
        "{}",
        kept.text
    );
    assert_eq!(purge(&app.state).await.unwrap(), 0, "idempotent");
}
