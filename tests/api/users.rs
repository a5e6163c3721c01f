//! End users over the admin lane and GraphQL.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const PW: &str = "correct horse battery";

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    let roles = json!({"roles": [
        {"name": "editor", "permissions": ["post.write"]},
        {"name": "viewer", "permissions": ["post.read"]},
    ]});
    assert_eq!(
        app.put("/v1/apps/acme/roles", Some(&pak), roles)
            .await
            .status,
        200
    );
    (app, pak)
}

async fn create_user(app: &TestApp, pak: &str, body: Value) -> Value {
    let resp = app.post("/v1/apps/acme/users", Some(pak), body).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.body["data"].clone()
}

#[tokio::test]
async fn create_find_update_delete_users() {
    let (app, pak) = setup().await;
    let user = create_user(&app, &pak, json!({"email": "Carol@Example.com", "password": PW, "display_name": "Carol", "role": "editor"})).await;
    assert_eq!(user["email"], "carol@example.com");
    assert_eq!(user["role"], "editor");
    let id = user["id"].as_str().unwrap().to_owned();
    create_user(&app, &pak, json!({"email": "dave@example.com"})).await;
    create_user(
        &app,
        &pak,
        json!({"email": "erin@example.com", "role": "editor"}),
    )
    .await;

    let all = app.get("/v1/apps/acme/users", Some(&pak)).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 3);
    let editors = app.get("/v1/apps/acme/users?role=editor", Some(&pak)).await;
    assert_eq!(editors.body["data"].as_array().unwrap().len(), 2);
    let by_email = app
        .get("/v1/apps/acme/users?email=CAROL%40example.com", Some(&pak))
        .await;
    assert_eq!(by_email.body["data"][0]["id"], id.as_str());
    let page = app.get("/v1/apps/acme/users?limit=2", Some(&pak)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/apps/acme/users?limit=2&cursor={cursor}"),
            Some(&pak),
        )
        .await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 1);
    app.get("/v1/apps/acme/users?status=zombie", Some(&pak))
        .await
        .error(400, "invalid_request");

    let got = app
        .get(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
        .await;
    assert_eq!(got.body["data"]["display_name"], "Carol");

    // The user signs in with the password the admin set.
    assert_eq!(
        app.signin("acme", "carol@example.com", PW).await.status,
        200
    );
    // A user without a password cannot sign in with any.
    assert_eq!(app.signin("acme", "dave@example.com", "").await.status, 401);

    let patched = app
        .patch(
            &format!("/v1/apps/acme/users/{id}"),
            Some(&pak),
            json!({"role": "admin", "display_name": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["data"]["role"], "admin");
    assert!(patched.body["data"]["display_name"].is_null());
    let assigned = app.audit("role.assigned").await;
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].metadata["role"], "admin");
    assert_eq!(assigned[0].target_id.as_deref(), Some(id.as_str()));

    assert_eq!(
        app.delete(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
            .await
            .status,
        204
    );
    app.get(&format!("/v1/apps/acme/users/{id}"), Some(&pak))
        .await
        .error(404, "not_found");
    assert_eq!(app.audit("user.deleted").await.len(), 1);
    assert_eq!(app.audit("user.created").await.len(), 3);
}

#[tokio::test]
async fn changing_an_email_resets_verification() {
    let (app, pak) = setup().await;
    let user = create_user(
        &app,
        &pak,
        json!({"email": "f@example.com", "email_verified": true}),
    )
    .await;
    assert_eq!(user["email_verified"], true);
    let id = user["id"].as_str().unwrap();
    let resp = app
        .patch(
            &format!("/v1/apps/acme/users/{id}"),
            Some(&pak),
            json!({"email": "F2@example.com"}),
        )
        .await;
    assert_eq!(resp.body["data"]["email"], "f2@example.com");
    assert_eq!(resp.body["data"]["email_verified"], false);
    create_user(&app, &pak, json!({"email": "g@example.com"})).await;
    app.patch(
        &format!("/v1/apps/acme/users/{id}"),
        Some(&pak),
        json!({"email": "g@example.com"}),
    )
    .await
    .error(409, "conflict");
}

#[tokio::test]
async fn admin_input_is_validated() {
    let (app, pak) = setup().await;
    create_user(&app, &pak, json!({"email": "h@example.com"})).await;
    app.post(
        "/v1/apps/acme/users",
        Some(&pak),
        json!({"email": "H@example.com"}),
    )
    .await
    .error(409, "conflict");
    for (body, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"email": "x@example.com\r\n"}), "email"),
        (json!({"email": "x\u{0}y@example.com"}), "email"),
        (
            json!({"email": "x@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "x@example.com", "role": "Not A Role"}),
            "role",
        ),
        (
            json!({"email": "x@example.com", "display_name": "bad\u{0}name"}),
            "display_name",
        ),
    ] {
        let resp = app
            .post("/v1/apps/acme/users", Some(&pak), body.clone())
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"][field].is_string(),
            "{body}: {}",
            resp.text
        );
    }
    app.get("/v1/apps/acme/users/not-a-uuid", Some(&pak))
        .await
        .error(404, "not_found");
    app.get(
        &format!("/v1/apps/acme/users/{}", uuid::Uuid::now_v7()),
        Some(&pak),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn users_are_isolated_between_apps() {
    let (app, pak) = setup().await;
    app.create_app("globex").await;
    let globex_pak = app.create_pak("globex").await;
    let user = create_user(
        &app,
        &pak,
        json!({"email": "i@example.com", "password": PW}),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    app.get(&format!("/v1/apps/acme/users/{id}"), Some(&globex_pak))
        .await
        .error(404, "not_found");
    app.get(&format!("/v1/apps/globex/users/{id}"), Some(&globex_pak))
        .await
        .error(404, "not_found");
    app.delete(&format!("/v1/apps/globex/users/{id}"), Some(&globex_pak))
        .await
        .error(404, "not_found");
    assert!(
        app.get("/v1/apps/globex/users", Some(&globex_pak))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // An end user of acme cannot use the admin lane.
    let token = app.signin("acme", "i@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/apps/acme/users", Some(&token))
        .await
        .error(403, "forbidden");
    app.get("/v1/apps/globex/users", Some(&token))
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn deactivation_revokes_sessions_immediately() {
    let (app, pak) = setup().await;
    let user = create_user(
        &app,
        &pak,
        json!({"email": "j@example.com", "password": PW}),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    let signin = app.signin("acme", "j@example.com", PW).await.body;
    let at = signin["access_token"].as_str().unwrap();
    assert_eq!(app.get("/acme/v1/me", Some(at)).await.status, 200);
    let sessions = app
        .get(&format!("/v1/apps/acme/users/{id}/sessions"), Some(&pak))
        .await;
    assert_eq!(sessions.body["data"].as_array().unwrap().len(), 1);

    let resp = app
        .post(
            &format!("/v1/apps/acme/users/{id}/deactivate"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["status"], "deactivated", "{}", resp.text);
    app.get("/acme/v1/me", Some(at))
        .await
        .error(401, "unauthenticated");
    app.post(
        "/acme/v1/auth/refresh",
        None,
        json!({"refresh_token": signin["refresh_token"]}),
    )
    .await
    .error(401, "unauthenticated");
    app.signin("acme", "j@example.com", PW)
        .await
        .error(403, "account_deactivated");
    assert!(
        app.get(&format!("/v1/apps/acme/users/{id}/sessions"), Some(&pak))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.audit("user.deactivated").await.len(), 1);
    assert_eq!(
        app.get("/v1/apps/acme/users?status=deactivated", Some(&pak))
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let resp = app
        .post(
            &format!("/v1/apps/acme/users/{id}/reactivate"),
            Some(&pak),
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["status"], "active");
    assert_eq!(app.signin("acme", "j@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn admins_revoke_every_session_of_a_user() {
    let (app, pak) = setup().await;
    let user = create_user(
        &app,
        &pak,
        json!({"email": "k@example.com", "password": PW}),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    let a = app.signin("acme", "k@example.com", PW).await.body;
    let b = app.signin("acme", "k@example.com", PW).await.body;
    let resp = app
        .delete(&format!("/v1/apps/acme/users/{id}/sessions"), Some(&pak))
        .await;
    assert_eq!(resp.body["revoked"], 2, "{}", resp.text);
    for tokens in [&a, &b] {
        app.get(
            "/acme/v1/me",
            Some(tokens["access_token"].as_str().unwrap()),
        )
        .await
        .error(401, "unauthenticated");
    }
    // Setting a password as an admin also ends every session.
    let c = app.signin("acme", "k@example.com", PW).await.body;
    app.patch(
        &format!("/v1/apps/acme/users/{id}"),
        Some(&pak),
        json!({"password": "an admin-set password"}),
    )
    .await;
    app.get("/acme/v1/me", Some(c["access_token"].as_str().unwrap()))
        .await
        .error(401, "unauthenticated");
}

#[tokio::test]
async fn admins_revoke_one_session_of_a_user() {
    let (app, pak) = setup().await;
    let user = create_user(
        &app,
        &pak,
        json!({"email": "one@example.com", "password": PW}),
    )
    .await;
    let id = user["id"].as_str().unwrap().to_owned();
    let a = app.signin("acme", "one@example.com", PW).await.body;
    let b = app.signin("acme", "one@example.com", PW).await.body;
    let token = |t: &Value| t["access_token"].as_str().unwrap().to_owned();
    let listed = app
        .get(&format!("/v1/apps/acme/users/{id}/sessions"), Some(&pak))
        .await;
    let ids: Vec<String> = listed.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", listed.text))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // Newest first: the first listed is b's.
    let resp = app
        .delete(
            &format!("/v1/apps/acme/users/{id}/sessions/{}", ids[0]),
            Some(&pak),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    app.get("/acme/v1/me", Some(&token(&b)))
        .await
        .error(401, "unauthenticated");
    assert_eq!(app.get("/acme/v1/me", Some(&token(&a))).await.status, 200);
    // Again: already revoked is fine; a session of someone else or no session is 404.
    let again = app
        .delete(
            &format!("/v1/apps/acme/users/{id}/sessions/{}", ids[0]),
            Some(&pak),
        )
        .await;
    assert_eq!(again.status, 204);
    let other = create_user(&app, &pak, json!({"email": "two@example.com"})).await;
    app.delete(
        &format!(
            "/v1/apps/acme/users/{}/sessions/{}",
            other["id"].as_str().unwrap(),
            ids[1]
        ),
        Some(&pak),
    )
    .await
    .error(404, "not_found");
    app.delete(
        &format!("/v1/apps/acme/users/{id}/sessions/nope"),
        Some(&pak),
    )
    .await
    .error(404, "not_found");
    // A plain member cannot; GraphQL revokes the other one.
    app.delete(
        &format!("/acme/v1/users/{id}/sessions/{}", ids[1]),
        Some(&token(&a)),
    )
    .await
    .error(403, "forbidden");
    let resp = app
        .graphql(
            Some(&pak),
            "mutation($u: ID!, $s: ID!) { revokeUserSession(app: \"acme\", userId: $u, id: $s) }",
            json!({ "u": id, "s": ids[1] }),
        )
        .await;
    assert_eq!(
        resp.body["data"]["revokeUserSession"], true,
        "{}",
        resp.text
    );
    app.get("/acme/v1/me", Some(&token(&a)))
        .await
        .error(401, "unauthenticated");
    let revoked = app.audit("session.revoked").await;
    assert_eq!(revoked.len(), 2);
}

#[tokio::test]
async fn users_over_graphql() {
    let (app, pak) = setup().await;
    let q = |query: &'static str| query;
    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($input: CreateUserInput!) { createUser(input: $input) { id email role { name } emailVerified } }"),
            json!({"input": {"email": "L@example.com", "password": PW, "role": "editor"}}),
        )
        .await;
    let created = &resp.body["data"]["createUser"];
    assert_eq!(created["email"], "l@example.com", "{}", resp.text);
    let id = created["id"].as_str().unwrap().to_owned();
    app.graphql(
        Some(&pak),
        q("mutation { createUser(input: {email: \"m@example.com\"}) { id } }"),
        json!({}),
    )
    .await;

    let resp = app
        .graphql(
            Some(&pak),
            q("{ users(filter: {role: \"editor\"}) { edges { node { email } } } }"),
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&app.root_key),
            q("query($id: ID!) { user(app: \"acme\", id: $id) { email } }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["user"]["email"], "l@example.com");

    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($id: ID!) { updateUser(id: $id, input: {displayName: \"Lena\", role: \"viewer\"}) { displayName role { name } } }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["updateUser"]["role"]["name"], "viewer",
        "{}",
        resp.text
    );

    // The user's own family.
    let at = app.signin("acme", "l@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .graphql(
            Some(&at),
            q("{ me { email displayName sessions { current } } mySessions { id current } }"),
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["me"]["displayName"], "Lena",
        "{}",
        resp.text
    );
    assert_eq!(resp.body["data"]["mySessions"][0]["current"], true);
    let resp = app
        .graphql(
            Some(&at),
            q("mutation { updateMe(input: {displayName: \"L.\"}) { displayName } }"),
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["updateMe"]["displayName"], "L.");
    let resp = app
        .graphql(
            Some(&at),
            q("{ users { edges { node { id } } } }"),
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&at),
            q("mutation { changePassword(currentPassword: \"wrong one here\", newPassword: \"whatever long\") }"),
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&at),
            q("mutation($pw: String!) { changePassword(currentPassword: $pw, newPassword: \"a new long password\") }"),
            json!({"pw": PW}),
        )
        .await;
    assert_eq!(resp.body["data"]["changePassword"], true, "{}", resp.text);
    let resp = app.graphql(None, q("{ me { id } }"), json!({})).await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let resp = app.graphql(Some(&pak), q("{ me { id } }"), json!({})).await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let sid = app
        .graphql(Some(&at), q("{ mySessions { id } }"), json!({}))
        .await
        .body["data"]["mySessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .graphql(
            Some(&at),
            q("mutation($id: ID!) { revokeSession(id: $id) }"),
            json!({"id": sid}),
        )
        .await;
    assert_eq!(resp.body["data"]["revokeSession"], true);
    assert_eq!(
        app.graphql(Some(&at), q("{ me { id } }"), json!({}))
            .await
            .status,
        401
    );

    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($id: ID!) { deactivateUser(id: $id) { status } }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["deactivateUser"]["status"], "deactivated");
    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($id: ID!) { reactivateUser(id: $id) { status } }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["reactivateUser"]["status"], "active");
    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($id: ID!) { revokeUserSessions(id: $id) }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["revokeUserSessions"], 0);
    let resp = app
        .graphql(
            Some(&pak),
            q("mutation($id: ID!) { deleteUser(id: $id) }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["data"]["deleteUser"], true);
    let resp = app
        .graphql(
            Some(&pak),
            q("query($id: ID!) { user(id: $id) { id } }"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}
