//! The consumer lane: sign-up, sign-in, refresh rotation, sign-out, me, sessions,
//! password policy, enumeration safety, brute-force throttling.

use std::collections::BTreeSet;

use chrono::Duration;
use entity::{refresh_token, session};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app},
    signing_keys::verify_with_jwks,
};

const PW: &str = "correct horse battery";

async fn app_with(settings: Value) -> TestApp {
    let app = spawn_app().await;
    app.create_app_with(json!({"name": "acme", "settings": settings}))
        .await;
    app
}

#[tokio::test]
async fn signup_returns_a_token_response_with_spec_claims() {
    let app = app_with(json!({"access_token_ttl": 900})).await;
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": " Alice@Example.COM ", "password": PW, "display_name": "Alice"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = &resp.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("hm_rt_")
    );
    let user = &body["user"];
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["display_name"], "Alice");
    assert_eq!(user["role"], "member");
    assert_eq!(user["status"], "active");
    assert_eq!(user["email_verified"], false);
    assert!(user.get("password_hash").is_none() && !resp.text.contains("argon2"));

    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&app, "acme", token)
        .await
        .expect("verifies through the JWKS");
    let keys: BTreeSet<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "sub",
            "aid",
            "sid",
            "role",
            "type",
            "iat",
            "exp",
            "iss",
            "jti",
            "amr",
            "auth_time"
        ]),
        "claims are exactly the documented ones (no tenant yet)"
    );
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["aid"], user["app_id"]);
    assert_eq!(claims["type"], "end_user");
    assert_eq!(claims["role"], "member");
    assert_eq!(claims["iss"], app.issuer("acme"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    let me = app.get("/acme/v1/me", Some(token)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["email"], "alice@example.com");
    assert_eq!(me.body["_links"]["self"], "/acme/v1/me");
}

#[tokio::test]
async fn signin_errors_do_not_reveal_whether_an_account_exists() {
    let app = app_with(json!({})).await;
    app.signup("acme", "alice@example.com", PW).await;
    let ok = app.signin("acme", "ALICE@example.com", PW).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.body["access_token"].is_string());

    let wrong = app
        .signin("acme", "alice@example.com", "wrong password!!")
        .await;
    let unknown = app
        .signin("acme", "nobody@example.com", "wrong password!!")
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body, "identical bodies");
    assert_eq!(
        wrong.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
    assert_eq!(wrong.body["error"]["code"], "unauthenticated");

    // Failures are audited, without the password.
    let failed = app.audit("user.signin_failed").await;
    assert_eq!(failed.len(), 2);
    assert!(failed[0].target_id.is_some() && failed[1].target_id.is_none());
    assert!(!format!("{failed:?}").contains("wrong password"));
    assert_eq!(
        app.audit("user.signed_in").await.len(),
        2,
        "signup and signin"
    );
}

#[tokio::test]
async fn password_policy_and_unicode() {
    let app = app_with(json!({"password_min_length": 12})).await;
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "a@example.com", "password": "short pw"}),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(
        error["details"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("12")
    );
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "a@example.com", "password": "x".repeat(1025)}),
        )
        .await;
    resp.error(400, "invalid_request");
    // 1024 bytes is fine and is not truncated: a longer guess with the same prefix fails.
    let long = "y".repeat(1024);
    app.signup("acme", "long@example.com", &long).await;
    assert_eq!(
        app.signin("acme", "long@example.com", &long).await.status,
        200
    );
    assert_eq!(
        app.signin("acme", "long@example.com", &long[..1023])
            .await
            .status,
        401
    );

    // Unicode is kept exactly as given: NFC and NFD spellings are different passwords.
    let nfc = "pässwörd-ünïcødé-ç";
    let nfd = "pa\u{308}sswo\u{308}rd-u\u{308}ni\u{308}cødé-ç";
    app.signup("acme", "uni@example.com", nfc).await;
    assert_eq!(app.signin("acme", "uni@example.com", nfc).await.status, 200);
    assert_eq!(app.signin("acme", "uni@example.com", nfd).await.status, 401);
    // Twelve characters, not twelve bytes.
    app.signup("acme", "chars@example.com", "ääääääääääää")
        .await;
}

#[tokio::test]
async fn emails_are_validated_and_unique_per_app() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    app.signup("acme", "bob@example.com", PW).await;
    let dup = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "BOB@example.com ", "password": PW}),
        )
        .await;
    dup.error(409, "conflict");
    // The same address in another app is another user.
    let other = app.signup("globex", "bob@example.com", PW).await;
    assert_ne!(other["user"]["id"], json!(null));
    for bad in [
        "bob",
        "bob@",
        "bob@example",
        "b ob@example.com",
        "bob\u{0}@example.com",
        "bob@example.com\r\nBcc: x@y.z",
        "bob\n@example.com",
    ] {
        let resp = app
            .post(
                "/acme/v1/auth/signup",
                None,
                json!({"email": bad, "password": PW}),
            )
            .await;
        let error = resp.error(400, "invalid_request");
        assert!(
            error["details"]["fields"]["email"].is_string(),
            "{bad:?}: {}",
            resp.text
        );
        let resp = app.signin("acme", bad, PW).await;
        resp.error(400, "invalid_request");
    }
}

#[tokio::test]
async fn signup_and_verification_settings_are_respected() {
    let app = app_with(json!({"signup_enabled": false})).await;
    app.post(
        "/acme/v1/auth/signup",
        None,
        json!({"email": "a@example.com", "password": PW}),
    )
    .await
    .error(403, "forbidden");

    let app = app_with(json!({"require_verified_email": true})).await;
    let roles = json!({"roles": [{"name": "viewer", "permissions": ["post.read"]}]});
    assert_eq!(
        app.put("/v1/apps/acme/roles", Some(&app.root_key), roles)
            .await
            .status,
        200
    );
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"default_role": "viewer"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "v@example.com", "password": PW}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["email_verification_required"], true);
    assert!(
        resp.body.get("access_token").is_none(),
        "no session before verification"
    );
    assert_eq!(resp.body["user"]["role"], "viewer");
    let user_id = resp.body["user"]["id"].as_str().unwrap().to_owned();

    let resp = app.signin("acme", "v@example.com", PW).await;
    resp.error(403, "email_not_verified");
    // A wrong password still says nothing about verification.
    app.signin("acme", "v@example.com", "not the password")
        .await
        .error(401, "unauthenticated");

    app.patch(
        &format!("/v1/apps/acme/users/{user_id}"),
        Some(&app.root_key),
        json!({"email_verified": true}),
    )
    .await;
    assert_eq!(app.signin("acme", "v@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = app_with(json!({})).await;
    let first = app.signup("acme", "r@example.com", PW).await;
    let rt1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second = app
        .post("/acme/v1/auth/refresh", None, json!({"refresh_token": rt1}))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.header("cache-control"), Some("no-store"));
    let rt2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    let at2 = second.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(rt1, rt2);
    let claims1 = verify_with_jwks(&app, "acme", first["access_token"].as_str().unwrap())
        .await
        .unwrap();
    let claims2 = verify_with_jwks(&app, "acme", &at2).await.unwrap();
    assert_eq!(claims1["sid"], claims2["sid"], "same session");
    assert_eq!(app.get("/acme/v1/me", Some(&at2)).await.status, 200);

    // Replaying the used token revokes the whole session.
    let replay = app
        .post("/acme/v1/auth/refresh", None, json!({"refresh_token": rt1}))
        .await;
    replay.error(401, "unauthenticated");
    app.get("/acme/v1/me", Some(&at2))
        .await
        .error(401, "unauthenticated");
    app.post("/acme/v1/auth/refresh", None, json!({"refresh_token": rt2}))
        .await
        .error(401, "unauthenticated");
    let revoked = app.audit("session.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].metadata["reason"], "refresh_token_reuse");

    for garbage in ["", "hm_rt_", "hm_rt_nope", "not-a-token", &"x".repeat(5000)] {
        let resp = app
            .post(
                "/acme/v1/auth/refresh",
                None,
                json!({"refresh_token": garbage}),
            )
            .await;
        resp.error(401, "unauthenticated");
    }
    // Refresh tokens are stored hashed.
    let stored = refresh_token::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.token_hash != rt1 && t.token_hash != rt2 && t.token_hash.len() == 64)
    );
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_app_and_expires() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app_with(json!({"name": "globex", "settings": {"refresh_token_ttl": 600}}))
        .await;
    let acme = app.signup("acme", "x@example.com", PW).await;
    let rt = acme["refresh_token"].as_str().unwrap();
    app.post(
        "/globex/v1/auth/refresh",
        None,
        json!({"refresh_token": rt}),
    )
    .await
    .error(401, "unauthenticated");
    assert_eq!(
        app.post("/acme/v1/auth/refresh", None, json!({"refresh_token": rt}))
            .await
            .status,
        200
    );

    let globex = app.signup("globex", "x@example.com", PW).await;
    app.clock.advance(Duration::seconds(601));
    app.post(
        "/globex/v1/auth/refresh",
        None,
        json!({"refresh_token": globex["refresh_token"]}),
    )
    .await
    .error(401, "unauthenticated");
}

#[tokio::test]
async fn concurrent_refreshes_leave_at_most_one_live_successor() {
    let app = app_with(json!({})).await;
    let first = app.signup("acme", "race@example.com", PW).await;
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    let requests = (0..10).map(|_| {
        app.post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": rt.clone()}),
        )
    });
    let responses = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    for r in &responses {
        assert!(!r.text.contains("locked"), "{}", r.text);
    }
    // Live successors: unused refresh tokens of sessions that are not revoked.
    let sessions = session::Entity::find().all(&*app.state.db).await.unwrap();
    let live_sessions: Vec<_> = sessions
        .iter()
        .filter(|s| s.revoked_at.is_none())
        .map(|s| s.id)
        .collect();
    let live = refresh_token::Entity::find()
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::SessionId.is_in(live_sessions))
        .all(&*app.state.db)
        .await
        .unwrap();
    assert!(live.len() <= 1, "{} live successors", live.len());
}

#[tokio::test]
async fn signout_ends_the_session_immediately() {
    let app = app_with(json!({})).await;
    let tokens = app.signup("acme", "s@example.com", PW).await;
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.get("/acme/v1/me", Some(at)).await.status, 200);
    let resp = app.post("/acme/v1/auth/signout", Some(at), json!({})).await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    let resp = app.get("/acme/v1/me", Some(at)).await;
    resp.error(401, "unauthenticated");
    assert!(
        resp.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    app.post(
        "/acme/v1/auth/refresh",
        None,
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await
    .error(401, "unauthenticated");
    app.post("/acme/v1/auth/signout", None, json!({}))
        .await
        .error(401, "unauthenticated");
}

#[tokio::test]
async fn me_is_for_this_apps_end_users_only() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    let acme = app.signup("acme", "m@example.com", PW).await;
    let globex = app.signup("globex", "m@example.com", PW).await;
    let pak = app.create_pak("acme").await;
    app.get("/acme/v1/me", None)
        .await
        .error(401, "unauthenticated");
    app.get(
        "/acme/v1/me",
        Some(globex["access_token"].as_str().unwrap()),
    )
    .await
    .error(401, "unauthenticated");
    app.get("/acme/v1/me", Some(&pak))
        .await
        .error(403, "forbidden");
    app.get("/nope/v1/me", Some(acme["access_token"].as_str().unwrap()))
        .await
        .error(404, "not_found");

    let at = acme["access_token"].as_str().unwrap();
    let resp = app
        .patch(
            "/acme/v1/me",
            Some(at),
            json!({"display_name": "  Mallory  "}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["display_name"], "Mallory",
        "{}",
        resp.text
    );
    let resp = app
        .patch("/acme/v1/me", Some(at), json!({"role": "owner"}))
        .await;
    resp.error(400, "invalid_request");
    let resp = app
        .patch("/acme/v1/me", Some(at), json!({"display_name": null}))
        .await;
    assert!(resp.body["data"]["display_name"].is_null());
}

#[tokio::test]
async fn sessions_can_be_listed_and_revoked() {
    let app = app_with(json!({})).await;
    let one = app.signup("acme", "u@example.com", PW).await;
    let two = app.signin("acme", "u@example.com", PW).await.body;
    let other = app.signup("acme", "other@example.com", PW).await;
    let at1 = one["access_token"].as_str().unwrap();
    let at2 = two["access_token"].as_str().unwrap();

    let list = app.get("/acme/v1/me/sessions", Some(at1)).await;
    let sessions = list.body["data"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{}", list.text);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let sid2 = verify_with_jwks(&app, "acme", at2).await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_sid = verify_with_jwks(&app, "acme", other["access_token"].as_str().unwrap())
        .await
        .unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    app.delete(&format!("/acme/v1/me/sessions/{other_sid}"), Some(at1))
        .await
        .error(404, "not_found");
    app.delete("/acme/v1/me/sessions/not-a-uuid", Some(at1))
        .await
        .error(404, "not_found");
    assert_eq!(
        app.delete(&format!("/acme/v1/me/sessions/{sid2}"), Some(at1))
            .await
            .status,
        204
    );
    app.get("/acme/v1/me", Some(at2))
        .await
        .error(401, "unauthenticated");
    assert_eq!(app.get("/acme/v1/me", Some(at1)).await.status, 200);
    assert_eq!(
        app.get("/acme/v1/me/sessions", Some(at1)).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let app = app_with(json!({})).await;
    let one = app.signup("acme", "p@example.com", PW).await;
    let two = app.signin("acme", "p@example.com", PW).await.body;
    let at1 = one["access_token"].as_str().unwrap();

    let resp = app
        .post(
            "/acme/v1/me/password",
            Some(at1),
            json!({"current_password": "not it at all", "new_password": "a brand new password"}),
        )
        .await;
    let error = resp.error(400, "invalid_request");
    assert!(error["details"]["fields"]["current_password"].is_string());
    let resp = app
        .post(
            "/acme/v1/me/password",
            Some(at1),
            json!({"current_password": PW, "new_password": "short"}),
        )
        .await;
    assert!(resp.error(400, "invalid_request")["details"]["fields"]["new_password"].is_string());

    let resp = app
        .post(
            "/acme/v1/me/password",
            Some(at1),
            json!({"current_password": PW, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert_eq!(app.get("/acme/v1/me", Some(at1)).await.status, 200);
    app.get("/acme/v1/me", Some(two["access_token"].as_str().unwrap()))
        .await
        .error(401, "unauthenticated");
    assert_eq!(app.signin("acme", "p@example.com", PW).await.status, 401);
    assert_eq!(
        app.signin("acme", "p@example.com", "a brand new password")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn access_tokens_expire_by_the_clock() {
    let app = app_with(json!({"access_token_ttl": 60})).await;
    let tokens = app.signup("acme", "e@example.com", PW).await;
    let at = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.get("/acme/v1/me", Some(at)).await.status, 200);
    app.clock.advance(Duration::seconds(61));
    app.get("/acme/v1/me", Some(at))
        .await
        .error(401, "unauthenticated");
    // The refresh token still works and yields a fresh access token.
    let fresh = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({"refresh_token": tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(fresh.status, 200);
    assert_eq!(
        app.get(
            "/acme/v1/me",
            Some(fresh.body["access_token"].as_str().unwrap())
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn failed_signins_are_throttled_per_account() {
    let app = app_with(json!({})).await;
    app.signup("acme", "t@example.com", PW).await;
    for _ in 0..10 {
        app.signin("acme", "t@example.com", "guess guess guess")
            .await
            .error(401, "unauthenticated");
    }
    let resp = app
        .signin("acme", "t@example.com", "guess guess guess")
        .await;
    resp.error(429, "rate_limited");
    let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Even the right password waits now.
    app.signin("acme", "T@example.com", PW)
        .await
        .error(429, "rate_limited");
    // Unknown accounts are throttled the same way (no enumeration through 429s).
    for _ in 0..10 {
        app.signin("acme", "ghost@example.com", "guess guess guess")
            .await;
    }
    app.signin("acme", "ghost@example.com", "guess guess guess")
        .await
        .error(429, "rate_limited");
    // Another account from the same place is unaffected.
    app.signup("acme", "fine@example.com", PW).await;
    assert_eq!(app.signin("acme", "fine@example.com", PW).await.status, 200);

    app.clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(app.signin("acme", "t@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn failed_signins_are_throttled_per_ip() {
    let app = app_with(json!({})).await;
    for i in 0..50 {
        app.signin(
            "acme",
            &format!("spray{i}@example.com"),
            "guess guess guess",
        )
        .await
        .error(401, "unauthenticated");
    }
    app.signin("acme", "spray-final@example.com", "guess guess guess")
        .await
        .error(429, "rate_limited");
}

/// Concurrent failures for an account with no failures yet neither collide on the
/// counter's key (409/5xx) nor undercount: one atomic upsert per failure.
#[tokio::test]
async fn concurrent_failed_signins_are_all_counted() {
    let app = app_with(json!({})).await;
    app.signup("acme", "race@example.com", PW).await;
    let attempts = (0..20).map(|_| app.signin("acme", "race@example.com", "guess guess guess"));
    let answers = futures_util::future::join_all(attempts).await;
    let mut unauthenticated = 0;
    for answer in &answers {
        match answer.status {
            401 => unauthenticated += 1,
            429 => {}
            other => panic!("{other}: {}", answer.text),
        }
    }
    let app_id = app.get("/v1/apps/acme", Some(&app.root_key)).await.body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let counter = |key: String| {
        let db = app.state.db.clone();
        async move {
            entity::auth_throttle::Entity::find_by_id(key)
                .one(&*db)
                .await
                .unwrap()
                .map(|row| row.failures)
        }
    };
    let account = format!("signin:account:{app_id}:race@example.com");
    assert_eq!(counter(account.clone()).await, Some(unauthenticated));
    assert!(unauthenticated >= 10, "{unauthenticated}");

    // A failure after the window has passed starts a new window at one.
    app.clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    app.signin("acme", "race@example.com", "guess guess guess")
        .await
        .error(401, "unauthenticated");
    assert_eq!(counter(account).await, Some(1));
}
