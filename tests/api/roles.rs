//! The role catalogue: system roles, custom roles, declarative sync, caller-narrowing
//! and the consumer-API admin lane.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn acme() -> TestApp {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app
}

#[tokio::test]
async fn every_app_has_fixed_system_roles() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    let resp = app.get("/v1/apps/acme/roles", root).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let roles = resp.body["data"].as_array().unwrap();
    let by_name = |n: &str| roles.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(roles.len(), 4);
    assert_eq!(by_name("owner")["permissions"], json!(["*"]));
    assert_eq!(
        by_name("developer")["permissions"],
        json!(["api_keys:*", "oauth_clients:*"])
    );
    assert_eq!(by_name("member")["permissions"], json!([]));
    let admin = names(&by_name("admin")["permissions"]);
    for p in [
        "user.read",
        "user.update",
        "user.invite",
        "role.assign",
        "role.manage",
        "tenant.manage",
        "oauth_clients:read",
        "oauth_clients:update",
        "oauth_clients:delete",
        "audit.read",
    ] {
        assert!(admin.contains(&p.to_owned()), "{p}");
    }
    assert!(roles.iter().all(|r| r["is_system"] == true));

    for name in ["owner", "admin", "developer", "member"] {
        app.delete(&format!("/v1/apps/acme/roles/{name}"), root)
            .await
            .error(409, "conflict");
        app.patch(
            &format!("/v1/apps/acme/roles/{name}"),
            root,
            json!({"permissions": ["x.y"]}),
        )
        .await
        .error(409, "conflict");
    }
    // A custom "admin" role: the system roles already use that name.
    app.post(
        "/v1/apps/acme/roles",
        root,
        json!({"name": "admin", "permissions": ["billing:read"]}),
    )
    .await
    .error(409, "conflict");
}

#[tokio::test]
async fn custom_roles_crud_and_grammar() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .post(
            "/v1/apps/acme/roles",
            root,
            json!({"name": "billing", "display_name": "Billing", "permissions": ["billing:write", "billing:read", "billing:read"]}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        resp.body["data"]["permissions"],
        json!(["billing:read", "billing:write"])
    );
    assert_eq!(resp.body["_links"]["self"], "/v1/apps/acme/roles/billing");
    app.post("/v1/apps/acme/roles", root, json!({"name": "billing"}))
        .await
        .error(409, "conflict");

    for bad in [
        "Billing:read",
        "billing",
        "billing.read.all",
        "*.read",
        "billing:re*d",
        "billing read",
        "",
    ] {
        let resp = app
            .post(
                "/v1/apps/acme/roles",
                root,
                json!({"name": "x", "permissions": [bad]}),
            )
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains(&format!("'{bad}'")),
            "{bad}: {}",
            resp.text
        );
    }
    app.post("/v1/apps/acme/roles", root, json!({"name": "Bad Name"}))
        .await
        .error(400, "invalid_request");

    let resp = app
        .patch(
            "/v1/apps/acme/roles/billing",
            root,
            json!({"permissions": ["billing:*"], "description": "Money"}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["permissions"],
        json!(["billing:*"]),
        "{}",
        resp.text
    );
    assert_eq!(resp.body["data"]["description"], "Money");
    assert_eq!(
        app.get("/v1/apps/acme/roles/billing", root).await.body["data"]["display_name"],
        "Billing"
    );
    app.get("/v1/apps/acme/roles/nope", root)
        .await
        .error(404, "not_found");

    let catalogue = app.get("/v1/apps/acme/permissions", root).await;
    let entries = catalogue.body["data"].as_array().unwrap();
    let entry = |n: &str| entries.iter().find(|e| e["name"] == n).cloned();
    assert_eq!(
        entry("billing:*").unwrap()["roles"],
        json!(["billing", "owner"])
    );
    assert_eq!(
        entry("user.read").unwrap()["roles"],
        json!(["admin", "owner"])
    );

    assert_eq!(
        app.delete("/v1/apps/acme/roles/billing", root).await.status,
        204
    );
    assert_eq!(app.audit("role.created").await.len(), 1);
    assert_eq!(app.audit("role.updated").await.len(), 1);
    assert_eq!(app.audit("role.deleted").await.len(), 1);
}

#[tokio::test]
async fn sync_dry_run_apply_and_idempotence() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    app.sync_roles(
        "acme",
        json!([
            {"name": "editor", "permissions": ["post.read", "post.write"]},
            {"name": "legacy", "permissions": ["old.thing"]},
        ]),
    )
    .await;
    let desired = json!({"roles": [
        {"name": "editor", "permissions": ["post.read", "post.publish"]},
        {"name": "viewer", "display_name": "Viewer", "permissions": ["post.read"]},
        {"name": "owner", "permissions": ["*"]},
    ]});

    let dry = app
        .put("/v1/apps/acme/roles?dry_run=true", root, desired.clone())
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(
        dry.body,
        json!({
            "dry_run": true,
            "created": ["viewer"],
            "updated": [{"name": "editor", "added": ["post.publish"], "removed": ["post.write"]}],
            "deleted": ["legacy"],
            "unchanged": [],
        })
    );
    // Nothing changed.
    let list = app.get("/v1/apps/acme/roles", root).await;
    assert!(list.text.contains("legacy") && !list.text.contains("viewer"));

    let applied = app.put("/v1/apps/acme/roles", root, desired.clone()).await;
    assert_eq!(applied.body["dry_run"], false);
    assert_eq!(applied.body["created"], json!(["viewer"]));
    assert_eq!(applied.body["deleted"], json!(["legacy"]));
    let again = app.put("/v1/apps/acme/roles", root, desired).await;
    assert_eq!(
        again.body,
        json!({"dry_run": false, "created": [], "updated": [], "deleted": [], "unchanged": ["editor", "viewer"]}),
        "the same body twice is an empty diff"
    );
    let roles = app.get("/v1/apps/acme/roles", root).await.body["data"].clone();
    assert_eq!(
        roles.as_array().unwrap().len(),
        6,
        "4 system + editor + viewer"
    );
}

#[tokio::test]
async fn sync_refuses_bad_input_atomically() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    app.sync_roles(
        "acme",
        json!([{"name": "editor", "permissions": ["post.read"]}]),
    )
    .await;
    for (body, what) in [
        (
            json!({"roles": [{"name": "a", "permissions": ["ok.read"]}, {"name": "a", "permissions": []}]}),
            "duplicate",
        ),
        (
            json!({"roles": [{"name": "owner", "permissions": ["post.read"]}]}),
            "system role changed",
        ),
        (
            json!({"roles": [{"name": "new", "permissions": ["BAD"]}]}),
            "bad permission",
        ),
        (
            json!({"roles": [{"name": "new", "permissions": []}], "extra": 1}),
            "unknown field",
        ),
    ] {
        let resp = app.put("/v1/apps/acme/roles", root, body).await;
        resp.error(400, "invalid_request");
        let _ = what;
    }
    let roles = app.get("/v1/apps/acme/roles", root).await;
    assert!(
        roles.text.contains("editor") && !roles.text.contains("\"new\""),
        "nothing was applied"
    );
    app.put(
        "/v1/apps/acme/roles?dry_run=maybe",
        root,
        json!({"roles": []}),
    )
    .await
    .error(400, "invalid_request");
}

#[tokio::test]
async fn deleting_an_assigned_role_needs_a_reassignment() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    app.sync_roles(
        "acme",
        json!([
            {"name": "editor", "permissions": ["post.write"]},
            {"name": "viewer", "permissions": ["post.read"]},
        ]),
    )
    .await;
    for i in 0..3 {
        app.post(
            "/v1/apps/acme/users",
            root,
            json!({"email": format!("e{i}@example.com"), "role": "editor"}),
        )
        .await;
    }
    let resp = app.delete("/v1/apps/acme/roles/editor", root).await;
    let error = resp.error(409, "conflict");
    assert_eq!(error["details"]["users"], 3);
    assert!(error["message"].as_str().unwrap().contains("3 user"));

    // A sync that drops it is refused the same way, dry run included.
    let body = json!({"roles": [{"name": "viewer", "permissions": ["post.read"]}]});
    let resp = app
        .put("/v1/apps/acme/roles?dry_run=true", root, body.clone())
        .await;
    assert_eq!(
        resp.error(409, "conflict")["details"]["roles"][0]["users"],
        3
    );
    let with_target = json!({"roles": [{"name": "viewer", "permissions": ["post.read"]}], "reassign_to": "viewer"});
    let resp = app.put("/v1/apps/acme/roles", root, with_target).await;
    assert_eq!(resp.body["deleted"], json!(["editor"]), "{}", resp.text);
    let viewers = app.get("/v1/apps/acme/users?role=viewer", root).await;
    assert_eq!(viewers.body["data"].as_array().unwrap().len(), 3);

    app.post(
        "/v1/apps/acme/roles",
        root,
        json!({"name": "temp", "permissions": []}),
    )
    .await;
    app.post(
        "/v1/apps/acme/users",
        root,
        json!({"email": "t@example.com", "role": "temp"}),
    )
    .await;
    app.delete("/v1/apps/acme/roles/temp?reassign_to=nope", root)
        .await
        .error(400, "invalid_request");
    assert_eq!(
        app.delete("/v1/apps/acme/roles/temp?reassign_to=member", root)
            .await
            .status,
        204
    );
    let members = app.get("/v1/apps/acme/users?role=member", root).await;
    assert_eq!(members.body["data"][0]["email"], "t@example.com");
}

#[tokio::test]
async fn users_need_roles_that_exist() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    let resp = app
        .post(
            "/v1/apps/acme/users",
            root,
            json!({"email": "a@example.com", "role": "ghost"}),
        )
        .await;
    assert!(resp.error(400, "invalid_request")["details"]["fields"]["role"].is_string());
    app.patch(
        "/v1/apps/acme",
        root,
        json!({"settings": {"default_role": "ghost"}}),
    )
    .await
    .error(400, "invalid_request");
    app.post(
        "/v1/apps",
        root,
        json!({"name": "other", "settings": {"default_role": "ghost"}}),
    )
    .await
    .error(400, "invalid_request");
}

/// acme with a manager who may administer users and roles but holds no `*`.
async fn with_manager() -> (TestApp, String) {
    let app = acme().await;
    app.sync_roles("acme", json!([
        {"name": "manager", "permissions": ["user.read", "user.update", "role.assign", "role.manage", "billing:read"]},
        {"name": "billing", "permissions": ["billing:read"]},
        {"name": "finance", "permissions": ["billing:read", "billing:write"]},
        {"name": "reader", "permissions": ["user:*"]},
    ]))
    .await;
    let token = app
        .user_token("acme", "manager@example.com", "manager")
        .await;
    (app, token)
}

#[tokio::test]
async fn the_consumer_lane_is_gated_by_permissions() {
    let (app, manager) = with_manager().await;
    let member = app.user_token("acme", "member@example.com", "member").await;
    let resp = app.get("/acme/v1/users", Some(&manager)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"].as_array().unwrap().len(), 2);
    assert!(resp.body["data"][0]["email"].is_string());

    let resp = app.get("/acme/v1/users", Some(&member)).await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["user.read"])
    );
    app.get("/acme/v1/roles", Some(&member))
        .await
        .error(403, "forbidden");
    app.get("/acme/v1/users", None)
        .await
        .error(401, "unauthenticated");

    // A wildcard grants the whole resource.
    let reader = app.user_token("acme", "reader@example.com", "reader").await;
    assert_eq!(app.get("/acme/v1/users", Some(&reader)).await.status, 200);

    // Another app's token is not a credential here.
    app.create_app("globex").await;
    let outsider = app.user_token("globex", "x@example.com", "owner").await;
    app.get("/acme/v1/users", Some(&outsider))
        .await
        .error(401, "unauthenticated");
    // The admin lane still takes keys only.
    app.get("/v1/apps/acme/users", Some(&manager))
        .await
        .error(403, "forbidden");
}

#[tokio::test]
async fn nobody_grants_what_they_do_not_hold() {
    let (app, manager) = with_manager().await;
    let target = app
        .post(
            "/v1/apps/acme/users",
            Some(&app.root_key),
            json!({"email": "t@example.com", "password": "correct horse battery"}),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/acme/v1/users/{target}");

    let resp = app
        .patch(&path, Some(&manager), json!({"role": "owner"}))
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["*"])
    );
    let resp = app
        .patch(&path, Some(&manager), json!({"role": "finance"}))
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["billing:write"])
    );
    let resp = app
        .patch(&path, Some(&manager), json!({"role": "billing"}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["role"], "billing");
    assert_eq!(resp.body["_links"]["self"], path.as_str());
    let assigned = app.audit("role.assigned").await;
    assert_eq!(assigned.last().unwrap().actor_type, "end_user");

    // Roles: only permissions the manager holds go in.
    let resp = app
        .post(
            "/acme/v1/roles",
            Some(&manager),
            json!({"name": "sneaky", "permissions": ["billing:write"]}),
        )
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["billing:write"])
    );
    let resp = app
        .post(
            "/acme/v1/roles",
            Some(&manager),
            json!({"name": "helper", "permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let resp = app
        .patch(
            "/acme/v1/roles/helper",
            Some(&manager),
            json!({"permissions": ["billing:read", "*"]}),
        )
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["*"])
    );

    // Nobody acts on a user who holds more than they do (no takeover of the owner).
    let owner = app
        .post(
            "/v1/apps/acme/users",
            Some(&app.root_key),
            json!({"email": "owner@example.com", "role": "owner"}),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .patch(
            &format!("/acme/v1/users/{owner}"),
            Some(&manager),
            json!({"password": "i own you now!!"}),
        )
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["*"])
    );
    app.post(
        &format!("/acme/v1/users/{owner}/deactivate"),
        Some(&manager),
        json!({}),
    )
    .await
    .error(403, "forbidden");

    // user.update alone does not assign roles.
    app.sync_roles("acme", json!([
        {"name": "manager", "permissions": ["user.read", "user.update", "role.assign", "role.manage", "billing:read"]},
        {"name": "billing", "permissions": ["billing:read"]},
        {"name": "finance", "permissions": ["billing:read", "billing:write"]},
        {"name": "reader", "permissions": ["user:*"]},
        {"name": "support", "permissions": ["user.read", "user.update"]},
        {"name": "helper", "permissions": ["billing:read"]},
    ]))
    .await;
    let support = app
        .user_token("acme", "support@example.com", "support")
        .await;
    let plain = app
        .post(
            "/v1/apps/acme/users",
            Some(&app.root_key),
            json!({"email": "plain@example.com"}),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain_path = format!("/acme/v1/users/{plain}");
    let resp = app
        .patch(
            &plain_path,
            Some(&support),
            json!({"role": "support", "display_name": "P"}),
        )
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["role.assign"])
    );
    assert_eq!(
        app.patch(&plain_path, Some(&support), json!({"display_name": "P"}))
            .await
            .status,
        200
    );
    // The billing user holds billing:read, which support lacks: hands off.
    let resp = app
        .patch(&path, Some(&support), json!({"display_name": "T"}))
        .await;
    assert_eq!(
        resp.error(403, "forbidden")["details"]["missing"],
        json!(["billing:read"])
    );
}

#[tokio::test]
async fn permission_changes_apply_at_once() {
    let (app, _) = with_manager().await;
    let token = app.user_token("acme", "b@example.com", "billing").await;
    let perms = app.get("/acme/v1/me/permissions", Some(&token)).await;
    assert_eq!(perms.status, 200, "{}", perms.text);
    assert_eq!(
        perms.body,
        json!({"role": "billing", "org_role": null, "permissions": ["billing:read"]})
    );

    app.patch(
        "/v1/apps/acme/roles/billing",
        Some(&app.root_key),
        json!({"permissions": ["billing:read", "report.read"]}),
    )
    .await;
    let perms = app.get("/acme/v1/me/permissions", Some(&token)).await;
    assert_eq!(
        perms.body["permissions"],
        json!(["billing:read", "report.read"])
    );

    let id = app
        .get(
            "/v1/apps/acme/users?email=b%40example.com",
            Some(&app.root_key),
        )
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(
        &format!("/v1/apps/acme/users/{id}"),
        Some(&app.root_key),
        json!({"role": "manager"}),
    )
    .await;
    let perms = app.get("/acme/v1/me/permissions", Some(&token)).await;
    assert_eq!(
        perms.body["role"], "manager",
        "the live role, not the token's"
    );
    assert!(names(&perms.body["permissions"]).contains(&"role.manage".to_owned()));
    // And so does Heimdall's own guard.
    assert_eq!(app.get("/acme/v1/users", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn roles_over_graphql() {
    let app = acme().await;
    let root = Some(app.root_key.as_str());
    let sync = "mutation($input: SyncRolesInput!, $dry: Boolean) { syncRoles(app: \"acme\", input: $input, dryRun: $dry) { dryRun created deleted unchanged updated { name added removed } } }";
    let input = json!({"roles": [{"name": "editor", "permissions": ["post.write"]}]});
    let resp = app
        .graphql(root, sync, json!({"input": input, "dry": true}))
        .await;
    assert_eq!(
        resp.body["data"]["syncRoles"]["created"],
        json!(["editor"]),
        "{}",
        resp.text
    );
    assert_eq!(resp.body["data"]["syncRoles"]["dryRun"], true);
    let resp = app.graphql(root, sync, json!({"input": input})).await;
    assert_eq!(resp.body["data"]["syncRoles"]["dryRun"], false);
    let resp = app.graphql(root, sync, json!({"input": input})).await;
    assert_eq!(
        resp.body["data"]["syncRoles"]["unchanged"],
        json!(["editor"])
    );

    app.post(
        "/v1/apps/acme/users",
        root,
        json!({"email": "ed@example.com", "role": "editor"}),
    )
    .await;
    let resp = app
        .graphql(
            root,
            "{ roles(app: \"acme\") { name isSystem permissions users { email } } }",
            json!({}),
        )
        .await;
    let roles = resp.body["data"]["roles"].as_array().unwrap();
    let editor = roles.iter().find(|r| r["name"] == "editor").unwrap();
    assert_eq!(
        editor["users"][0]["email"], "ed@example.com",
        "{}",
        resp.text
    );
    assert_eq!(roles.len(), 5);

    let resp = app
        .graphql(root, "mutation { createRole(app: \"acme\", input: {name: \"ops\", permissions: [\"deploy:*\"]}) { name permissions } }", json!({}))
        .await;
    assert_eq!(
        resp.body["data"]["createRole"]["permissions"],
        json!(["deploy:*"])
    );
    let resp = app
        .graphql(root, "mutation { updateRole(app: \"acme\", name: \"ops\", input: {displayName: \"Ops\"}) { displayName } }", json!({}))
        .await;
    assert_eq!(resp.body["data"]["updateRole"]["displayName"], "Ops");
    let resp = app
        .graphql(
            root,
            "mutation { deleteRole(app: \"acme\", name: \"editor\") }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"], "CONFLICT",
        "{}",
        resp.text
    );
    assert_eq!(resp.body["errors"][0]["extensions"]["users"], 1);
    let resp = app
        .graphql(
            root,
            "mutation { deleteRole(app: \"acme\", name: \"editor\", reassignTo: \"member\") }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["deleteRole"], true);

    // An end user without role.manage is refused, with the missing permission.
    let token = app.user_token("acme", "m@example.com", "member").await;
    let resp = app
        .graphql(Some(&token), "{ roles { name } }", json!({}))
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        resp.body["errors"][0]["extensions"]["missing"],
        json!(["role.assign"])
    );
}
