//! SCIM 2.0 provisioning (docs/src/importing-users-and-scim.md): tokens, discovery,
//! Users and Groups over `/{slug}/scim/v2/`, the mapping onto users and tenants, and
//! isolation between apps.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn mint(app: &TestApp, slug: &str) -> String {
    let pak = app.create_pak(slug).await;
    let resp = app
        .post(
            &format!("/v1/apps/{slug}/scim-tokens"),
            Some(&pak),
            json!({"name": "Entra ID"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let token = resp.body["data"]["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hm_scim_"));
    assert!(
        resp.body["data"]["scim_base_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{slug}/scim/v2"))
    );
    token
}

async fn scim(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let resp = read(request.send().await.unwrap()).await;
    assert!(
        resp.status == 204
            || resp
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/scim+json")),
        "{path}: {:?}",
        resp.headers
    );
    resp
}

fn scim_error(resp: &Resp, status: u16) -> &Value {
    assert_eq!(resp.status, status, "{}", resp.text);
    assert_eq!(
        resp.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(resp.body["status"], status.to_string());
    &resp.body
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let token = mint(&app, "acme").await;
    let pak = app.create_pak("acme").await;
    let list = app.get("/v1/apps/acme/scim-tokens", Some(&pak)).await;
    assert_eq!(list.status, 200);
    assert!(!list.text.contains(&token));
    assert!(list.body["data"][0].get("token").is_none());
    use sea_orm::EntityTrait;
    let stored = entity::scim_token::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);
    assert!(!stored[0].token_hash.contains("hm_scim_"));
    let audit = app.audit("scim_token.created").await;
    assert!(!audit[0].metadata.to_string().contains(&token));

    let ok = scim(&app, Method::GET, "/acme/scim/v2/Users", &token, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // The token is no admin key, and admin keys are no SCIM token.
    let as_admin = app.get("/v1/apps/acme/users", Some(&token)).await;
    assert_eq!(as_admin.status, 401);
    let pak_on_scim = scim(&app, Method::GET, "/acme/scim/v2/Users", &pak, None).await;
    scim_error(&pak_on_scim, 401);
    let none = read(
        app.client
            .get(app.url("/acme/scim/v2/Users"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none.status, 401);
    assert!(none.header("www-authenticate").is_some());

    let id = list.body["data"][0]["id"].as_str().unwrap();
    let revoked = app
        .delete(&format!("/v1/apps/acme/scim-tokens/{id}"), Some(&pak))
        .await;
    assert_eq!(revoked.status, 204);
    let after = scim(&app, Method::GET, "/acme/scim/v2/Users", &token, None).await;
    scim_error(&after, 401);
}

#[tokio::test]
async fn discovery_describes_the_service() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let token = mint(&app, "acme").await;
    let spc = scim(
        &app,
        Method::GET,
        "/acme/scim/v2/ServiceProviderConfig",
        &token,
        None,
    )
    .await;
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["filter"]["supported"], true);
    assert_eq!(spc.body["bulk"]["supported"], false);
    let types = scim(
        &app,
        Method::GET,
        "/acme/scim/v2/ResourceTypes",
        &token,
        None,
    )
    .await;
    let names: Vec<&str> = types.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User", "Group"]);
    let schemas = scim(&app, Method::GET, "/acme/scim/v2/Schemas", &token, None).await;
    assert_eq!(schemas.body["totalResults"], 6);
    let user_schema = scim(
        &app,
        Method::GET,
        "/acme/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        &token,
        None,
    )
    .await;
    assert_eq!(user_schema.status, 200, "{}", user_schema.text);
    let missing = scim(&app, Method::GET, "/acme/scim/v2/Nothing", &token, None).await;
    scim_error(&missing, 404);
    let no_app = scim(
        &app,
        Method::GET,
        "/nope/scim/v2/ServiceProviderConfig",
        &token,
        None,
    )
    .await;
    scim_error(&no_app, 404);
}

#[tokio::test]
async fn users_map_onto_heimdall_users() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let token = mint(&app, "acme").await;
    let created = scim(
        &app,
        Method::POST,
        "/acme/scim/v2/Users",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "Bjensen@Example.com",
            "externalId": "entra-123",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "title": "Tour Guide",
            "active": true,
            ENTERPRISE: {"department": "Tours"},
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(
        created
            .header("location")
            .unwrap()
            .ends_with(&format!("/Users/{id}"))
    );
    // userName comes back as sent; the user's email is its normalised form.
    assert_eq!(created.body["userName"], "Bjensen@Example.com");
    assert_eq!(created.body["displayName"], "Barbara Jensen");
    assert_eq!(created.body["externalId"], "entra-123");
    assert_eq!(created.body["title"], "Tour Guide");
    assert_eq!(created.body[ENTERPRISE]["department"], "Tours");
    assert_eq!(created.body["meta"]["resourceType"], "User");

    // The same user on the admin lane.
    let user = app
        .get(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
        .await;
    assert_eq!(user.body["data"]["email"], "bjensen@example.com");
    assert_eq!(user.body["data"]["display_name"], "Barbara Jensen");
    let audit = app.audit("user.created").await;
    assert_eq!(audit[0].metadata["source"], "scim");
    assert_eq!(audit[0].actor_type, "scim_token");

    let duplicate = scim(
        &app,
        Method::POST,
        "/acme/scim/v2/Users",
        &token,
        Some(json!({"userName": "bjensen@example.com"})),
    )
    .await;
    assert_eq!(scim_error(&duplicate, 409)["scimType"], "uniqueness");
    let invalid = scim(
        &app,
        Method::POST,
        "/acme/scim/v2/Users",
        &token,
        Some(json!({"userName": "not-an-email"})),
    )
    .await;
    assert_eq!(scim_error(&invalid, 400)["scimType"], "invalidValue");
    let malformed = app
        .send_raw(
            Method::POST,
            "/acme/scim/v2/Users",
            Some(&token),
            Some("application/scim+json"),
            b"{nope".to_vec(),
        )
        .await;
    assert_eq!(scim_error(&malformed, 400)["scimType"], "invalidSyntax");

    // active ↔ deactivation, by PATCH and by PUT.
    let deactivated = scim(
        &app,
        Method::PATCH,
        &format!("/acme/scim/v2/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "path": "name.givenName", "value": "Babs"},
            ],
        })),
    )
    .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    assert_eq!(deactivated.body["active"], false);
    assert_eq!(deactivated.body["name"]["givenName"], "Babs");
    let user = app
        .get(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
        .await;
    assert_eq!(user.body["data"]["status"], "deactivated");
    let events = app.audit("user.deactivated").await;
    assert_eq!(events[0].metadata["source"], "scim");
    let mut replacement = deactivated.body.clone();
    replacement["active"] = json!(true);
    replacement["userName"] = json!("barbara@example.com");
    replacement["emails"] = json!([{"value": "barbara@example.com", "primary": true}]);
    let replaced = scim(
        &app,
        Method::PUT,
        &format!("/acme/scim/v2/Users/{id}"),
        &token,
        Some(replacement),
    )
    .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["active"], true);
    let user = app
        .get(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
        .await;
    assert_eq!(user.body["data"]["email"], "barbara@example.com");
    assert_eq!(user.body["data"]["status"], "active");
    let bad_patch = scim(
        &app,
        Method::PATCH,
        &format!("/acme/scim/v2/Users/{id}"),
        &token,
        Some(json!({"Operations": [{"op": "remove"}]})),
    )
    .await;
    assert_eq!(scim_error(&bad_patch, 400)["scimType"], "noTarget");

    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/acme/scim/v2/Users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let gone = scim(
        &app,
        Method::GET,
        &format!("/acme/scim/v2/Users/{id}"),
        &token,
        None,
    )
    .await;
    scim_error(&gone, 404);
    let not_uuid = scim(&app, Method::GET, "/acme/scim/v2/Users/xyz", &token, None).await;
    scim_error(&not_uuid, 404);
}

#[tokio::test]
async fn lists_filter_sort_and_page() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let token = mint(&app, "acme").await;
    for (email, given, title) in [
        ("carol@example.com", "Carol", "CTO"),
        ("alice@example.com", "Alice", "Engineer"),
        ("bob@other.example", "Bob", "Engineer"),
    ] {
        let r = scim(
            &app,
            Method::POST,
            "/acme/scim/v2/Users",
            &token,
            Some(json!({"userName": email, "name": {"givenName": given}, "title": title})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let names = |resp: &Resp| -> Vec<String> {
        resp.body["Resources"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", resp.text))
            .iter()
            .map(|r| r["userName"].as_str().unwrap().to_owned())
            .collect()
    };
    let query = |q: &str| {
        let q = q.to_owned();
        let app = &app;
        let token = token.clone();
        async move {
            let url = format!("/acme/scim/v2/Users?{q}");
            scim(app, Method::GET, &url, &token, None).await
        }
    };
    let enc = |f: &str| url::form_urlencoded::byte_serialize(f.as_bytes()).collect::<String>();
    let eq = query(&format!(
        "filter={}",
        enc(r#"userName eq "ALICE@example.com""#)
    ))
    .await;
    assert_eq!(names(&eq), ["alice@example.com"]);
    assert_eq!(eq.body["totalResults"], 1);
    let co = query(&format!(
        "filter={}&sortBy=userName",
        enc(r#"userName co "example.com""#)
    ))
    .await;
    assert_eq!(names(&co), ["alice@example.com", "carol@example.com"]);
    let sw = query(&format!("filter={}", enc(r#"name.givenName sw "b""#))).await;
    assert_eq!(names(&sw), ["bob@other.example"]);
    let pr_and_or = query(&format!(
        "filter={}&sortBy=userName&sortOrder=descending",
        enc(r#"title pr and (title eq "CTO" or userName ew "other.example")"#)
    ))
    .await;
    assert_eq!(
        names(&pr_and_or),
        ["carol@example.com", "bob@other.example"]
    );
    let paged = query("sortBy=userName&startIndex=2&count=1").await;
    assert_eq!(paged.body["totalResults"], 3);
    assert_eq!(paged.body["startIndex"], 2);
    assert_eq!(paged.body["itemsPerPage"], 1);
    assert_eq!(names(&paged), ["bob@other.example"]);
    let projected = query("attributes=userName&count=1").await;
    let first = &projected.body["Resources"][0];
    assert!(
        first.get("title").is_none() && first.get("id").is_some(),
        "{first}"
    );
    let bad = query(&format!("filter={}", enc(r#"userName zz "x""#))).await;
    assert_eq!(scim_error(&bad, 400)["scimType"], "invalidFilter");
    let bad_count = query("count=many").await;
    scim_error(&bad_count, 400);
}

#[tokio::test]
async fn groups_are_tenants_and_members_are_tenant_members() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let token = mint(&app, "acme").await;
    let mut ids = Vec::new();
    for email in ["m1@example.com", "m2@example.com"] {
        let r = scim(
            &app,
            Method::POST,
            "/acme/scim/v2/Users",
            &token,
            Some(json!({"userName": email})),
        )
        .await;
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    let group = scim(
        &app,
        Method::POST,
        "/acme/scim/v2/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Sales Team",
            "externalId": "grp-1",
            "members": [{"value": ids[0]}],
        })),
    )
    .await;
    assert_eq!(group.status, 201, "{}", group.text);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    assert_eq!(group.body["members"][0]["value"], ids[0].as_str());
    let tenant = app
        .get(&format!("/v1/apps/acme/tenants/{gid}"), Some(&pak))
        .await;
    assert_eq!(tenant.status, 200, "{}", tenant.text);
    assert_eq!(tenant.body["data"]["name"], "Sales Team");
    let members = app
        .get(&format!("/v1/apps/acme/tenants/{gid}/members"), Some(&pak))
        .await;
    assert_eq!(members.body["data"].as_array().unwrap().len(), 1);

    let patched = scim(
        &app,
        Method::PATCH,
        &format!("/acme/scim/v2/Groups/{gid}"),
        &token,
        Some(json!({"Operations": [
            {"op": "add", "path": "members", "value": [{"value": ids[1]}]},
            {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[0])},
            {"op": "replace", "path": "displayName", "value": "Sales"},
        ]})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["displayName"], "Sales");
    let member_ids: Vec<&str> = patched.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(member_ids, [ids[1].as_str()]);
    let user = scim(
        &app,
        Method::GET,
        &format!("/acme/scim/v2/Users/{}", ids[1]),
        &token,
        None,
    )
    .await;
    assert_eq!(user.body["groups"][0]["value"], gid.as_str());
    let removed = app.audit("tenant.member_removed").await;
    assert_eq!(removed[0].metadata["source"], "scim");

    let filtered = scim(
        &app,
        Method::GET,
        "/acme/scim/v2/Groups?filter=displayName%20eq%20%22sales%22",
        &token,
        None,
    )
    .await;
    assert_eq!(filtered.body["totalResults"], 1, "{}", filtered.text);
    let stranger = scim(
        &app,
        Method::PATCH,
        &format!("/acme/scim/v2/Groups/{gid}"),
        &token,
        Some(json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": uuid::Uuid::new_v4()}]}]})),
    )
    .await;
    scim_error(&stranger, 400);
    let deleted = scim(
        &app,
        Method::DELETE,
        &format!("/acme/scim/v2/Groups/{gid}"),
        &token,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.audit("tenant.deleted").await[0].metadata["source"],
        "scim"
    );
    let tenant = app
        .get(&format!("/v1/apps/acme/tenants/{gid}"), Some(&pak))
        .await;
    assert_eq!(tenant.status, 404);
}

#[tokio::test]
async fn one_apps_token_never_reaches_another_app() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    let acme = mint(&app, "acme").await;
    let globex = mint(&app, "globex").await;
    let user = scim(
        &app,
        Method::POST,
        "/globex/scim/v2/Users",
        &globex,
        Some(json!({"userName": "g@example.com"})),
    )
    .await;
    let id = user.body["id"].as_str().unwrap().to_owned();
    let group = scim(
        &app,
        Method::POST,
        "/globex/scim/v2/Groups",
        &globex,
        Some(json!({"displayName": "G"})),
    )
    .await;
    let gid = group.body["id"].as_str().unwrap().to_owned();
    // acme's token on globex's endpoints: 401.
    for (method, path) in [
        (Method::GET, "/globex/scim/v2/Users".to_owned()),
        (Method::GET, format!("/globex/scim/v2/Users/{id}")),
        (Method::DELETE, format!("/globex/scim/v2/Users/{id}")),
        (Method::GET, format!("/globex/scim/v2/Groups/{gid}")),
    ] {
        let resp = scim(&app, method, &path, &acme, None).await;
        scim_error(&resp, 401);
    }
    // globex's ids on acme's endpoints: 404, and absent from lists.
    let get = scim(
        &app,
        Method::GET,
        &format!("/acme/scim/v2/Users/{id}"),
        &acme,
        None,
    )
    .await;
    scim_error(&get, 404);
    let put = scim(
        &app,
        Method::PUT,
        &format!("/acme/scim/v2/Users/{id}"),
        &acme,
        Some(json!({"userName": "x@example.com"})),
    )
    .await;
    scim_error(&put, 404);
    let group_get = scim(
        &app,
        Method::GET,
        &format!("/acme/scim/v2/Groups/{gid}"),
        &acme,
        None,
    )
    .await;
    scim_error(&group_get, 404);
    let member = scim(
        &app,
        Method::POST,
        "/acme/scim/v2/Groups",
        &acme,
        Some(json!({"displayName": "A", "members": [{"value": id}]})),
    )
    .await;
    scim_error(&member, 400);
    let list = scim(&app, Method::GET, "/acme/scim/v2/Users", &acme, None).await;
    assert_eq!(list.body["totalResults"], 0);
    let groups = scim(&app, Method::GET, "/acme/scim/v2/Groups", &acme, None).await;
    assert_eq!(groups.body["totalResults"], 0);
}
