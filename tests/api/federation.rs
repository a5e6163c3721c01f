//! Federated sign-in against fake providers on loopback: Sign in with Apple (native
//! and web), a generic OIDC upstream, provider configuration with sealed secrets,
//! account linking, identities.

use std::collections::HashMap;

use chrono::Duration;
use entity::{federated_identity, identity_provider, user};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    fake_idp::{APPLE_ISSUER, ClientCheck, FakeIdp, FakeKey, Grant, P8},
    helpers::{Resp, TestApp, read, spawn_app, spawn_app_with},
    signing_keys::verify_with_jwks,
};

const TEAM_ID: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const SERVICES_ID: &str = "com.acme.web";
const BUNDLE_ID: &str = "com.acme.ios";
const REDIRECT: &str = "https://app.acme.example/auth/done";
const PW: &str = "correct horse battery";

struct Apple {
    app: TestApp,
    idp: FakeIdp,
    key: FakeKey,
    p8: P8,
}

/// A Heimdall whose Apple endpoints point at a fake Apple, with app `acme`.
async fn apple_setup() -> Apple {
    let p8 = P8::generate();
    let key = FakeKey::rsa("apple-k1");
    let idp = FakeIdp::apple(
        ClientCheck::Apple {
            services_id: SERVICES_ID.into(),
            team_id: TEAM_ID.into(),
            key_id: KEY_ID.into(),
            x: p8.x.clone(),
            y: p8.y.clone(),
        },
        key.clone(),
    )
    .await;
    let (jwks, token, authorize) = (
        idp.url("/jwks"),
        idp.url("/token"),
        idp.url("/auth/authorize"),
    );
    let app = spawn_app_with(move |c| {
        c.apple_jwks_url = jwks;
        c.apple_token_url = token;
        c.apple_authorize_url = authorize;
    })
    .await;
    app.create_app("acme").await;
    Apple { app, idp, key, p8 }
}

impl Apple {
    /// Configures Apple for `acme` (native and web).
    async fn configure(&self) -> Resp {
        let resp = self
            .app
            .put(
                "/v1/apps/acme/providers/apple",
                Some(&self.app.root_key),
                json!({
                    "services_id": SERVICES_ID, "bundle_ids": [BUNDLE_ID], "team_id": TEAM_ID,
                    "key_id": KEY_ID, "private_key": self.p8.pem, "redirect_uri": REDIRECT,
                }),
            )
            .await;
        assert!(resp.status == 201 || resp.status == 200, "{}", resp.text);
        resp
    }

    /// Apple identity-token claims as Apple sends them (string booleans).
    fn claims(&self, sub: &str, email: Option<&str>, verified: bool, aud: &str) -> Value {
        let now = self.app.state.now().timestamp();
        let mut claims = json!({
            "iss": APPLE_ISSUER, "aud": aud, "exp": now + 600, "iat": now, "sub": sub,
            "auth_time": now, "nonce_supported": true,
        });
        if let Some(email) = email {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(if verified { "true" } else { "false" });
            claims["is_private_email"] = json!("false");
        }
        claims
    }

    async fn native(&self, body: Value) -> Resp {
        self.app.post("/acme/v1/auth/apple", None, body).await
    }

    async fn native_token(&self, token: &str) -> Resp {
        self.native(json!({ "identity_token": token })).await
    }
}

fn sha256_hex(text: &str) -> String {
    heimdall::crypto::sha256_hex(text.as_bytes())
}

async fn count_users(app: &TestApp) -> u64 {
    user::Entity::find().count(&*app.state.db).await.unwrap()
}

async fn count_identities(app: &TestApp) -> u64 {
    federated_identity::Entity::find()
        .count(&*app.state.db)
        .await
        .unwrap()
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn fragment_of(location: &str) -> HashMap<String, String> {
    let (_, fragment) = location.split_once('#').unwrap();
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

/// `name=value` of a `Set-Cookie` header.
fn cookie_pair(resp: &Resp) -> String {
    let set = resp.header("set-cookie").expect("a binding cookie");
    set.split(';').next().unwrap().to_owned()
}

async fn post_form(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, &str)],
    cookie: Option<&str>,
    json: bool,
) -> Resp {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(pairs).unwrap());
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if json {
        request = request.header("accept", "application/json");
    }
    read(request.send().await.unwrap()).await
}

async fn get_with(app: &TestApp, path: &str, cookie: Option<&str>, json: bool) -> Resp {
    let mut request = app.client.get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if json {
        request = request.header("accept", "application/json");
    }
    read(request.send().await.unwrap()).await
}

// ------------------------------------------------------------------------------
// Provider configuration
// ------------------------------------------------------------------------------

#[tokio::test]
async fn apple_private_key_is_write_only_and_sealed_at_rest() {
    let apple = apple_setup().await;
    let app = &apple.app;
    let pak = app.create_pak("acme").await;
    let pem_body: String = apple.p8.pem.lines().nth(1).unwrap().to_owned();

    let resp = apple.configure().await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        resp.header("location"),
        Some("/v1/apps/acme/providers/apple")
    );
    let data = &resp.body["data"];
    assert_eq!(data["id"], "apple");
    assert_eq!(data["kind"], "apple");
    assert_eq!(data["services_id"], SERVICES_ID);
    assert_eq!(data["bundle_ids"], json!([BUNDLE_ID]));
    assert_eq!(data["team_id"], TEAM_ID);
    assert_eq!(data["key_id"], KEY_ID);
    assert_eq!(data["has_private_key"], true);
    assert_eq!(
        data["callback_url"],
        app.url("/acme/v1/auth/apple/callback")
    );
    assert!(data.get("private_key").is_none());
    assert!(!resp.text.contains(&pem_body) && !resp.text.contains("PRIVATE KEY"));

    // GET with the app's key: public fields only.
    let got = app.get("/v1/apps/acme/providers/apple", Some(&pak)).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.body["data"]["has_private_key"], true);
    assert!(!got.text.contains(&pem_body) && !got.text.contains("PRIVATE KEY"));
    let listed = app.get("/v1/apps/acme/providers", Some(&pak)).await;
    assert_eq!(listed.body["data"][0]["id"], "apple");
    assert!(!listed.text.contains(&pem_body));

    // Stored sealed (AES-GCM under the master key, bound to the row), not in plaintext.
    let row = identity_provider::Entity::find()
        .one(&*app.state.db)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.secret.clone().unwrap();
    assert!(sealed.starts_with("v1."), "{sealed}");
    assert!(!sealed.contains(&pem_body) && !row.config.to_string().contains(&pem_body));
    let aad = format!("provider:{}:{}", row.app_id, row.id);
    assert_eq!(
        app.state.vault.open(&sealed, &aad).unwrap(),
        apple.p8.pem.as_bytes()
    );
    assert!(app.state.vault.open(&sealed, "provider:other").is_err());

    // A replace without private_key keeps the stored key.
    let replaced = app
        .put(
            "/v1/apps/acme/providers/apple",
            Some(&pak),
            json!({"services_id": SERVICES_ID, "team_id": TEAM_ID, "key_id": KEY_ID,
                   "redirect_uri": REDIRECT}),
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["data"]["has_private_key"], true);
    assert_eq!(replaced.body["data"]["bundle_ids"], json!([]));

    // Audit entries say what changed, never the key.
    let created = app.audit("identity_provider.created").await;
    let updated = app.audit("identity_provider.updated").await;
    assert_eq!((created.len(), updated.len()), (1, 1));
    assert_eq!(created[0].metadata["secret_changed"], true);
    assert_eq!(updated[0].metadata["secret_changed"], false);
    for entry in created.iter().chain(&updated) {
        assert!(!entry.metadata.to_string().contains(&pem_body));
    }

    // Validation: a bad key, bad ids, no audience.
    for (body, field) in [
        (
            json!({"services_id": SERVICES_ID, "team_id": TEAM_ID, "key_id": KEY_ID,
                   "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
            "private_key",
        ),
        (
            json!({"services_id": SERVICES_ID, "team_id": "short", "key_id": KEY_ID}),
            "team_id",
        ),
        (json!({"bundle_ids": ["bad id"]}), "bundle_ids"),
        (json!({"team_id": TEAM_ID}), "services_id"),
        (
            json!({"services_id": SERVICES_ID, "team_id": TEAM_ID, "key_id": KEY_ID,
                   "redirect_uri": "javascript:alert(1)"}),
            "redirect_uri",
        ),
    ] {
        let resp = app
            .put("/v1/apps/acme/providers/apple", Some(&pak), body)
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"].get(field).is_some(),
            "{}",
            resp.text
        );
        assert!(!resp.text.contains("AAAA"));
    }
    // Unknown fields are refused.
    app.put(
        "/v1/apps/acme/providers/apple",
        Some(&pak),
        json!({"services_id": SERVICES_ID, "secret": "x"}),
    )
    .await
    .error(400, "invalid_request");

    // The admin lane takes keys only; other apps do not see it.
    app.create_app("other").await;
    let other_pak = app.create_pak("other").await;
    app.get("/v1/apps/acme/providers/apple", Some(&other_pak))
        .await
        .error(404, "not_found");
    let user_token = app.user_token("acme", "admin@example.com", "owner").await;
    app.get("/v1/apps/acme/providers/apple", Some(&user_token))
        .await
        .error(403, "forbidden");
    app.get("/v1/apps/acme/providers/apple", None)
        .await
        .error(401, "unauthenticated");

    // Delete.
    let deleted = app
        .delete("/v1/apps/acme/providers/apple", Some(&pak))
        .await;
    assert_eq!(deleted.status, 204);
    app.get("/v1/apps/acme/providers/apple", Some(&pak))
        .await
        .error(404, "not_found");
    assert_eq!(app.audit("identity_provider.deleted").await.len(), 1);
    // Signing in with Apple is now impossible.
    apple.native_token("a.b.c").await.error(404, "not_found");
}

#[tokio::test]
async fn oidc_provider_config_hides_the_client_secret_and_requires_https() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let secret = "upstream-client-secret-value";
    let resp = app
        .put(
            "/v1/apps/acme/providers/google",
            Some(&app.root_key),
            json!({"issuer": "https://accounts.google.com", "client_id": "abc.apps",
                   "client_secret": secret, "redirect_uri": REDIRECT,
                   "display_name": "Google"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let data = &resp.body["data"];
    assert_eq!(data["kind"], "oidc");
    assert_eq!(data["has_client_secret"], true);
    assert_eq!(
        data["discovery_url"],
        "https://accounts.google.com/.well-known/openid-configuration"
    );
    assert_eq!(data["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(
        data["callback_url"],
        app.url("/acme/v1/auth/google/callback")
    );
    assert!(!resp.text.contains(secret));
    let got = app
        .get("/v1/apps/acme/providers/google", Some(&app.root_key))
        .await;
    assert!(!got.text.contains(secret));
    let row = identity_provider::Entity::find()
        .one(&*app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.secret.as_deref().unwrap().contains(secret));
    assert!(!row.config.to_string().contains(secret));

    // `null` removes the secret (a public client); scopes always include openid.
    let resp = app
        .put(
            "/v1/apps/acme/providers/google",
            Some(&app.root_key),
            json!({"issuer": "https://accounts.google.com", "client_id": "abc.apps",
                   "client_secret": null, "redirect_uri": REDIRECT, "scopes": ["email"]}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["has_client_secret"], false);
    assert_eq!(resp.body["data"]["scopes"], json!(["openid", "email"]));

    // Upstream URLs must be https; loopback http only when explicitly allowed.
    for (body, field) in [
        (
            json!({"issuer": "http://127.0.0.1:9/", "client_id": "c", "redirect_uri": REDIRECT}),
            "issuer",
        ),
        (
            json!({"discovery_url": "http://idp.example.com/.well-known/openid-configuration",
                   "client_id": "c", "redirect_uri": REDIRECT}),
            "discovery_url",
        ),
        (
            json!({"client_id": "c", "redirect_uri": REDIRECT}),
            "issuer",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": "c",
                   "redirect_uri": "http://app.example.com/cb"}),
            "redirect_uri",
        ),
        (
            json!({"issuer": "https://idp.example.com", "client_id": "c",
                   "redirect_uri": REDIRECT, "scopes": ["bad scope"]}),
            "scopes",
        ),
    ] {
        let resp = app
            .put("/v1/apps/acme/providers/other", Some(&app.root_key), body)
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"].get(field).is_some(),
            "{}",
            resp.text
        );
    }
    // `apple` is not a generic provider; names are slugs.
    app.put(
        "/v1/apps/acme/providers/Bad_Name",
        Some(&app.root_key),
        json!({"issuer": "https://idp.example.com", "client_id": "c", "redirect_uri": REDIRECT}),
    )
    .await
    .error(400, "invalid_request");
    // Starting a sign-in with an unconfigured provider: 404.
    app.get("/acme/v1/auth/nobody/start", None)
        .await
        .error(404, "not_found");
}

#[tokio::test]
async fn providers_over_graphql() {
    let apple = apple_setup().await;
    let app = &apple.app;
    let pak = app.create_pak("acme").await;
    let configure = r#"mutation($input: AppleProviderInput!) {
        configureAppleProvider(input: $input) {
            id kind servicesId bundleIds teamId keyId hasPrivateKey redirectUri callbackUrl
        } }"#;
    let resp = app
        .graphql(
            Some(&pak),
            configure,
            json!({"input": {"servicesId": SERVICES_ID, "bundleIds": [BUNDLE_ID],
                "teamId": TEAM_ID, "keyId": KEY_ID, "privateKey": apple.p8.pem,
                "redirectUri": REDIRECT}}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let provider = &resp.body["data"]["configureAppleProvider"];
    assert_eq!(provider["hasPrivateKey"], true);
    assert_eq!(provider["teamId"], TEAM_ID);
    assert!(!resp.text.contains("PRIVATE KEY"));

    let resp = app
        .graphql(
            Some(&app.root_key),
            r#"mutation { configureOidcProvider(app: "acme", id: "corp", input: {
                issuer: "https://idp.example.com", clientId: "c1", clientSecret: "shh-secret",
                redirectUri: "https://app.acme.example/cb" }) { id kind hasClientSecret scopes } }"#,
            json!({}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    assert_eq!(
        resp.body["data"]["configureOidcProvider"]["hasClientSecret"],
        true
    );
    assert!(!resp.text.contains("shh-secret"));

    let resp = app
        .graphql(
            Some(&pak),
            "{ identityProviders { id kind hasPrivateKey hasClientSecret } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["identityProviders"],
        json!([
            {"id": "apple", "kind": "apple", "hasPrivateKey": true, "hasClientSecret": null},
            {"id": "corp", "kind": "oidc", "hasPrivateKey": null, "hasClientSecret": true},
        ]),
        "{}",
        resp.text
    );
    // Bad input is BAD_USER_INPUT; end users may not configure providers.
    let resp = app
        .graphql(
            Some(&pak),
            configure,
            json!({"input": {"servicesId": SERVICES_ID, "privateKey": "nope"}}),
        )
        .await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let user_token = app.user_token("acme", "boss@example.com", "owner").await;
    let resp = app
        .graphql(Some(&user_token), "{ identityProviders { id } }", json!({}))
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let resp = app
        .graphql(
            Some(&pak),
            r#"mutation { deleteIdentityProvider(id: "corp") }"#,
            json!({}),
        )
        .await;
    assert_eq!(resp.body["data"]["deleteIdentityProvider"], true);
    let resp = app
        .graphql(
            Some(&pak),
            r#"{ identityProvider(id: "corp") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

// ------------------------------------------------------------------------------
// Apple native
// ------------------------------------------------------------------------------

#[tokio::test]
async fn apple_native_creates_the_user_then_signs_the_same_sub_in() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;

    let mut claims = apple.claims(
        "001234.apple.sub",
        Some("Jane@Example.com"),
        true,
        BUNDLE_ID,
    );
    claims["nonce"] = json!(sha256_hex("raw-nonce-1"));
    let resp = apple
        .native(json!({
            "identity_token": apple.key.mint(&claims),
            "nonce": "raw-nonce-1",
            "user": {"name": {"firstName": "Jane", "lastName": "Appleseed"},
                     "email": "jane@example.com"},
        }))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.body["token_type"], "Bearer");
    assert!(
        resp.body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("hm_rt_")
    );
    let user = &resp.body["user"];
    assert_eq!(user["email"], "jane@example.com");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["display_name"], "Jane Appleseed");
    let user_id = user["id"].as_str().unwrap().to_owned();
    let access = resp.body["access_token"].as_str().unwrap().to_owned();
    let verified = verify_with_jwks(app, "acme", &access).await.unwrap();
    assert_eq!(verified["sub"], user_id.as_str());
    assert_eq!(verified["type"], "end_user");

    // The same `sub` again (no name this time; Apple sends it only once): same user.
    let again = apple
        .native_token(&apple.key.mint(&apple.claims(
            "001234.apple.sub",
            Some("jane@example.com"),
            true,
            SERVICES_ID,
        )))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["user"]["id"], user_id.as_str());
    assert_eq!(again.body["user"]["display_name"], "Jane Appleseed");
    assert_eq!(count_users(app).await, 1);
    assert_eq!(count_identities(app).await, 1);

    // The identity is listed for the user.
    let token = again.body["access_token"].as_str().unwrap();
    let mine = app.get("/acme/v1/me/identities", Some(token)).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let identities = mine.body["data"].as_array().unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0]["provider"], "apple");
    assert_eq!(identities[0]["subject"], "001234.apple.sub");
    assert_eq!(identities[0]["email"], "jane@example.com");

    // Audit: created, linked, signed in twice with method apple.
    let created = app.audit("user.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].metadata["via"], "apple");
    let linked = app.audit("user.identity_linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].metadata["reason"], "new_user");
    let signed_in = app.audit("user.signed_in").await;
    assert_eq!(signed_in.len(), 2);
    assert!(
        signed_in
            .iter()
            .all(|e| e.metadata["method"] == "apple" && e.metadata["flow"] == "native")
    );
    for entry in created.iter().chain(&linked).chain(&signed_in) {
        assert!(!entry.metadata.to_string().contains("eyJ"));
    }

    // Concurrent first sign-ins of one new identity make one user and one identity.
    let token =
        apple
            .key
            .mint(&apple.claims("race.sub", Some("race@example.com"), true, BUNDLE_ID));
    let attempts = (0..6).map(|_| apple.native_token(&token));
    let results = futures_util::future::join_all(attempts).await;
    let mut created = 0;
    for resp in &results {
        assert!(resp.status == 200 || resp.status == 201, "{}", resp.text);
        created += usize::from(resp.status == 201);
    }
    assert_eq!(created, 1);
    let ids: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r.body["user"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(count_users(app).await, 2);
    assert_eq!(count_identities(app).await, 2);

    // A disabled provider signs nobody in.
    let resp = app
        .put(
            "/v1/apps/acme/providers/apple",
            Some(&app.root_key),
            json!({"bundle_ids": [BUNDLE_ID], "private_key": null, "enabled": false}),
        )
        .await;
    assert_eq!(resp.body["data"]["enabled"], false, "{}", resp.text);
    apple
        .native_token(&token)
        .await
        .error(403, "provider_disabled");
}

#[tokio::test]
async fn apple_native_links_a_verified_email_and_accepts_private_relay() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let created = app
        .post(
            "/v1/apps/acme/users",
            Some(&app.root_key),
            json!({"email": "alice@example.com", "password": PW, "email_verified": true}),
        )
        .await;
    let alice = created.body["data"]["id"].as_str().unwrap().to_owned();

    let resp = apple
        .native_token(&apple.key.mint(&apple.claims(
            "alice.sub",
            Some("Alice@Example.com"),
            true,
            BUNDLE_ID,
        )))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["id"], alice.as_str());
    assert_eq!(count_users(app).await, 1);
    let linked = app.audit("user.identity_linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].metadata["reason"], "email_match");
    assert_eq!(linked[0].target_id.as_deref(), Some(alice.as_str()));
    // The password still works: linking adds a way to sign in.
    assert_eq!(
        app.signin("acme", "alice@example.com", PW).await.status,
        200
    );

    // Apple's private relay addresses are ordinary verified emails.
    let mut claims = apple.claims(
        "relay.sub",
        Some("x7k2p9@privaterelay.appleid.com"),
        true,
        BUNDLE_ID,
    );
    claims["is_private_email"] = json!("true");
    let resp = apple.native_token(&apple.key.mint(&claims)).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(
        resp.body["user"]["email"],
        "x7k2p9@privaterelay.appleid.com"
    );
    assert_eq!(resp.body["user"]["email_verified"], true);

    // A local account whose address is unverified is not linked (it could have
    // been registered by someone else to take over the Apple user's account).
    app.post(
        "/v1/apps/acme/users",
        Some(&app.root_key),
        json!({"email": "carol@example.com", "password": PW}),
    )
    .await;
    let resp = apple
        .native_token(&apple.key.mint(&apple.claims(
            "carol.sub",
            Some("carol@example.com"),
            true,
            BUNDLE_ID,
        )))
        .await;
    let error = resp.error(409, "conflict");
    assert_eq!(error["details"]["reason"], "local_email_unverified");
    assert_eq!(count_identities(app).await, 2);

    // A deactivated user cannot sign in through a linked identity either.
    app.post(
        &format!("/v1/apps/acme/users/{alice}/deactivate"),
        Some(&app.root_key),
        json!({}),
    )
    .await;
    apple
        .native_token(&apple.key.mint(&apple.claims(
            "alice.sub",
            Some("alice@example.com"),
            true,
            BUNDLE_ID,
        )))
        .await
        .error(403, "account_deactivated");
}

#[tokio::test]
async fn an_unverified_upstream_email_never_links() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    app.post(
        "/v1/apps/acme/users",
        Some(&app.root_key),
        json!({"email": "alice@example.com", "password": PW, "email_verified": true}),
    )
    .await;

    // Same address as an existing user, unverified by the provider: refused.
    let resp = apple
        .native_token(&apple.key.mint(&apple.claims(
            "mallory.sub",
            Some("alice@example.com"),
            false,
            BUNDLE_ID,
        )))
        .await;
    let error = resp.error(409, "conflict");
    assert_eq!(error["details"]["reason"], "upstream_email_unverified");
    assert_eq!(count_identities(app).await, 0);

    // A new address, unverified: a new user, marked unverified.
    let resp = apple
        .native_token(&apple.key.mint(&apple.claims(
            "dave.sub",
            Some("dave@example.com"),
            false,
            BUNDLE_ID,
        )))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["user"]["email_verified"], false);

    // No email at all: a new account cannot be made.
    apple
        .native_token(
            &apple
                .key
                .mint(&apple.claims("nomail.sub", None, false, BUNDLE_ID)),
        )
        .await
        .error(403, "email_required");

    // With require_verified_email the unverified sign-in is refused, nothing created.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"require_verified_email": true}}),
    )
    .await;
    let before = count_users(app).await;
    apple
        .native_token(&apple.key.mint(&apple.claims(
            "erin.sub",
            Some("erin@example.com"),
            false,
            BUNDLE_ID,
        )))
        .await
        .error(403, "email_not_verified");
    assert_eq!(count_users(app).await, before);

    // With sign-up disabled, no new users either (verified or not).
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"signup_enabled": false}}),
    )
    .await;
    apple
        .native_token(&apple.key.mint(&apple.claims(
            "frank.sub",
            Some("frank@example.com"),
            true,
            BUNDLE_ID,
        )))
        .await
        .error(403, "forbidden");
    assert_eq!(count_users(app).await, before);
}

#[tokio::test]
async fn invalid_identity_tokens_are_refused_and_create_nothing() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let now = app.state.now().timestamp();
    let good = apple.claims("victim.sub", Some("victim@example.com"), true, BUNDLE_ID);
    let with = |patch: Value| {
        let mut claims = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let rogue = FakeKey::rsa("apple-k1");
    let es = FakeKey::ec("apple-k1");
    let hs = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("apple-k1".into());
        jsonwebtoken::encode(
            &header,
            &good,
            &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        )
        .unwrap()
    };
    let none = {
        let b64 = |v: &Value| heimdall::crypto::b64url(v.to_string().as_bytes());
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "kid": "apple-k1"})),
            b64(&good)
        )
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "forged signature",
            json!({"identity_token": rogue.mint(&good)}),
            "signature",
        ),
        (
            "wrong aud",
            json!({"identity_token": apple.key.mint(&with(json!({"aud": "com.evil.app"})))}),
            "audience",
        ),
        (
            "wrong iss",
            json!({"identity_token": apple.key.mint(&with(json!({"iss": "https://evil.example"})))}),
            "issuer",
        ),
        (
            "expired",
            json!({"identity_token": apple.key.mint(&with(json!({"exp": now - 120, "iat": now - 900})))}),
            "expired",
        ),
        (
            "nonce mismatch",
            json!({"identity_token": apple.key.mint(&with(json!({"nonce": sha256_hex("other")}))),
                   "nonce": "mine"}),
            "nonce",
        ),
        (
            "nonce missing from the token",
            json!({"identity_token": apple.key.mint(&good), "nonce": "mine"}),
            "nonce",
        ),
        (
            "unknown kid",
            json!({"identity_token": apple.key.mint_as("unknown-kid", &good)}),
            "kid",
        ),
        (
            "ES256 instead of RS256",
            json!({"identity_token": es.mint(&good)}),
            "ES256",
        ),
        ("HS256", json!({"identity_token": hs}), "algorithm"),
        ("alg none", json!({"identity_token": none}), "algorithm"),
        ("garbage", json!({"identity_token": "not-a-jwt"}), "compact"),
    ];
    let failures_before = app.audit("user.signin_failed").await.len();
    for (name, body, reason) in &cases {
        let resp = apple.native(body.clone()).await;
        let error = resp.error(401, "invalid_identity_token");
        assert!(
            error["message"].as_str().unwrap().contains(reason),
            "{name}: {}",
            resp.text
        );
        assert!(resp.header("www-authenticate").is_some(), "{name}");
    }
    assert_eq!(count_users(app).await, 0);
    assert_eq!(count_identities(app).await, 0);
    let failures = app.audit("user.signin_failed").await;
    assert_eq!(failures.len() - failures_before, cases.len());
    assert!(
        failures
            .iter()
            .all(|f| f.metadata["method"] == "apple" && !f.metadata.to_string().contains("eyJ"))
    );

    // Malformed requests are 400s, not 401s.
    apple
        .native(json!({"nonce": "x"}))
        .await
        .error(400, "invalid_request");
    apple
        .native(json!({"identity_token": "a.b.c", "extra": 1}))
        .await
        .error(400, "invalid_request");
    // The token still works when it is genuine.
    let ok = apple.native_token(&apple.key.mint(&good)).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}

#[tokio::test]
async fn apple_jwks_is_cached_and_refetched_once_on_an_unknown_kid() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let apple_ref = &apple;
    let sign_in = move |key: &FakeKey, sub: &str| {
        let claims = apple_ref.claims(sub, Some(&format!("{sub}@example.com")), true, BUNDLE_ID);
        let token = key.mint(&claims);
        async move { apple_ref.native_token(&token).await }
    };

    assert_eq!(sign_in(&apple.key, "u1").await.status, 201);
    assert_eq!(apple.idp.jwks_hits(), 1);
    assert_eq!(sign_in(&apple.key, "u1").await.status, 200);
    assert_eq!(apple.idp.jwks_hits(), 1, "cached");

    // Apple rotates: a token with the new kid triggers one refetch and verifies.
    let k2 = FakeKey::rsa("apple-k2");
    apple.idp.publish(k2.clone());
    app.clock.advance(Duration::seconds(30));
    assert_eq!(sign_in(&k2, "u2").await.status, 201);
    assert_eq!(apple.idp.jwks_hits(), 2);

    // An unknown kid refetches once, then is refused; more made-up kids right
    // after do not hammer Apple.
    app.clock.advance(Duration::seconds(30));
    let rogue = FakeKey::rsa("made-up");
    sign_in(&rogue, "u3")
        .await
        .error(401, "invalid_identity_token");
    assert_eq!(apple.idp.jwks_hits(), 3);
    sign_in(&FakeKey::rsa("made-up-2"), "u3")
        .await
        .error(401, "invalid_identity_token");
    assert_eq!(apple.idp.jwks_hits(), 3);

    // Concurrent misses share one fetch (single flight).
    let k3 = FakeKey::rsa("apple-k3");
    apple.idp.publish(k3.clone());
    app.clock.advance(Duration::seconds(30));
    apple
        .idp
        .inner
        .jwks_delay_ms
        .store(200, std::sync::atomic::Ordering::SeqCst);
    let attempts = (0..8).map(|i| sign_in(&k3, &format!("c{i}")));
    let results = futures_util::future::join_all(attempts).await;
    for resp in &results {
        assert_eq!(resp.status, 201, "{}", resp.text);
    }
    assert_eq!(
        apple.idp.jwks_hits(),
        4,
        "one fetch for eight concurrent misses"
    );

    // After the cache's lifetime the set is fetched again.
    app.clock.advance(Duration::hours(2));
    assert_eq!(sign_in(&apple.key, "u1").await.status, 200);
    assert_eq!(apple.idp.jwks_hits(), 5);
}

// ------------------------------------------------------------------------------
// Apple web flow
// ------------------------------------------------------------------------------

/// Starts the web flow in a "browser"; returns (state, nonce, cookie).
async fn apple_start(apple: &Apple) -> (String, String, String) {
    let resp = apple.app.get("/acme/v1/auth/apple/start", None).await;
    assert_eq!(resp.status, 302, "{}", resp.text);
    let location = resp.header("location").unwrap().to_owned();
    assert!(
        location.starts_with(&apple.idp.url("/auth/authorize?")),
        "{location}"
    );
    let query = query_of(&location);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["response_mode"], "form_post");
    assert_eq!(query["client_id"], SERVICES_ID);
    assert_eq!(query["scope"], "name email");
    assert_eq!(
        query["redirect_uri"],
        apple.app.url("/acme/v1/auth/apple/callback")
    );
    let cookie = resp.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/acme/v1/auth/"));
    (
        query["state"].clone(),
        query["nonce"].clone(),
        cookie_pair(&resp),
    )
}

/// Plays Apple's side: the code the browser brings back maps to an identity token.
fn apple_grant(apple: &Apple, code: &str, sub: &str, email: &str, nonce: &str) {
    let mut claims = apple.claims(sub, Some(email), true, SERVICES_ID);
    claims["nonce"] = json!(nonce);
    apple.idp.grant(
        code,
        Grant {
            id_token: apple.key.mint(&claims),
            redirect_uri: apple.app.url("/acme/v1/auth/apple/callback"),
            code_challenge: None,
        },
    );
}

#[tokio::test]
async fn apple_web_flow_end_to_end() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;

    let (state, nonce, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "code-1", "web.sub", "webby@example.com", &nonce);
    let user_json = r#"{"name":{"firstName":"Web","lastName":"User"},"email":"webby@example.com"}"#;
    let resp = post_form(
        app,
        "/acme/v1/auth/apple/callback",
        &[("state", &state), ("code", "code-1"), ("user", user_json)],
        Some(&cookie),
        false,
    )
    .await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    let location = resp.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!("{REDIRECT}#")), "{location}");
    let fragment = fragment_of(&location);
    assert_eq!(fragment["token_type"], "Bearer");
    assert!(fragment["refresh_token"].starts_with("hm_rt_"));
    let claims = verify_with_jwks(app, "acme", &fragment["access_token"])
        .await
        .unwrap();
    // The binding cookie is cleared.
    assert!(
        resp.headers
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().contains("Max-Age=0"))
    );

    // The fake verified Heimdall's client secret: ES256 with the .p8 key.
    assert!(
        apple.idp.refusals().is_empty(),
        "{:?}",
        apple.idp.refusals()
    );
    let (kid, secret_claims) = apple
        .idp
        .inner
        .last_secret_claims
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    assert_eq!(kid, KEY_ID);
    assert_eq!(secret_claims["iss"], TEAM_ID);
    assert_eq!(secret_claims["sub"], SERVICES_ID);
    assert_eq!(secret_claims["aud"], APPLE_ISSUER);

    // The user was created with the name Apple posted.
    let me = app
        .get("/acme/v1/me", Some(&fragment["access_token"]))
        .await;
    assert_eq!(me.body["data"]["display_name"], "Web User");
    assert_eq!(me.body["data"]["id"], claims["sub"]);
    let signed_in = app.audit("user.signed_in").await;
    assert_eq!(signed_in.last().unwrap().metadata["flow"], "web");

    // The state is single use.
    post_form(
        app,
        "/acme/v1/auth/apple/callback",
        &[("state", &state), ("code", "code-1")],
        Some(&cookie),
        true,
    )
    .await
    .error(401, "invalid_state");

    // A second sign-in (API client answer as JSON) reuses the cached client secret.
    let (state, nonce, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "code-2", "web.sub", "webby@example.com", &nonce);
    let resp = post_form(
        app,
        "/acme/v1/auth/apple/callback",
        &[("state", &state), ("code", "code-2")],
        Some(&cookie),
        true,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["email"], "webby@example.com");
    let secrets = apple.idp.client_secrets();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0], secrets[1], "the client secret is cached");
    assert_eq!(count_users(app).await, 1);
}

#[tokio::test]
async fn apple_web_flow_refuses_bad_state_and_bad_codes() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let callback = "/acme/v1/auth/apple/callback";

    // Unknown state.
    let (_, nonce, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "c1", "s1", "s1@example.com", &nonce);
    post_form(
        app,
        callback,
        &[("state", "forged"), ("code", "c1")],
        Some(&cookie),
        true,
    )
    .await
    .error(401, "invalid_state");

    // The right state from another browser (no binding cookie).
    let (state, nonce, _) = apple_start(&apple).await;
    apple_grant(&apple, "c2", "s2", "s2@example.com", &nonce);
    let resp = post_form(
        app,
        callback,
        &[("state", &state), ("code", "c2")],
        None,
        true,
    )
    .await;
    let error = resp.error(401, "invalid_state");
    assert!(error["message"].as_str().unwrap().contains("browser"));

    // Expired state.
    let (state, nonce, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "c3", "s3", "s3@example.com", &nonce);
    app.clock.advance(Duration::minutes(11));
    post_form(
        app,
        callback,
        &[("state", &state), ("code", "c3")],
        Some(&cookie),
        true,
    )
    .await
    .error(401, "invalid_state");

    // The user cancels at Apple: the browser lands on redirect_uri with the error.
    let (state, _, cookie) = apple_start(&apple).await;
    let resp = post_form(
        app,
        callback,
        &[("state", &state), ("error", "user_cancelled_authorize")],
        Some(&cookie),
        false,
    )
    .await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    let fragment = fragment_of(resp.header("location").unwrap());
    assert_eq!(fragment["error"], "access_denied");
    assert!(fragment["error_description"].contains("user_cancelled_authorize"));
    assert!(!fragment.contains_key("access_token"));

    // A code Apple does not know: refused upstream.
    let (state, _, cookie) = apple_start(&apple).await;
    post_form(
        app,
        callback,
        &[("state", &state), ("code", "nope")],
        Some(&cookie),
        true,
    )
    .await
    .error(401, "upstream_rejected");

    // An identity token whose nonce is not this flow's.
    let (state, _, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "c4", "s4", "s4@example.com", "someone-elses-nonce");
    post_form(
        app,
        callback,
        &[("state", &state), ("code", "c4")],
        Some(&cookie),
        true,
    )
    .await
    .error(401, "invalid_identity_token");

    // Not a form; parameters twice.
    app.post(callback, None, json!({"state": "x"}))
        .await
        .error(415, "unsupported_media_type");
    post_form(app, callback, &[("state", "a"), ("state", "b")], None, true)
        .await
        .error(400, "invalid_request");
    assert_eq!(count_users(app).await, 0);

    // API clients start with Accept: application/json and get the URL and state.
    let start = get_with(app, "/acme/v1/auth/apple/start", None, true).await;
    assert_eq!(start.status, 200, "{}", start.text);
    assert!(start.header("set-cookie").is_none());
    let state = start.body["state"].as_str().unwrap().to_owned();
    let query = query_of(start.body["authorization_url"].as_str().unwrap());
    assert_eq!(query["state"], state);
    apple_grant(&apple, "c5", "s5", "s5@example.com", &query["nonce"]);
    let resp = post_form(
        app,
        callback,
        &[("state", &state), ("code", "c5")],
        None,
        true,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(count_users(app).await, 1);

    // Without the web configuration (no key), the web flow is not available.
    app.put(
        "/v1/apps/acme/providers/apple",
        Some(&app.root_key),
        json!({"bundle_ids": [BUNDLE_ID], "private_key": null}),
    )
    .await;
    app.get("/acme/v1/auth/apple/start", None)
        .await
        .error(409, "conflict");
}

// ------------------------------------------------------------------------------
// Generic OIDC upstream
// ------------------------------------------------------------------------------

#[tokio::test]
async fn generic_oidc_upstream_end_to_end() {
    const CLIENT_ID: &str = "heimdall-client";
    const SECRET: &str = "s3cret:with/special&chars";
    let key = FakeKey::ec("oidc-ec-1");
    let idp = FakeIdp::oidc(
        ClientCheck::Basic {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        },
        key.clone(),
    )
    .await;
    let app = spawn_app_with(|c| c.federation_allow_loopback = true).await;
    app.create_app("acme").await;
    let resp = app
        .put(
            "/v1/apps/acme/providers/corp-sso",
            Some(&app.root_key),
            json!({"issuer": idp.base, "client_id": CLIENT_ID, "client_secret": SECRET,
                   "redirect_uri": REDIRECT, "display_name": "Corp SSO"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert!(!resp.text.contains(SECRET));
    let callback_path = "/acme/v1/auth/corp-sso/callback";

    let app_ref = &app;
    let start = move |json: bool| get_with(app_ref, "/acme/v1/auth/corp-sso/start", None, json);
    let grant = |code: &str, query: &HashMap<String, String>, claims: Value, signer: &FakeKey| {
        idp.grant(
            code,
            Grant {
                id_token: signer.mint_as("oidc-ec-1", &claims),
                redirect_uri: query["redirect_uri"].clone(),
                code_challenge: Some(query["code_challenge"].clone()),
            },
        );
    };
    let claims = |nonce: &str, sub: &str, email: &str, verified: bool| {
        let now = app.state.now().timestamp();
        json!({"iss": idp.base, "aud": CLIENT_ID, "sub": sub, "exp": now + 300, "iat": now,
               "nonce": nonce, "email": email, "email_verified": verified,
               "name": "Bob Builder"})
    };

    // Browser: redirect with PKCE S256, nonce and state.
    let resp = start(false).await;
    assert_eq!(resp.status, 302, "{}", resp.text);
    let location = resp.header("location").unwrap().to_owned();
    assert!(location.starts_with(&idp.url("/authorize?")), "{location}");
    let query = query_of(&location);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43);
    assert_eq!(query["redirect_uri"], app.url(callback_path));
    let cookie = cookie_pair(&resp);
    grant(
        "oidc-code-1",
        &query,
        claims(&query["nonce"], "bob-1", "bob@example.com", true),
        &key,
    );
    let path = format!(
        "{callback_path}?code=oidc-code-1&state={}&iss={}",
        query["state"],
        url::form_urlencoded::byte_serialize(idp.base.as_bytes()).collect::<String>()
    );
    let resp = get_with(&app, &path, Some(&cookie), false).await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    assert!(idp.refusals().is_empty(), "{:?}", idp.refusals());
    let fragment = fragment_of(resp.header("location").unwrap());
    verify_with_jwks(&app, "acme", &fragment["access_token"])
        .await
        .unwrap();
    let me = app
        .get("/acme/v1/me", Some(&fragment["access_token"]))
        .await;
    assert_eq!(me.body["data"]["email"], "bob@example.com");
    assert_eq!(me.body["data"]["email_verified"], true);
    assert_eq!(me.body["data"]["display_name"], "Bob Builder");
    let identities = app
        .get("/acme/v1/me/identities", Some(&fragment["access_token"]))
        .await;
    assert_eq!(identities.body["data"][0]["provider"], "corp-sso");
    assert_eq!(
        app.audit("user.signed_in").await.last().unwrap().metadata["method"],
        "oidc"
    );

    // A verified email links to an existing verified user (form_post callback, JSON).
    app.post(
        "/v1/apps/acme/users",
        Some(&app.root_key),
        json!({"email": "linda@example.com", "password": PW, "email_verified": true}),
    )
    .await;
    let resp = start(true).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let query = query_of(resp.body["authorization_url"].as_str().unwrap());
    grant(
        "oidc-code-2",
        &query,
        claims(&query["nonce"], "linda-1", "linda@example.com", true),
        &key,
    );
    let resp = post_form(
        &app,
        callback_path,
        &[("code", "oidc-code-2"), ("state", &query["state"])],
        None,
        true,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["email"], "linda@example.com");
    assert_eq!(count_users(&app).await, 2);

    // The algorithm is pinned to the key: an RS256 token under the EC key's kid fails.
    let resp = start(true).await;
    let query = query_of(resp.body["authorization_url"].as_str().unwrap());
    grant(
        "oidc-code-3",
        &query,
        claims(&query["nonce"], "eve-1", "eve@example.com", true),
        &FakeKey::rsa("x"),
    );
    post_form(
        &app,
        callback_path,
        &[("code", "oidc-code-3"), ("state", &query["state"])],
        None,
        true,
    )
    .await
    .error(401, "invalid_identity_token");

    // Wrong audience and a replayed nonce are refused too.
    let resp = start(true).await;
    let query = query_of(resp.body["authorization_url"].as_str().unwrap());
    let mut wrong_aud = claims(&query["nonce"], "eve-1", "eve@example.com", true);
    wrong_aud["aud"] = json!("someone-else");
    grant("oidc-code-4", &query, wrong_aud, &key);
    post_form(
        &app,
        callback_path,
        &[("code", "oidc-code-4"), ("state", &query["state"])],
        None,
        true,
    )
    .await
    .error(401, "invalid_identity_token");

    // An authorization response from another issuer (RFC 9207) is refused.
    let resp = start(true).await;
    let query = query_of(resp.body["authorization_url"].as_str().unwrap());
    post_form(
        &app,
        callback_path,
        &[
            ("code", "whatever"),
            ("state", &query["state"]),
            ("iss", "https://evil.example"),
        ],
        None,
        true,
    )
    .await
    .error(401, "invalid_state");
    assert_eq!(count_users(&app).await, 2);
    assert_eq!(
        idp.inner
            .token_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        4
    );

    // Oversized upstream answers are refused (503), not read whole.
    app.put(
        "/v1/apps/acme/providers/huge",
        Some(&app.root_key),
        json!({"discovery_url": idp.url("/huge"), "client_id": "c", "redirect_uri": REDIRECT}),
    )
    .await;
    let resp = get_with(&app, "/acme/v1/auth/huge/start", None, true).await;
    let error = resp.error(503, "unavailable");
    assert!(
        error["message"].as_str().unwrap().contains("too large"),
        "{}",
        resp.text
    );
}

// ------------------------------------------------------------------------------
// Identities
// ------------------------------------------------------------------------------

#[tokio::test]
async fn identities_are_listed_and_unlinked_but_never_the_last_way_in() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let apple_token = || {
        apple
            .key
            .mint(&apple.claims("ivy.sub", Some("ivy@example.com"), true, BUNDLE_ID))
    };
    let resp = apple.native_token(&apple_token()).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let user_id = resp.body["user"]["id"].as_str().unwrap().to_owned();
    let token = resp.body["access_token"].as_str().unwrap().to_owned();
    let identity = app.get("/acme/v1/me/identities", Some(&token)).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The only way in: refused.
    let resp = app
        .delete(&format!("/acme/v1/me/identities/{identity}"), Some(&token))
        .await;
    let error = resp.error(409, "conflict");
    assert_eq!(error["details"]["reason"], "last_sign_in_method");
    let resp = app
        .graphql(
            Some(&token),
            "mutation($id: ID!) { unlinkMyIdentity(id: $id) }",
            json!({"id": identity}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "CONFLICT");

    // With a password set, the user may unlink it.
    app.patch(
        &format!("/v1/apps/acme/users/{user_id}"),
        Some(&app.root_key),
        json!({"password": PW}),
    )
    .await;
    let token = app.signin("acme", "ivy@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .graphql(
            Some(&token),
            "{ myIdentities { id provider subject email } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["myIdentities"][0]["id"],
        identity.as_str()
    );
    let resp = app
        .delete(&format!("/acme/v1/me/identities/{identity}"), Some(&token))
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert_eq!(
        app.get("/acme/v1/me/identities", Some(&token)).await.body["data"],
        json!([])
    );
    assert_eq!(app.audit("user.identity_unlinked").await.len(), 1);
    app.delete(&format!("/acme/v1/me/identities/{identity}"), Some(&token))
        .await
        .error(404, "not_found");

    // Signing in with Apple again links anew (verified email, verified account).
    let resp = apple.native_token(&apple_token()).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["id"], user_id.as_str());

    // Administrators list and unlink: admin lane, consumer admin lane, GraphQL.
    let listed = app
        .get(
            &format!("/v1/apps/acme/users/{user_id}/identities"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let identity = listed.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed.body["data"][0]["user_id"], user_id.as_str());
    let member = app.user_token("acme", "member@example.com", "member").await;
    app.get(
        &format!("/acme/v1/users/{user_id}/identities"),
        Some(&member),
    )
    .await
    .error(403, "forbidden");
    let admin = app.user_token("acme", "admin@example.com", "admin").await;
    let resp = app
        .get(
            &format!("/acme/v1/users/{user_id}/identities"),
            Some(&admin),
        )
        .await;
    assert_eq!(resp.body["data"][0]["id"], identity.as_str());
    app.create_app("other").await;
    let other_pak = app.create_pak("other").await;
    app.get(
        &format!("/v1/apps/acme/users/{user_id}/identities"),
        Some(&other_pak),
    )
    .await
    .error(404, "not_found");
    let resp = app
        .graphql(
            Some(&app.root_key),
            r#"query($u: ID!) { userIdentities(app: "acme", userId: $u) { id provider } }"#,
            json!({"u": user_id}),
        )
        .await;
    assert_eq!(resp.body["data"]["userIdentities"][0]["provider"], "apple");
    let resp = app
        .graphql(
            Some(&admin),
            r#"mutation($u: ID!, $i: ID!) { unlinkUserIdentity(userId: $u, id: $i) }"#,
            json!({"u": user_id, "i": identity}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["unlinkUserIdentity"], true,
        "{}",
        resp.text
    );
    assert_eq!(count_identities(app).await, 0);

    // The admin lane unlinks too.
    apple.native_token(&apple_token()).await;
    let identity = app
        .get(
            &format!("/v1/apps/acme/users/{user_id}/identities"),
            Some(&app.root_key),
        )
        .await
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .delete(
            &format!("/v1/apps/acme/users/{user_id}/identities/{identity}"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert_eq!(count_identities(app).await, 0);

    // Deleting the user deletes their identities.
    apple.native_token(&apple_token()).await;
    assert_eq!(count_identities(app).await, 1);
    app.delete(
        &format!("/v1/apps/acme/users/{user_id}"),
        Some(&app.root_key),
    )
    .await;
    assert_eq!(count_identities(app).await, 0);
}

#[tokio::test]
async fn provider_secrets_survive_a_master_key_rotation() {
    let mut apple = apple_setup().await;
    apple.configure().await;
    // Rotate: a new master key, the old one kept as previous.
    let old = apple.app.config.master_key.clone().unwrap();
    let new = heimdall::crypto::vault::MasterKey::new(
        heimdall::crypto::random_bytes(32)
            .unwrap()
            .try_into()
            .unwrap(),
    );
    apple.app.config.master_key = Some(heimdall::config::Secret::new(new.to_base64()));
    apple.app.config.master_key_previous = Some(old);
    apple.app.restart().await;

    // The web flow signs a client secret with the key sealed under the old master key.
    let (state, nonce, cookie) = apple_start(&apple).await;
    apple_grant(&apple, "rot-1", "rot.sub", "rot@example.com", &nonce);
    let resp = post_form(
        &apple.app,
        "/acme/v1/auth/apple/callback",
        &[("state", &state), ("code", "rot-1")],
        Some(&cookie),
        true,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(apple.idp.client_secrets().len(), 1);

    // A new key is sealed under the new master key; without the old one it still opens.
    apple.configure().await;
    apple.app.config.master_key_previous = None;
    apple.app.restart().await;
    let row = identity_provider::Entity::find()
        .one(&*apple.app.state.db)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.secret.unwrap();
    assert!(sealed.starts_with(&format!("v1.{}.", new.id())));
    let aad = format!("provider:{}:{}", row.app_id, row.id);
    assert_eq!(
        apple.app.state.vault.open(&sealed, &aad).unwrap(),
        apple.p8.pem.as_bytes()
    );
}

/// A user with a second factor (docs/src/mfa.md) who signs in with Apple gets the
/// second step too; the finished session says `["fed", "otp", "mfa"]`.
#[tokio::test]
async fn a_federated_signin_of_a_user_with_a_second_factor_has_a_second_step() {
    let apple = apple_setup().await;
    apple.configure().await;
    let app = &apple.app;
    let first = apple
        .native_token(&apple.key.mint(&apple.claims(
            "mfa.sub",
            Some("jo@example.com"),
            true,
            BUNDLE_ID,
        )))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let claims = verify_with_jwks(app, "acme", first.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["fed"]));
    let (_, secret, _) =
        crate::mfa::enrol_totp(app, first.body["access_token"].as_str().unwrap()).await;

    let resp = apple
        .native_token(&apple.key.mint(&apple.claims(
            "mfa.sub",
            Some("jo@example.com"),
            true,
            BUNDLE_ID,
        )))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["mfa_required"], true);
    assert!(resp.body.get("access_token").is_none());
    let verified = app
        .post(
            "/acme/v1/auth/mfa/verify",
            None,
            json!({
                "mfa_token": resp.body["mfa_token"],
                "method": "totp",
                "code": crate::mfa::totp_now(app, &secret),
            }),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    let claims = verify_with_jwks(app, "acme", verified.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["fed", "otp", "mfa"]));
}

/// W3C Trace Context (docs/src/production.md#tracing): the provider is called in the
/// trace of the sign-in request, as a new span of it.
#[tokio::test]
async fn upstream_provider_calls_continue_the_callers_trace() {
    let apple = apple_setup().await;
    apple.configure().await;
    let claims = apple.claims(
        "001234.trace.sub",
        Some("trace@example.com"),
        true,
        BUNDLE_ID,
    );
    let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let resp = apple
        .app
        .client
        .post(apple.app.url("/acme/v1/auth/apple"))
        .header("traceparent", parent)
        .json(&json!({ "identity_token": apple.key.mint(&claims) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let seen = apple.idp.inner.traceparents.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let parts: Vec<&str> = seen[0].split('-').collect();
    assert_eq!(parts.len(), 4, "{}", seen[0]);
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "0af7651916cd43dd8448eb211c80319c");
    assert_ne!(parts[2], "b7ad6b7169203331", "a new span, not the caller's");
    assert_eq!(parts[2].len(), 16);
    assert_eq!(parts[3], "01");
}
