//! Bringing users in (docs/src/importing-users-and-scim.md): password hashes of
//! other systems, custom attributes and the claims they map to, bulk import and
//! export as JSON Lines.

use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const PW: &str = "imported password 1";

/// Hashes of `PW` made by other implementations (Python's hashlib), in the forms
/// Django, passlib and PHC tools export.
const FOREIGN: &[(&str, &str)] = &[
    (
        "django pbkdf2_sha256",
        "pbkdf2_sha256$1000$Qx3aZ9RuT1bLk2Pq$O0f8l8THQSC3xoWywSiQnYwZkTaWI28rxb0rULj+iZM=",
    ),
    (
        "phc pbkdf2-sha512",
        "$pbkdf2-sha512$i=2000,l=64$c2FsdHlzYWx0eXNhbHQxNg$BXT32FYRPdAtelVlq1ldPg3tMf536nj1LzyB08xYA7HgdSsf7QPMUBGmFVZvG0vt69Tsnu1/ZUN+SkhmLTd77g",
    ),
    (
        "passlib pbkdf2-sha256",
        "$pbkdf2-sha256$1500$AAECAwQFBgcICQoLDA0ODw$vvMPsERAIoiGEMgBQUZ7FFLS59eifsv0A6xrAxAI2F8",
    ),
    (
        "phc scrypt",
        "$scrypt$ln=10,r=8,p=1$c2NyeXB0c2FsdDEyMzQ1Ng$takroV1WtZ9zxc6CTirOnNF5fdAVyUXkmfLcXCm+ZRw",
    ),
    (
        "django scrypt",
        "scrypt$2048$djangosalt$8$1$9cE9i0rSGmF2Dw9uvtOFQ70/6VxRrfZJ7gWGUuYQmh0KBUKmMTCmrT2XXHrbTG5SLmjBCl4tJ5XLZW220DgSNw==",
    ),
];

async fn setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    (app, pak)
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::user::Entity::find()
        .filter(entity::user::Column::Email.eq(email))
        .one(&*app.state.db)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap()
}

fn argon2_hash(password: &str, m: u32, t: u32) -> String {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version, password_hash::SaltString};
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(m, t, 1, None).unwrap(),
    )
    .hash_password(password.as_bytes(), &salt)
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn imported_hashes_sign_in_and_are_replaced_by_argon2id() {
    let (app, pak) = setup().await;
    let mut cases: Vec<(String, String, String)> = FOREIGN
        .iter()
        .map(|(name, hash)| ((*name).to_owned(), (*hash).to_owned(), PW.to_owned()))
        .collect();
    // OpenWall's crypt_blowfish test vector, and bcrypt/argon2 made by their crates.
    cases.push((
        "bcrypt 2a vector".into(),
        "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW".into(),
        "U*U".into(),
    ));
    cases.push(("bcrypt 2b".into(), bcrypt::hash(PW, 4).unwrap(), PW.into()));
    cases.push((
        "bcrypt 2y".into(),
        bcrypt::hash(PW, 4).unwrap().replacen("$2b$", "$2y$", 1),
        PW.into(),
    ));
    cases.push(("argon2id".into(), argon2_hash(PW, 1024, 1), PW.into()));
    for (n, (name, hash, password)) in cases.iter().enumerate() {
        let email = format!("user{n}@example.com");
        let resp = app
            .post(
                "/v1/apps/acme/users",
                Some(&pak),
                json!({"email": email, "password_hash": hash}),
            )
            .await;
        assert_eq!(resp.status, 201, "{name}: {}", resp.text);
        // Every one of these is below OWASP's parameters: reported, not refused.
        assert!(
            resp.body["warnings"]
                .as_array()
                .is_some_and(|w| !w.is_empty()),
            "{name}: {}",
            resp.text
        );
        assert!(!resp.text.contains(hash.as_str()), "{name}: hash echoed");
        let wrong = app.signin("acme", &email, "not the password").await;
        assert_eq!(wrong.status, 401, "{name}");
        assert_eq!(&stored_hash(&app, &email).await, hash, "{name}");
        let ok = app.signin("acme", &email, password).await;
        assert_eq!(ok.status, 200, "{name}: {}", ok.text);
        let rehashed = stored_hash(&app, &email).await;
        assert!(rehashed.starts_with("$argon2id$"), "{name}: {rehashed}");
        assert_ne!(&rehashed, hash);
        let again = app.signin("acme", &email, password).await;
        assert_eq!(again.status, 200, "{name}: after rehash");
    }
}

#[tokio::test]
async fn unknown_or_unsafe_hashes_are_400_naming_the_field() {
    let (app, pak) = setup().await;
    for hash in [
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "md5$salt$abc",
        "$1$saltsalt$abcdefghijklmnopqrstuv",
        "$2b$04$tooshort",
        "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$scrypt$ln=40,r=8,p=1$c2FsdA$aGFzaA",
        "pbkdf2_sha256$notanumber$salt$aGFzaA==",
        "",
    ] {
        let resp = app
            .post(
                "/v1/apps/acme/users",
                Some(&pak),
                json!({"email": "x@example.com", "password_hash": hash}),
            )
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"]["password_hash"].is_string(),
            "{hash}: {}",
            resp.text
        );
    }
    let both = app
        .post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": "x@example.com", "password": "long enough pw", "password_hash": FOREIGN[0].1}),
        )
        .await;
    both.error(400, "invalid_request");
    // A strong hash has no warnings.
    let strong = app
        .post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": "strong@example.com", "password_hash": argon2_hash(PW, 19_456, 2)}),
        )
        .await;
    assert_eq!(strong.status, 201, "{}", strong.text);
    assert!(strong.body.get("warnings").is_none(), "{}", strong.text);
}

#[tokio::test]
async fn graphql_creates_users_with_hashes_and_metadata() {
    let (app, pak) = setup().await;
    let resp = app
        .graphql(
            Some(&pak),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id email userMetadata appMetadata } }",
            json!({"input": {
                "email": "gql@example.com",
                "passwordHash": FOREIGN[0].1,
                "userMetadata": {"theme": "dark"},
                "appMetadata": {"plan": "pro"},
            }}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let user = &resp.body["data"]["createUser"];
    assert_eq!(user["userMetadata"], json!({"theme": "dark"}));
    assert_eq!(user["appMetadata"], json!({"plan": "pro"}));
    assert_eq!(app.signin("acme", "gql@example.com", PW).await.status, 200);
    let bad = app
        .graphql(
            Some(&pak),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
            json!({"input": {"email": "bad@example.com", "passwordHash": "md5$x$y"}}),
        )
        .await;
    assert_eq!(
        bad.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{}",
        bad.text
    );
    let list = app
        .graphql(
            Some(&pak),
            r#"{ users(filter: {metadata: [{object: "app_metadata", key: "plan", value: "pro"}]}) { edges { node { email } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        list.body["data"]["users"]["edges"],
        json!([{"node": {"email": "gql@example.com"}}]),
        "{}",
        list.text
    );
}

#[tokio::test]
async fn metadata_is_limited_merged_filtered_and_self_editable() {
    let (app, pak) = setup().await;
    let big = "x".repeat(17 * 1024);
    let too_big = app
        .post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": "a@example.com", "app_metadata": {"blob": big}}),
        )
        .await;
    let error = too_big.error(400, "invalid_request");
    assert!(error["details"]["fields"]["app_metadata"].is_string());
    let not_object = app
        .post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": "a@example.com", "user_metadata": [1, 2]}),
        )
        .await;
    not_object.error(400, "invalid_request");

    for (email, plan, seats) in [
        ("a@example.com", "pro", 5),
        ("b@example.com", "free", 1),
        ("c@example.com", "pro", 1),
    ] {
        let resp = app
            .post(
                "/v1/apps/acme/users",
                Some(&pak),
                json!({"email": email, "password": "correct horse battery",
                       "app_metadata": {"plan": plan, "seats": seats},
                       "user_metadata": {"theme": "light"}}),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
    }
    let emails = |resp: &crate::helpers::Resp| -> Vec<String> {
        resp.body["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", resp.text))
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let pro = app
        .get("/v1/apps/acme/users?app_metadata.plan=pro", Some(&pak))
        .await;
    assert_eq!(emails(&pro), ["a@example.com", "c@example.com"]);
    let pro_one = app
        .get(
            "/v1/apps/acme/users?app_metadata.plan=pro&app_metadata.seats=1",
            Some(&pak),
        )
        .await;
    assert_eq!(emails(&pro_one), ["c@example.com"]);
    let quoted = app
        .get("/v1/apps/acme/users?app_metadata.seats=%225%22", Some(&pak))
        .await;
    assert!(emails(&quoted).is_empty(), "the string \"5\" is not 5");
    let bad_key = app
        .get("/v1/apps/acme/users?app_metadata.a'b=1", Some(&pak))
        .await;
    bad_key.error(400, "invalid_request");

    // The user edits user_metadata (merged), never app_metadata.
    let signin = app
        .signin("acme", "a@example.com", "correct horse battery")
        .await;
    let token = signin.body["access_token"].as_str().unwrap().to_owned();
    let me = app
        .patch(
            "/acme/v1/me",
            Some(&token),
            json!({"user_metadata": {"theme": null, "lang": "de"}}),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["user_metadata"], json!({"lang": "de"}));
    assert_eq!(
        me.body["data"]["app_metadata"],
        json!({"plan": "pro", "seats": 5})
    );
    let forbidden = app
        .patch(
            "/acme/v1/me",
            Some(&token),
            json!({"app_metadata": {"plan": "enterprise"}}),
        )
        .await;
    forbidden.error(400, "invalid_request");
    let gql = app
        .graphql(
            Some(&token),
            r#"mutation { updateMe(input: {userMetadata: {lang: "fr"}}) { userMetadata appMetadata } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        gql.body["data"]["updateMe"]["userMetadata"],
        json!({"lang": "fr"}),
        "{}",
        gql.text
    );
    let audit = app.audit("user.updated").await;
    assert!(
        audit
            .iter()
            .any(|e| e.metadata["changed"] == json!(["user_metadata"]))
    );
}

async fn jwks(app: &TestApp) -> JwkSet {
    let resp = app.get("/acme/v1/.well-known/jwks.json", None).await;
    serde_json::from_value(resp.body).unwrap()
}

#[tokio::test]
async fn token_claims_map_metadata_without_overriding_registered_claims() {
    let (app, pak) = setup().await;
    let refused = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"settings": {"token_claims": {"sub": "app_metadata.plan"}}}),
        )
        .await;
    let error = refused.error(400, "invalid_request");
    assert!(
        error["details"]["fields"]["settings.token_claims.sub"].is_string(),
        "{}",
        refused.text
    );
    let bad_source = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"settings": {"token_claims": {"plan": "email"}}}),
        )
        .await;
    bad_source.error(400, "invalid_request");
    let ok = app
        .patch(
            "/v1/apps/acme",
            Some(&pak),
            json!({"settings": {"token_claims": {
                "plan": "app_metadata.plan",
                "tier": "app_metadata.billing.tier",
                "absent": "app_metadata.nothing",
                "theme": "user_metadata.theme",
            }}}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let created = app
        .post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": "claims@example.com", "password": "correct horse battery",
                   "app_metadata": {"plan": "pro", "billing": {"tier": 2}, "sub": "evil"},
                   "user_metadata": {"theme": "dark"}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user_id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let signin = app
        .signin("acme", "claims@example.com", "correct horse battery")
        .await;
    let token = signin.body["access_token"].as_str().unwrap();
    let header = decode_header(token).unwrap();
    let set = jwks(&app).await;
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[app.issuer("acme")]);
    validation.validate_aud = false;
    let claims: Value = decode(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["plan"], "pro");
    assert_eq!(claims["tier"], 2);
    assert_eq!(claims["theme"], "dark");
    assert!(claims.get("absent").is_none());
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["type"], "end_user");
}

#[tokio::test]
async fn bulk_import_reports_per_line_and_is_idempotent_by_email() {
    let (app, pak) = setup().await;
    app.post(
        "/v1/apps/acme/tenants",
        Some(&pak),
        json!({"slug": "globex", "name": "Globex"}),
    )
    .await;
    let lines = [
        json!({"email": "one@example.com", "password_hash": FOREIGN[0].1, "display_name": "One",
               "email_verified": true, "app_metadata": {"plan": "pro"},
               "created_at": "2020-01-02T03:04:05Z",
               "tenants": [{"slug": "globex", "role": "admin"}]})
        .to_string(),
        json!({"email": "two@example.com", "password": "correct horse battery"}).to_string(),
        "{not json".to_owned(),
        json!({"email": "not an email"}).to_string(),
        String::new(),
        json!({"email": "three@example.com", "password_hash": "md5$x$y"}).to_string(),
        json!({"email": "four@example.com", "role": "no-such-role"}).to_string(),
    ];
    let body = lines.join("\n");
    let dry = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import?dry_run=true",
            Some(&pak),
            Some("application/x-ndjson"),
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body["data"]["dry_run"], true);
    assert_eq!(dry.body["data"]["created"], 2, "{}", dry.text);
    let users = app.get("/v1/apps/acme/users", Some(&pak)).await;
    assert_eq!(users.body["data"].as_array().unwrap().len(), 0, "dry run");

    let report = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import",
            Some(&pak),
            Some("application/x-ndjson"),
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    let data = &report.body["data"];
    assert_eq!(data["created"], 2, "{}", report.text);
    assert_eq!(data["updated"], 0);
    assert_eq!(data["skipped"], 0);
    let errors = data["errors"].as_array().unwrap();
    let lines_with_errors: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        lines_with_errors,
        [(3, ""), (4, "email"), (6, "password_hash"), (7, "role")],
        "{}",
        report.text
    );
    assert!(
        data["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["line"] == 1)
    );
    assert_eq!(app.signin("acme", "one@example.com", PW).await.status, 200);
    let one = app
        .get("/v1/apps/acme/users?email=one@example.com", Some(&pak))
        .await;
    let one = &one.body["data"][0];
    assert_eq!(one["created_at"], "2020-01-02T03:04:05Z");
    assert_eq!(one["email_verified"], true);
    assert_eq!(one["app_metadata"], json!({"plan": "pro"}));
    let members = app
        .get(
            &format!(
                "/v1/apps/acme/users?tenant_id={}",
                app.get("/v1/apps/acme/tenants", Some(&pak)).await.body["data"][0]["id"]
                    .as_str()
                    .unwrap()
            ),
            Some(&pak),
        )
        .await;
    assert_eq!(members.body["data"].as_array().unwrap().len(), 1);
    let created = app.audit("user.created").await;
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|e| e.metadata["source"] == "import"));

    // Again: skipped by default, updated on request, refused with fail.
    let again = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import",
            Some(&pak),
            Some("application/x-ndjson"),
            lines[..2].join("\n").into_bytes(),
        )
        .await;
    assert_eq!(again.body["data"]["skipped"], 2, "{}", again.text);
    let update_line = json!({"email": "two@example.com", "display_name": "Two", "app_metadata": {"plan": "team"}});
    let updated = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import?on_conflict=update",
            Some(&pak),
            Some("application/x-ndjson"),
            update_line.to_string().into_bytes(),
        )
        .await;
    assert_eq!(updated.body["data"]["updated"], 1, "{}", updated.text);
    let two = app
        .get("/v1/apps/acme/users?app_metadata.plan=team", Some(&pak))
        .await;
    assert_eq!(two.body["data"][0]["display_name"], "Two");
    let failed = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import?on_conflict=fail",
            Some(&pak),
            Some("application/x-ndjson"),
            update_line.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        failed.body["data"]["errors"][0]["field"], "email",
        "{}",
        failed.text
    );
    let bad_mode = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import?on_conflict=merge",
            Some(&pak),
            Some("application/x-ndjson"),
            Vec::new(),
        )
        .await;
    bad_mode.error(400, "invalid_request");
    // End users and other apps' keys cannot import.
    app.create_app("other").await;
    let other = app.create_pak("other").await;
    let cross = app
        .send_raw(
            Method::POST,
            "/v1/apps/acme/users/import",
            Some(&other),
            Some("application/x-ndjson"),
            Vec::new(),
        )
        .await;
    cross.error(404, "not_found");
}

#[tokio::test]
async fn import_streams_progress_lines_when_asked() {
    let (app, pak) = setup().await;
    let body: String = (0..2500)
        .map(|n| {
            json!({"email": format!("bulk{n}@example.com"), "password_hash": FOREIGN[0].1})
                .to_string()
                + "\n"
        })
        .collect();
    let resp = app
        .client
        .post(app.url("/v1/apps/acme/users/import"))
        .bearer_auth(&pak)
        .header("content-type", "application/x-ndjson")
        .header("accept", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-ndjson")
    );
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let progress: Vec<&Value> = lines.iter().filter(|l| l["type"] == "progress").collect();
    assert!(progress.len() >= 2, "{text}");
    assert!(
        progress
            .windows(2)
            .all(|w| w[0]["processed"].as_u64() < w[1]["processed"].as_u64())
    );
    let report = lines.last().unwrap();
    assert_eq!(report["type"], "report");
    assert_eq!(report["created"], 2500, "{report}");
}

#[tokio::test]
async fn export_streams_json_lines_and_hashes_only_for_root() {
    let (app, pak) = setup().await;
    for n in 0..3 {
        app.post(
            "/v1/apps/acme/users",
            Some(&pak),
            json!({"email": format!("e{n}@example.com"), "password_hash": FOREIGN[0].1,
                   "app_metadata": {"n": n}}),
        )
        .await;
    }
    let export = |query: &'static str, key: String| {
        let app = &app;
        async move {
            let resp = app
                .client
                .get(app.url(&format!("/v1/apps/acme/users/export{query}")))
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, ct, resp.text().await.unwrap())
        }
    };
    let (status, ct, text) = export("", pak.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert!(ct.unwrap().starts_with("application/x-ndjson"));
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["app_metadata"], json!({"n": 1}));
    assert!(rows.iter().all(|r| r.get("password_hash").is_none()));
    assert!(!text.contains("pbkdf2"));
    // Hashes need the root key.
    let (status, _, text) = export("?include_password_hashes=true", pak.clone()).await;
    assert_eq!(status, 403, "{text}");
    let (status, _, text) = export("?include_password_hashes=true", app.root_key.clone()).await;
    assert_eq!(status, 200, "{text}");
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["password_hash"], FOREIGN[0].1);
    let audit = app.audit("user.exported").await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].metadata["include_password_hashes"], true);
    assert!(!audit[1].metadata.to_string().contains("pbkdf2"));

    // An export re-imports into another app as is.
    app.create_app("copy").await;
    let copy = app.create_pak("copy").await;
    let report = app
        .send_raw(
            Method::POST,
            "/v1/apps/copy/users/import",
            Some(&copy),
            Some("application/x-ndjson"),
            text.into_bytes(),
        )
        .await;
    assert_eq!(report.body["data"]["created"], 3, "{}", report.text);
    assert_eq!(app.signin("copy", "e2@example.com", PW).await.status, 200);
}
