//! Multi-factor authentication (docs/src/mfa.md): TOTP codes computed here from the
//! enrolled secret (an independent RFC 6238 implementation on aws-lc-rs), WebAuthn
//! through a software authenticator (webauthn-authenticator-rs), recovery codes,
//! the policies, administration, and `amr`/`auth_time` in tokens checked with
//! jsonwebtoken.

use chrono::Duration;
use serde_json::{Value, json};
use webauthn_authenticator_rs::{WebauthnAuthenticator, softtoken::SoftToken};
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::helpers::{Resp, TestApp, spawn_app, spawn_app_with};
use crate::signing_keys::verify_with_jwks;

const PASSWORD: &str = "correct horse battery";

// ---------------------------------------------------------------------------------
// RFC 6238 in the test: HMAC-SHA-1, 6 digits, 30-second steps.

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("base32") as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn totp_at(secret: &str, unix: i64) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &base32_decode(secret));
    let counter = (unix / 30) as u64;
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[19] & 0x0f);
    let code = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    format!("{:06}", code % 1_000_000)
}

pub fn totp_now(app: &TestApp, secret: &str) -> String {
    totp_at(secret, app.state.now().timestamp())
}

/// Moves past the current 30-second step, so that the next code is a new one.
pub fn next_step(app: &TestApp) {
    app.clock.advance(Duration::seconds(30));
}

// ---------------------------------------------------------------------------------
// Helpers

async fn setup() -> TestApp {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", PASSWORD).await;
    app
}

/// An app whose public URL has a domain name (`localhost`): WebAuthn needs one.
async fn spawn_localhost() -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spawn_app_with(move |c| {
        c.bind = format!("127.0.0.1:{port}");
        c.public_url = Some(format!("http://localhost:{port}"));
    })
    .await
}

fn origin(app: &TestApp) -> url::Url {
    url::Url::parse(&format!("http://localhost:{}", app.port)).unwrap()
}

async fn password_token(app: &TestApp, email: &str) -> String {
    let resp = app.signin("acme", email, PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    resp.body["access_token"].as_str().unwrap().to_owned()
}

/// Enrols and confirms a TOTP factor with `token`; returns (factor id, secret,
/// the confirmation's body).
pub async fn enrol_totp(app: &TestApp, token: &str) -> (String, String, Value) {
    let resp = app
        .post(
            "/acme/v1/me/mfa/totp",
            Some(token),
            json!({ "name": "Phone" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let id = resp.body["id"].as_str().unwrap().to_owned();
    let secret = resp.body["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            &format!("/acme/v1/me/mfa/totp/{id}/confirm"),
            Some(token),
            json!({ "code": totp_now(app, &secret) }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    next_step(app);
    (id, secret, confirmed.body)
}

/// The first step of a sign-in that needs a second factor: the `mfa_token`.
async fn first_step(app: &TestApp, email: &str) -> (String, Value) {
    let resp = app.signin("acme", email, PASSWORD).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["mfa_required"], true, "{}", resp.text);
    assert!(resp.body.get("access_token").is_none(), "{}", resp.text);
    (
        resp.body["mfa_token"].as_str().unwrap().to_owned(),
        resp.body.clone(),
    )
}

async fn verify(app: &TestApp, mfa_token: &str, method: &str, proof: Value) -> Resp {
    let mut body = json!({ "mfa_token": mfa_token, "method": method });
    match method {
        "webauthn" => body["credential"] = proof,
        _ => body["code"] = proof,
    }
    app.post("/acme/v1/auth/mfa/verify", None, body).await
}

/// A full sign-in with TOTP; returns the token response.
async fn mfa_signin(app: &TestApp, email: &str, secret: &str) -> Value {
    let (mfa_token, _) = first_step(app, email).await;
    let resp = verify(app, &mfa_token, "totp", json!(totp_now(app, secret))).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    next_step(app);
    resp.body
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------
// TOTP

#[tokio::test]
async fn totp_enrolment_and_the_two_step_signin() {
    let app = setup().await;
    let token = password_token(&app, "alice@example.com").await;

    // Enrolment: pending until confirmed (not listed, not asked at sign-in).
    let resp = app
        .post("/acme/v1/me/mfa/totp", Some(&token), json!({}))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let id = resp.body["id"].as_str().unwrap().to_owned();
    let secret = resp.body["secret"].as_str().unwrap().to_owned();
    let uri = resp.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("issuer=acme"), "{uri}");
    assert!(
        resp.body["qr_svg"].as_str().unwrap().contains("<svg"),
        "{}",
        resp.text
    );
    let listed = app.get("/acme/v1/me/mfa", Some(&token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["factors"], json!([]));
    assert_eq!(
        app.signin("acme", "alice@example.com", PASSWORD).await.body["token_type"],
        "Bearer"
    );

    // A wrong code does not confirm; the right one does and hands out 10 codes once.
    let wrong = app
        .post(
            &format!("/acme/v1/me/mfa/totp/{id}/confirm"),
            Some(&token),
            json!({ "code": "000000" }),
        )
        .await;
    wrong.error(401, "invalid_code");
    let code = totp_now(&app, &secret);
    let confirmed = app
        .post(
            &format!("/acme/v1/me/mfa/totp/{id}/confirm"),
            Some(&token),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.body["type"], "totp");
    let codes = strings(&confirmed.body["recovery_codes"]);
    assert_eq!(codes.len(), 10);
    assert!(confirmed.body.get("secret").is_none());
    let listed = app.get("/acme/v1/me/mfa", Some(&token)).await;
    assert_eq!(listed.body["recovery_codes_remaining"], 10);
    let factors = listed.body["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0]["type"], "totp");
    assert_eq!(factors[0]["name"], "Authenticator app");
    assert!(factors[0].get("secret").is_none());
    assert_eq!(app.audit("mfa.enrolled").await.len(), 1);

    // Sign-in: the password step answers an mfa_token and no tokens.
    let (mfa_token, body) = first_step(&app, "alice@example.com").await;
    assert!(mfa_token.starts_with("hm_mfa_"), "{mfa_token}");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("enrollment_required").is_none());
    assert!(body.get("refresh_token").is_none());

    // The code that confirmed the factor was used in this step: refused (replay).
    let replayed = verify(&app, &mfa_token, "totp", json!(code)).await;
    replayed.error(401, "invalid_code");
    let failed = app.audit("mfa.challenge_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].metadata["method"], "totp");
    assert!(!failed[0].metadata.to_string().contains(&code));

    // The next step's code signs in; the mfa_token is then used up.
    next_step(&app);
    let fresh = totp_now(&app, &secret);
    let resp = verify(&app, &mfa_token, "totp", json!(fresh)).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.body["user"]["email"], "alice@example.com");
    let access = resp.body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&app, "acme", access).await.unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let auth_time = claims["auth_time"].as_i64().unwrap();
    assert!(
        (auth_time - app.state.now().timestamp()).abs() <= 2,
        "{claims}"
    );
    let reused = verify(&app, &mfa_token, "totp", json!(fresh)).await;
    reused.error(401, "invalid_mfa_token");

    // The same code is not accepted twice, even with a new mfa_token.
    let (again, _) = first_step(&app, "alice@example.com").await;
    verify(&app, &again, "totp", json!(fresh))
        .await
        .error(401, "invalid_code");

    // /me and introspection report how the session signed in.
    let me = app.get("/acme/v1/me", Some(access)).await;
    assert_eq!(me.body["data"]["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(me.body["data"]["auth_time"], auth_time);
    let introspected = app
        .post("/acme/v1/oauth/introspect", Some(access), json!({}))
        .await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.text);
    assert_eq!(introspected.body["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(introspected.body["auth_time"], auth_time);

    // A password-only token says so too.
    let claims = verify_with_jwks(&app, "acme", &token).await.unwrap();
    assert_eq!(claims["amr"], json!(["pwd"]));

    // The hm_mfa_ token is not a bearer anywhere else.
    app.get("/acme/v1/me", Some(&again))
        .await
        .error(401, "unauthenticated");
    app.get("/acme/v1/me/mfa", Some(&again))
        .await
        .error(401, "unauthenticated");

    // The seed is sealed at rest, never stored as the base32 secret.
    use sea_orm::EntityTrait;
    let stored = entity::mfa_factor::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|f| !f.secret.as_deref().unwrap_or_default().contains(&secret))
    );
    let hashes = entity::mfa_recovery_code::Entity::find()
        .all(&*app.state.db)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 10);
    assert!(
        hashes
            .iter()
            .all(|h| codes.iter().all(|c| !h.code_hash.contains(c.as_str())))
    );
}

#[tokio::test]
async fn wrong_codes_end_the_token_expired_tokens_fail_and_accounts_are_throttled() {
    let app = setup().await;
    let token = password_token(&app, "alice@example.com").await;
    let (_, secret, _) = enrol_totp(&app, &token).await;

    // Five wrong codes end the mfa_token: then even the right code is refused.
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    for _ in 0..5 {
        verify(&app, &mfa_token, "totp", json!("123456"))
            .await
            .error(401, "invalid_code");
    }
    verify(&app, &mfa_token, "totp", json!(totp_now(&app, &secret)))
        .await
        .error(401, "invalid_mfa_token");
    assert_eq!(app.audit("mfa.challenge_failed").await.len(), 5);

    // An mfa_token lives 300 seconds.
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    app.clock.advance(Duration::seconds(301));
    verify(&app, &mfa_token, "totp", json!(totp_now(&app, &secret)))
        .await
        .error(401, "invalid_mfa_token");

    // Failures count per account as for passwords: the tenth is the last.
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    for _ in 0..5 {
        verify(&app, &mfa_token, "totp", json!("654321"))
            .await
            .error(401, "invalid_code");
    }
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    let limited = verify(&app, &mfa_token, "totp", json!(totp_now(&app, &secret))).await;
    limited.error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());

    // Malformed input is a 400, never a 500.
    let resp = app
        .post(
            "/acme/v1/auth/mfa/verify",
            None,
            json!({ "mfa_token": mfa_token, "method": "sms", "code": "1" }),
        )
        .await;
    resp.error(400, "invalid_request");
    let resp = app
        .post(
            "/acme/v1/auth/mfa/verify",
            None,
            json!({ "mfa_token": "hm_mfa_\u{0}", "method": "totp", "code": "1" }),
        )
        .await;
    resp.error(401, "invalid_mfa_token");
}

#[tokio::test]
async fn recovery_codes_are_single_use_and_can_be_replaced() {
    let app = setup().await;
    let token = password_token(&app, "alice@example.com").await;
    let (_, secret, confirmed) = enrol_totp(&app, &token).await;
    let codes = strings(&confirmed["recovery_codes"]);

    // A recovery code signs in once (case and dashes do not matter).
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    let resp = verify(
        &app,
        &mfa_token,
        "recovery_code",
        json!(codes[0].to_uppercase().replace('-', " ")),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let used = app.audit("mfa.recovery_code_used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].metadata["remaining"], 9);
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    verify(&app, &mfa_token, "recovery_code", json!(codes[0]))
        .await
        .error(401, "invalid_code");

    // New codes need a recent sign-in with MFA; the old ones stop working.
    app.post("/acme/v1/me/mfa/recovery-codes", Some(&token), json!({}))
        .await
        .error(403, "reauthentication_required");
    let signed_in = mfa_signin(&app, "alice@example.com", &secret).await;
    let fresh_token = signed_in["access_token"].as_str().unwrap();
    let resp = app
        .post(
            "/acme/v1/me/mfa/recovery-codes",
            Some(fresh_token),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let new_codes = strings(&resp.body["recovery_codes"]);
    assert_eq!(new_codes.len(), 10);
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    verify(&app, &mfa_token, "recovery_code", json!(codes[1]))
        .await
        .error(401, "invalid_code");
    let resp = verify(&app, &mfa_token, "recovery_code", json!(new_codes[1])).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
}

#[tokio::test]
async fn removing_a_factor_needs_a_recent_mfa_signin_and_emits_webhook_events() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = setup().await;
    let resp = app
        .post(
            "/v1/apps/acme/webhooks",
            Some(&app.root_key),
            json!({
                "url": "http://127.0.0.1:9/hook",
                "events": ["user.mfa_enrolled", "user.mfa_removed"],
            }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let token = password_token(&app, "alice@example.com").await;
    let (id, secret, _) = enrol_totp(&app, &token).await;
    let events = |kind: &'static str| {
        let db = app.state.db.clone();
        async move {
            entity::webhook_event::Entity::find()
                .filter(entity::webhook_event::Column::EventType.eq(kind))
                .all(&*db)
                .await
                .unwrap()
        }
    };
    let enrolled = events("user.mfa_enrolled").await;
    assert_eq!(enrolled.len(), 1);
    let body: Value = serde_json::from_str(&enrolled[0].body).unwrap();
    assert_eq!(body["type"], "user.mfa_enrolled");
    assert_eq!(body["data"]["type"], "totp");
    assert!(body["data"]["user_id"].is_string(), "{body}");

    // A password-only session may not remove it; nor a sign-in with MFA 11 minutes ago.
    app.delete(&format!("/acme/v1/me/mfa/{id}"), Some(&token))
        .await
        .error(403, "reauthentication_required");
    let signed_in = mfa_signin(&app, "alice@example.com", &secret).await;
    app.clock.advance(Duration::minutes(11));
    let refreshed = app
        .post(
            "/acme/v1/auth/refresh",
            None,
            json!({ "refresh_token": signed_in["refresh_token"] }),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let later = refreshed.body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&app, "acme", later).await.unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    app.delete(&format!("/acme/v1/me/mfa/{id}"), Some(later))
        .await
        .error(403, "reauthentication_required");

    let signed_in = mfa_signin(&app, "alice@example.com", &secret).await;
    let fresh = signed_in["access_token"].as_str().unwrap();
    let resp = app
        .delete(&format!("/acme/v1/me/mfa/{id}"), Some(fresh))
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    assert_eq!(app.audit("mfa.removed").await.len(), 1);
    assert_eq!(events("user.mfa_removed").await.len(), 1);
    let listed = app.get("/acme/v1/me/mfa", Some(fresh)).await;
    assert_eq!(listed.body["factors"], json!([]));
    assert_eq!(listed.body["recovery_codes_remaining"], 0);
    // No factor left: the password alone signs in again.
    assert_eq!(
        app.signin("acme", "alice@example.com", PASSWORD).await.body["token_type"],
        "Bearer"
    );
}

#[tokio::test]
async fn factors_of_another_user_or_app_are_out_of_reach_and_admins_reset() {
    let app = setup().await;
    app.create_app("globex").await;
    app.signup("acme", "bob@example.com", PASSWORD).await;
    let globex = app.signup("globex", "alice@example.com", PASSWORD).await;
    let globex_token = globex["access_token"].as_str().unwrap();
    let alice = password_token(&app, "alice@example.com").await;
    let bob = password_token(&app, "bob@example.com").await;
    let (id, _, _) = enrol_totp(&app, &alice).await;

    // Bob cannot see, confirm or remove alice's factor.
    let pending = app
        .post("/acme/v1/me/mfa/totp", Some(&alice), json!({}))
        .await;
    let pending_id = pending.body["id"].as_str().unwrap();
    app.post(
        &format!("/acme/v1/me/mfa/totp/{pending_id}/confirm"),
        Some(&bob),
        json!({ "code": "123456" }),
    )
    .await
    .error(404, "not_found");
    app.delete(&format!("/acme/v1/me/mfa/{id}"), Some(&bob))
        .await
        .error(404, "not_found");
    assert_eq!(
        app.get("/acme/v1/me/mfa", Some(&bob)).await.body["factors"],
        json!([])
    );
    // Another app's token is no credential here; its user has no such factor.
    app.get("/acme/v1/me/mfa", Some(globex_token))
        .await
        .error(401, "unauthenticated");
    app.delete(&format!("/globex/v1/me/mfa/{id}"), Some(globex_token))
        .await
        .error(404, "not_found");

    // An mfa_token is bound to its app: another app's verify does not know it.
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    app.post(
        "/globex/v1/auth/mfa/verify",
        None,
        json!({ "mfa_token": mfa_token, "method": "recovery_code", "code": "x" }),
    )
    .await
    .error(401, "invalid_mfa_token");

    // Administrators list and reset (user.read / user.update).
    let alice_id = verify_with_jwks(&app, "acme", &alice).await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app
        .get(
            &format!("/v1/apps/acme/users/{alice_id}/mfa"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["factors"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["recovery_codes_remaining"], 10);
    let globex_pak = app.create_pak("globex").await;
    app.get(
        &format!("/v1/apps/acme/users/{alice_id}/mfa"),
        Some(&globex_pak),
    )
    .await
    .error(404, "not_found");
    app.get(&format!("/acme/v1/users/{alice_id}/mfa"), Some(&bob))
        .await
        .error(403, "forbidden");
    app.delete(&format!("/acme/v1/users/{alice_id}/mfa"), Some(&bob))
        .await
        .error(403, "forbidden");
    let resp = app
        .delete(
            &format!("/v1/apps/acme/users/{alice_id}/mfa"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    let reset = app.audit("mfa.reset").await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0].target_id.as_deref(), Some(alice_id.as_str()));
    let listed = app
        .get(
            &format!("/v1/apps/acme/users/{alice_id}/mfa"),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(listed.body["factors"], json!([]));
    assert_eq!(listed.body["recovery_codes_remaining"], 0);
    assert_eq!(
        app.signin("acme", "alice@example.com", PASSWORD).await.body["token_type"],
        "Bearer"
    );
}

#[tokio::test]
async fn required_policy_enrols_before_tokens_and_off_disables_mfa() {
    let app = setup().await;
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({ "settings": { "mfa_policy": "required" } }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["settings"]["mfa_policy"], "required");
    let bad = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({ "settings": { "mfa_policy": "sometimes" } }),
        )
        .await;
    bad.error(400, "invalid_request");

    // Without a factor: an enrolment-only mfa_token.
    let (mfa_token, body) = first_step(&app, "alice@example.com").await;
    assert_eq!(body["enrollment_required"], true);
    assert_eq!(body["methods"], json!([]));
    verify(&app, &mfa_token, "totp", json!("123456"))
        .await
        .error(401, "invalid_mfa_token");
    app.get("/acme/v1/me", Some(&mfa_token))
        .await
        .error(401, "unauthenticated");
    let listed = app.get("/acme/v1/me/mfa", Some(&mfa_token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let resp = app
        .post("/acme/v1/me/mfa/totp", Some(&mfa_token), json!({}))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let id = resp.body["id"].as_str().unwrap();
    let secret = resp.body["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post(
            &format!("/acme/v1/me/mfa/totp/{id}/confirm"),
            Some(&mfa_token),
            json!({ "code": totp_now(&app, &secret) }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(strings(&confirmed.body["recovery_codes"]).len(), 10);
    // Enrolling finished the sign-in.
    let access = confirmed.body["tokens"]["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(&app, "acme", access).await.unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    app.get("/acme/v1/me/mfa", Some(&mfa_token))
        .await
        .error(401, "unauthenticated");

    // Sign-up under `required` also starts with enrolment.
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({ "email": "carol@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["enrollment_required"], true);
    assert!(resp.body.get("access_token").is_none());
    assert_eq!(resp.body["user"]["email"], "carol@example.com");

    // `off`: no second step even with a factor, and no enrolment.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({ "settings": { "mfa_policy": "off" } }),
    )
    .await;
    let resp = app.signin("acme", "alice@example.com", PASSWORD).await;
    assert_eq!(resp.status, 200);
    let token = resp.body["access_token"].as_str().unwrap();
    app.post("/acme/v1/me/mfa/totp", Some(token), json!({}))
        .await
        .error(403, "mfa_disabled");
}

#[tokio::test]
async fn a_tenant_that_requires_mfa_admits_only_sessions_with_a_second_factor() {
    let app = setup().await;
    let resp = app
        .post(
            "/v1/apps/acme/tenants",
            Some(&app.root_key),
            json!({ "slug": "secure", "name": "Secure", "require_mfa": true }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["data"]["require_mfa"], true);
    let tenant = resp.body["data"]["id"].as_str().unwrap().to_owned();
    let open = app
        .post(
            "/v1/apps/acme/tenants",
            Some(&app.root_key),
            json!({ "slug": "open", "name": "Open" }),
        )
        .await;
    assert_eq!(open.body["data"]["require_mfa"], false);
    let token = password_token(&app, "alice@example.com").await;
    let alice_id = verify_with_jwks(&app, "acme", &token).await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post(
            &format!("/v1/apps/acme/tenants/{tenant}/members"),
            Some(&app.root_key),
            json!({ "user_id": alice_id, "role": "member" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);

    // A password-only session can neither sign in into it nor switch to it.
    let resp = app
        .post(
            "/acme/v1/auth/signin",
            None,
            json!({ "email": "alice@example.com", "password": PASSWORD, "tenant_id": tenant }),
        )
        .await;
    resp.error(403, "mfa_required");
    app.post(
        &format!("/acme/v1/me/tenants/{tenant}/switch"),
        Some(&token),
        json!({}),
    )
    .await
    .error(403, "mfa_required");

    // With a second factor both work.
    let (_, secret, _) = enrol_totp(&app, &token).await;
    let signed_in = mfa_signin(&app, "alice@example.com", &secret).await;
    let resp = app
        .post(
            &format!("/acme/v1/me/tenants/{tenant}/switch"),
            signed_in["access_token"].as_str(),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["org_id"], tenant.as_str());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let resp = app
        .post(
            "/acme/v1/auth/signin",
            None,
            json!({ "email": "alice@example.com", "password": PASSWORD, "tenant_id": tenant }),
        )
        .await;
    assert_eq!(resp.body["mfa_required"], true, "{}", resp.text);
    let resp = verify(
        &app,
        resp.body["mfa_token"].as_str().unwrap(),
        "totp",
        json!(totp_now(&app, &secret)),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["org_id"], tenant.as_str());
}

// ---------------------------------------------------------------------------------
// WebAuthn

/// Registers a soft authenticator's credential with `token`; returns the
/// authenticator, the finish response and the credential id.
async fn register_passkey(app: &TestApp, token: &str) -> (SoftToken, Resp, String) {
    let start = app
        .post(
            "/acme/v1/me/mfa/webauthn/register/start",
            Some(token),
            json!({ "name": "YubiKey" }),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.text);
    let public_key = &start.body["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(
        public_key["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({ "publicKey": public_key })).unwrap();
    let (mut authenticator, _) = SoftToken::new(true).unwrap();
    let credential = authenticator.do_registration(origin(app), options).unwrap();
    let credential_id = credential.id.clone();
    let finish = app
        .post(
            "/acme/v1/me/mfa/webauthn/register/finish",
            Some(token),
            json!({ "id": start.body["id"], "credential": credential }),
        )
        .await;
    (authenticator, finish, credential_id)
}

async fn assertion(app: &TestApp, authenticator: &mut SoftToken, options: &Value) -> Value {
    let options: RequestChallengeResponse =
        serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let credential = authenticator
        .do_authentication(origin(app), options)
        .unwrap();
    serde_json::to_value(credential).unwrap()
}

async fn webauthn_signin(app: &TestApp, authenticator: &mut SoftToken) -> Resp {
    let (mfa_token, body) = first_step(app, "alice@example.com").await;
    assert!(
        strings(&body["methods"]).contains(&"webauthn".to_owned()),
        "{body}"
    );
    let start = app
        .post(
            "/acme/v1/auth/mfa/webauthn/start",
            None,
            json!({ "mfa_token": mfa_token }),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.text);
    let credential = assertion(app, authenticator, &start.body["publicKey"]).await;
    verify(app, &mfa_token, "webauthn", credential).await
}

#[tokio::test]
async fn webauthn_as_second_factor_and_a_cloned_authenticator_is_refused() {
    let app = spawn_localhost().await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", PASSWORD).await;
    let token = password_token(&app, "alice@example.com").await;
    let (mut authenticator, finish, _) = register_passkey(&app, &token).await;
    assert_eq!(finish.status, 201, "{}", finish.text);
    assert_eq!(finish.body["type"], "webauthn");
    assert_eq!(finish.body["name"], "YubiKey");
    assert_eq!(strings(&finish.body["recovery_codes"]).len(), 10);
    // A copy of the authenticator as it is now (its counter at zero).
    let mut clone = SoftToken::from_cbor(&authenticator.to_cbor().unwrap()).unwrap();

    let resp = webauthn_signin(&app, &mut authenticator).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]));
    let resp = webauthn_signin(&app, &mut authenticator).await;
    assert_eq!(resp.status, 200, "{}", resp.text);

    // The clone's counter is behind the stored one: refused and audited.
    let resp = webauthn_signin(&app, &mut clone).await;
    resp.error(401, "invalid_code");
    let failed = app.audit("mfa.challenge_failed").await;
    assert_eq!(
        failed.last().unwrap().metadata["reason"],
        "counter_regression"
    );
    assert_eq!(failed.last().unwrap().metadata["method"], "webauthn");

    // A WebAuthn answer without the start step, or a garbage credential: 4xx.
    let (mfa_token, _) = first_step(&app, "alice@example.com").await;
    verify(&app, &mfa_token, "webauthn", json!({ "id": "x" }))
        .await
        .error(400, "invalid_request");
    app.post(
        "/acme/v1/auth/mfa/webauthn/start",
        None,
        json!({ "mfa_token": mfa_token }),
    )
    .await;
    verify(&app, &mfa_token, "webauthn", json!({ "id": "x" }))
        .await
        .error(400, "invalid_request");
}

#[tokio::test]
async fn passkeys_sign_in_without_a_password() {
    let app = spawn_localhost().await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", PASSWORD).await;
    let token = password_token(&app, "alice@example.com").await;
    let alice_id = verify_with_jwks(&app, "acme", &token).await.unwrap()["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut authenticator, finish, credential_id) = register_passkey(&app, &token).await;
    assert_eq!(finish.status, 201, "{}", finish.text);

    let passkey_signin = |mut options: Value| {
        // A discoverable credential: the authenticator finds its own credential
        // (this soft one needs it named) and sends the user handle.
        options["allowCredentials"] = json!([{ "type": "public-key", "id": credential_id }]);
        options
    };
    let start = app
        .post("/acme/v1/auth/passkey/start", None, json!({}))
        .await;
    assert_eq!(start.status, 200, "{}", start.text);
    assert_eq!(start.body["publicKey"]["allowCredentials"], json!([]));
    let options = passkey_signin(start.body["publicKey"].clone());
    let mut credential = assertion(&app, &mut authenticator, &options).await;
    let handle = uuid::Uuid::parse_str(&alice_id).unwrap();
    credential["response"]["userHandle"] = json!(base64_url(handle.as_bytes()));
    let resp = app
        .post(
            "/acme/v1/auth/passkey/finish",
            None,
            json!({ "id": start.body["id"], "credential": credential }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["email"], "alice@example.com");
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));
    assert_eq!(claims["sub"], alice_id.as_str());

    // Single use.
    let again = app
        .post(
            "/acme/v1/auth/passkey/finish",
            None,
            json!({ "id": start.body["id"], "credential": credential }),
        )
        .await;
    again.error(410, "gone");

    // Another user's handle on alice's credential is refused.
    let start = app
        .post("/acme/v1/auth/passkey/start", None, json!({}))
        .await;
    let options = passkey_signin(start.body["publicKey"].clone());
    let mut credential = assertion(&app, &mut authenticator, &options).await;
    credential["response"]["userHandle"] = json!(base64_url(uuid::Uuid::new_v4().as_bytes()));
    app.post(
        "/acme/v1/auth/passkey/finish",
        None,
        json!({ "id": start.body["id"], "credential": credential }),
    )
    .await
    .error(401, "invalid_code");

    // An IP public URL has no relying party id: a clear refusal, not a 500.
    let ip = setup().await;
    let token = password_token(&ip, "alice@example.com").await;
    ip.post(
        "/acme/v1/me/mfa/webauthn/register/start",
        Some(&token),
        json!({}),
    )
    .await
    .error(403, "webauthn_unavailable");
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// ---------------------------------------------------------------------------------
// GraphQL and OAuth

#[tokio::test]
async fn graphql_covers_the_users_and_the_admins_operations() {
    let app = setup().await;
    let token = password_token(&app, "alice@example.com").await;
    let resp = app
        .graphql(
            Some(&token),
            "mutation { enrollTotp(name: \"Phone\") { id secret otpauthUri qrSvg } }",
            json!({}),
        )
        .await;
    let enrolment = &resp.body["data"]["enrollTotp"];
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let resp = app
        .graphql(
            Some(&token),
            "mutation($id: ID!, $code: String!) { confirmTotp(id: $id, code: $code) { factor { id type name } recoveryCodes } }",
            json!({ "id": enrolment["id"], "code": totp_now(&app, &secret) }),
        )
        .await;
    let confirmed = &resp.body["data"]["confirmTotp"];
    assert_eq!(confirmed["factor"]["type"], "totp", "{}", resp.text);
    assert_eq!(confirmed["recoveryCodes"].as_array().unwrap().len(), 10);
    let factor_id = confirmed["factor"]["id"].as_str().unwrap().to_owned();
    let resp = app
        .graphql(
            Some(&token),
            "{ myMfaFactors { recoveryCodesRemaining factors { id name lastUsedAt } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["myMfaFactors"]["recoveryCodesRemaining"],
        10
    );
    let resp = app
        .graphql(
            Some(&token),
            "mutation($id: ID!) { removeMfaFactor(id: $id) }",
            json!({ "id": factor_id }),
        )
        .await;
    assert_eq!(
        resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&token),
            "mutation { regenerateRecoveryCodes }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let alice_id = verify_with_jwks(&app, "acme", &token).await.unwrap()["sub"].clone();
    let resp = app
        .graphql(
            Some(&app.root_key),
            "query($u: ID!) { userMfaFactors(app: \"acme\", userId: $u) { factors { type } } }",
            json!({ "u": alice_id }),
        )
        .await;
    assert_eq!(
        resp.body["data"]["userMfaFactors"]["factors"],
        json!([{ "type": "totp" }]),
        "{}",
        resp.text
    );
    let resp = app
        .graphql(
            Some(&token),
            "mutation($u: ID!) { resetUserMfa(app: \"acme\", userId: $u) }",
            json!({ "u": alice_id }),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation($u: ID!) { resetUserMfa(app: \"acme\", userId: $u) }",
            json!({ "u": alice_id }),
        )
        .await;
    assert_eq!(resp.body["data"]["resetUserMfa"], 1, "{}", resp.text);
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation { startWebauthnRegistration { id } }",
            json!({}),
        )
        .await;
    assert_eq!(resp.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The policy is an app setting over GraphQL as over REST.
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation { updateApp(name: \"acme\", input: { settings: { mfaPolicy: REQUIRED } }) { settings { mfaPolicy } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["updateApp"]["settings"]["mfaPolicy"], "REQUIRED",
        "{}",
        resp.text
    );
    let resp = app.get("/v1/apps/acme", Some(&app.root_key)).await;
    assert_eq!(resp.body["data"]["settings"]["mfa_policy"], "required");
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation { updateApp(name: \"acme\", input: { settings: { mfaPolicy: SOMETIMES } }) { id } }",
            json!({}),
        )
        .await;
    assert!(
        resp.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("SOMETIMES"),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn oauth_acr_values_and_max_age_ask_for_a_fresh_second_factor() {
    let app = setup().await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let client = crate::oauth::register(
        &app,
        &developer,
        json!({
            "name": "Planner",
            "redirect_uris": [crate::oauth::REDIRECT],
            "allowed_scopes": ["openid", "email"],
        }),
    )
    .await;
    let token = password_token(&app, "alice@example.com").await;
    let authorize = |extra: &str| {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", crate::oauth::REDIRECT)
            .append_pair("scope", "openid email")
            .append_pair("state", "s1")
            .finish();
        format!("/acme/v1/oauth/authorize?{query}{extra}")
    };
    // A password-only session does not satisfy acr_values=mfa.
    let resp = app.get(&authorize("&acr_values=mfa"), Some(&token)).await;
    let params = crate::oauth::location_params(&resp);
    assert_eq!(params["error"], "login_required", "{params:?}");
    assert_eq!(params["state"], "s1");
    // Nor a sign-in older than max_age.
    app.clock.advance(Duration::seconds(120));
    let resp = app.get(&authorize("&max_age=60"), Some(&token)).await;
    assert_eq!(
        crate::oauth::location_params(&resp)["error"],
        "login_required"
    );
    let resp = app.get(&authorize("&max_age=soon"), Some(&token)).await;
    assert_eq!(
        crate::oauth::location_params(&resp)["error"],
        "invalid_request"
    );

    // A browser is sent to sign in again, asked for the second factor.
    let resp = app
        .client
        .get(app.url(&authorize("&acr_values=mfa")))
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/acme/login?"), "{location}");
    assert!(location.contains("&mfa=1"), "{location}");

    // A session with MFA passes, and the ID token carries its amr.
    let (_, secret, _) = enrol_totp(&app, &token).await;
    let signed_in = mfa_signin(&app, "alice@example.com", &secret).await;
    let access = signed_in["access_token"].as_str().unwrap();
    let mut resp = app
        .get(&authorize("&acr_values=mfa&max_age=60"), Some(access))
        .await;
    if resp.status == 200 {
        // Consent for this third-party client, then the code.
        resp = app
            .post(
                "/acme/v1/oauth/authorize/consent",
                Some(access),
                json!({
                    "pending_authorization_id": resp.body["pending_authorization_id"],
                    "approved": true,
                }),
            )
            .await;
    }
    let params = crate::oauth::location_params(&resp);
    let code = params.get("code").unwrap_or_else(|| panic!("{params:?}"));
    let exchanged = crate::oauth::exchange(&app, &client, code, None).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    let id_token = exchanged.body["id_token"].as_str().unwrap();
    let claims = verify_with_jwks(&app, "acme", id_token).await.unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert!(claims["auth_time"].is_i64());
}

#[tokio::test]
async fn invites_respect_the_mfa_rules() {
    let app = setup().await;
    let tenant = app
        .post(
            "/v1/apps/acme/tenants",
            Some(&app.root_key),
            json!({ "slug": "secure", "name": "Secure", "require_mfa": true }),
        )
        .await
        .body["data"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite = |email: &'static str, tenant: Option<String>| {
        let app = &app;
        async move {
            let mut body = json!({ "email": email, "role": "member" });
            if let Some(tenant) = tenant {
                body["tenant_id"] = json!(tenant);
            }
            let resp = app
                .post("/v1/apps/acme/invites", Some(&app.root_key), body)
                .await;
            assert_eq!(resp.status, 201, "{}", resp.text);
            resp.body["data"]["token"].as_str().unwrap().to_owned()
        }
    };

    // Into a tenant that requires MFA: the account is created, a factor comes first.
    let token = invite("new@example.com", Some(tenant.clone())).await;
    let resp = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            None,
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["enrollment_required"], true);
    assert!(resp.body.get("access_token").is_none());
    assert_eq!(resp.body["user"]["email"], "new@example.com");
    let mfa_token = resp.body["mfa_token"].as_str().unwrap();
    let enrolled = app
        .post("/acme/v1/me/mfa/totp", Some(mfa_token), json!({}))
        .await;
    let secret = enrolled.body["secret"].as_str().unwrap();
    let confirmed = app
        .post(
            &format!(
                "/acme/v1/me/mfa/totp/{}/confirm",
                enrolled.body["id"].as_str().unwrap()
            ),
            Some(mfa_token),
            json!({ "code": totp_now(&app, secret) }),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let claims = verify_with_jwks(
        &app,
        "acme",
        confirmed.body["tokens"]["access_token"].as_str().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(claims["org_id"], tenant.as_str());
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));

    // An existing user joins with a bearer only if that session has a second factor.
    let alice = password_token(&app, "alice@example.com").await;
    let token = invite("alice@example.com", Some(tenant.clone())).await;
    app.post(
        &format!("/v1/invites/{token}/accept"),
        Some(&alice),
        json!({}),
    )
    .await
    .error(403, "mfa_required");

    // Under `required`, an invite into the app alone also enrols first.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({ "settings": { "mfa_policy": "required" } }),
    )
    .await;
    let token = invite("third@example.com", None).await;
    let resp = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            None,
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["enrollment_required"], true);
}

#[tokio::test]
async fn a_user_has_at_most_twenty_factors_and_names_are_checked() {
    let app = setup().await;
    let token = password_token(&app, "alice@example.com").await;
    app.post(
        "/acme/v1/me/mfa/totp",
        Some(&token),
        json!({ "name": "x".repeat(101) }),
    )
    .await
    .error(400, "invalid_request");
    app.post(
        "/acme/v1/me/mfa/totp",
        Some(&token),
        json!({ "name": "bad\u{0}name" }),
    )
    .await
    .error(400, "invalid_request");
    for _ in 0..20 {
        let resp = app
            .post("/acme/v1/me/mfa/totp", Some(&token), json!({}))
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
    }
    app.post("/acme/v1/me/mfa/totp", Some(&token), json!({}))
        .await
        .error(409, "conflict");
    // Malformed ids (no such factor) and bodies are 4xx.
    app.post(
        "/acme/v1/me/mfa/totp/not-a-uuid/confirm",
        Some(&token),
        json!({ "code": "1" }),
    )
    .await
    .error(404, "not_found");
    app.post(
        "/acme/v1/me/mfa/webauthn/register/finish",
        Some(&token),
        json!({ "id": uuid::Uuid::new_v4(), "credential": 1 }),
    )
    .await
    .error(400, "invalid_request");
}
