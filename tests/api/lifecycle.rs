//! Account lifecycle: password reset (minted and mailed), email verification,
//! invites (both lanes, tenants, bearer-join, caller-narrowing), Heimdall-sent mail
//! through a real SMTP server on loopback, the hosted pages and GraphQL.

use std::time::Duration;

use heimdall::config::Secret;
use serde_json::{Value, json};

use crate::{
    helpers::{Resp, TestApp, read, spawn_app, spawn_app_with},
    signing_keys::verify_with_jwks,
    smtp_sink::SmtpSink,
};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new passphrase";

/// A server that mails through a fresh sink.
async fn mail_app() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(Secret::new(url));
        c.smtp_from = Some("Acme Accounts <no-reply@acme.test>".into());
    })
    .await;
    app.create_app("acme").await;
    (app, sink)
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let resp = app
        .get(
            &format!("/v1/apps/acme/users?email={}", email.replace('@', "%40")),
            Some(&app.root_key),
        )
        .await;
    resp.body["data"][0]["id"].as_str().unwrap().to_owned()
}

/// GETs a hosted page; returns the response, the CSRF cookie and the form's field.
async fn get_form(app: &TestApp, url: &str) -> (Resp, String, String) {
    let resp = read(app.client.get(url).send().await.unwrap()).await;
    let cookie = resp
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let field = resp
        .text
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    (resp, cookie, field)
}

async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Resp {
    let mut request = app.client.post(app.url(path)).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    read(request.send().await.unwrap()).await
}

fn assert_page_headers(resp: &Resp) {
    let csp = resp.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(resp.header("x-frame-options"), Some("DENY"));
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

// ---------------------------------------------------------------------------------
// Password reset

#[tokio::test]
async fn forgot_password_mails_a_link_that_works_once_and_revokes_sessions() {
    let (app, sink) = mail_app().await;
    let signup = app.signup("acme", "alice@example.com", PW).await;
    let old_access = signup["access_token"].as_str().unwrap().to_owned();
    let old_refresh = signup["refresh_token"].as_str().unwrap().to_owned();
    let other = app.signin("acme", "alice@example.com", PW).await;
    let other_access = other.body["access_token"].as_str().unwrap().to_owned();

    let resp = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "  Alice@Example.com "}),
        )
        .await;
    assert_eq!(resp.status, 202, "{}", resp.text);

    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["alice@example.com"]);
    assert_eq!(mail.from, "no-reply@acme.test");
    assert_eq!(mail.subject(), "Reset your acme app password");
    let link = mail.link();
    assert!(
        link.starts_with(&format!(
            "{}/reset-password?token=hm_pr_",
            app.issuer("acme")
        )),
        "{link}"
    );
    let token = mail.token("hm_pr_");
    assert_eq!(token.len(), "hm_pr_".len() + 43);
    assert!(mail.decoded().contains("text/html"));

    // Policy applies; nothing is used up by a refused attempt.
    app.post(
        "/acme/v1/password/reset",
        None,
        json!({"token": token, "new_password": "short"}),
    )
    .await
    .error(400, "invalid_request");

    let resp = app
        .post(
            "/acme/v1/password/reset",
            None,
            json!({"token": token, "new_password": NEW_PW}),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);

    // Every session is gone.
    for access in [&old_access, &other_access] {
        app.get("/acme/v1/me", Some(access))
            .await
            .error(401, "unauthenticated");
    }
    app.post(
        "/acme/v1/auth/refresh",
        None,
        json!({"refresh_token": old_refresh}),
    )
    .await
    .error(401, "unauthenticated");
    app.signin("acme", "alice@example.com", PW)
        .await
        .error(401, "unauthenticated");
    assert_eq!(
        app.signin("acme", "alice@example.com", NEW_PW).await.status,
        200
    );

    // Used once.
    app.post(
        "/acme/v1/password/reset",
        None,
        json!({"token": token, "new_password": "yet another passphrase"}),
    )
    .await
    .error(410, "gone");

    let audit = app.audit("user.password_reset").await;
    assert_eq!(audit.len(), 1);
    assert!(!format!("{:?}", audit[0]).contains(&token));
    let revoked = app.audit("session.revoked").await;
    assert!(revoked.len() >= 2);
    assert!(
        revoked
            .iter()
            .all(|e| e.metadata["reason"] == "password_reset")
    );
    let requested = app.audit("password_reset.requested").await;
    assert_eq!(requested.len(), 1);
    assert!(!requested[0].metadata.to_string().contains("hm_pr_"));
}

#[tokio::test]
async fn forgot_password_does_not_enumerate() {
    let (app, sink) = mail_app().await;
    app.signup("acme", "alice@example.com", PW).await;

    for bad in [
        "not-an-email",
        "",
        "a@b\u{0}.com",
        "alice@example.com\r\nBcc: x@y.z",
    ] {
        app.post("/acme/v1/password/forgot", None, json!({"email": bad}))
            .await
            .error(400, "invalid_request");
    }
    let known = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "alice@example.com"}),
        )
        .await;
    let unknown = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!((known.status, unknown.status), (202, 202));
    assert_eq!(known.body, unknown.body);
    assert_eq!(known.text, unknown.text);

    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["alice@example.com"]);
    sink.assert_count_stays(1, Duration::from_millis(500)).await;

    // Timing: both answers come before any lookup; compare medians of a few rounds.
    let mut known_ms = Vec::new();
    let mut unknown_ms = Vec::new();
    for i in 0..5 {
        for (email, times) in [
            ("alice@example.com", &mut known_ms),
            (&*format!("nobody{i}@example.com"), &mut unknown_ms),
        ] {
            let start = std::time::Instant::now();
            let resp = app
                .post("/acme/v1/password/forgot", None, json!({"email": email}))
                .await;
            assert_eq!(resp.status, 202);
            times.push(start.elapsed().as_millis());
        }
    }
    known_ms.sort();
    unknown_ms.sort();
    let (k, u) = (known_ms[2], unknown_ms[2]);
    assert!(k.abs_diff(u) < 100, "median known {k} ms vs unknown {u} ms");
    // Six requests for the account, five mails: at most five an hour.
    sink.wait_for(5).await;
    sink.assert_count_stays(5, Duration::from_millis(500)).await;
    assert!(
        sink.messages()
            .iter()
            .all(|m| m.to == ["alice@example.com"])
    );
}

#[tokio::test]
async fn forgot_password_without_smtp_is_accepted_and_sends_nothing() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", PW).await;
    let resp = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(resp.status, 202, "{}", resp.text);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.audit("password_reset.requested").await.is_empty());
    // Verification resend needs SMTP.
    let token = app.signin("acme", "alice@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/acme/v1/email/verification/resend",
        Some(&token),
        json!({}),
    )
    .await
    .error(403, "mail_not_configured");
}

#[tokio::test]
async fn minted_reset_tokens_expire_and_are_replaced() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.create_app("globex").await;
    let pak = app.create_pak("acme").await;
    app.signup("acme", "alice@example.com", PW).await;

    let mint = |email: &'static str| {
        let app = &app;
        let pak = pak.clone();
        async move {
            app.post(
                "/v1/apps/acme/password-resets",
                Some(&pak),
                json!({"email": email}),
            )
            .await
        }
    };
    let first = mint("alice@example.com").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let first_token = first.body["data"]["token"].as_str().unwrap().to_owned();
    assert!(first_token.starts_with("hm_pr_"));
    assert_eq!(
        first.body["data"]["user_id"],
        json!(user_id(&app, "alice@example.com").await)
    );
    assert!(first.body["data"]["expires_at"].is_string());
    mint("nobody@example.com").await.error(404, "not_found");
    mint("not an email").await.error(400, "invalid_request");

    // Another app's key, and end users, cannot mint here.
    let other_pak = app.create_pak("globex").await;
    app.post(
        "/v1/apps/acme/password-resets",
        Some(&other_pak),
        json!({"email": "alice@example.com"}),
    )
    .await
    .error(404, "not_found");

    let second = mint("alice@example.com").await;
    let second_token = second.body["data"]["token"].as_str().unwrap().to_owned();
    let reset = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/acme/v1/password/reset",
                None,
                json!({"token": token, "new_password": NEW_PW}),
            )
            .await
        }
    };
    reset(first_token).await.error(410, "gone");
    reset("hm_pr_nonsense".into())
        .await
        .error(400, "invalid_request");
    reset("something else".into())
        .await
        .error(400, "invalid_request");
    // A token of one app is nothing in another.
    let resp = app
        .post(
            "/globex/v1/password/reset",
            None,
            json!({"token": second_token, "new_password": NEW_PW}),
        )
        .await;
    resp.error(400, "invalid_request");

    app.clock.advance(chrono::Duration::minutes(61));
    reset(second_token).await.error(410, "gone");
    let third = mint("alice@example.com").await;
    let third_token = third.body["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(reset(third_token).await.status, 204);
    assert_eq!(
        app.signin("acme", "alice@example.com", NEW_PW).await.status,
        200
    );
}

// ---------------------------------------------------------------------------------
// Email verification

#[tokio::test]
async fn email_verification_mint_consume_expiry_and_email_change() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    app.signup("acme", "alice@example.com", PW).await;
    let id = user_id(&app, "alice@example.com").await;
    let mint = || async {
        app.post(
            &format!("/v1/apps/acme/users/{id}/email-verification"),
            Some(&pak),
            json!({}),
        )
        .await
    };
    let verify = |token: String| {
        let app = &app;
        async move {
            app.post("/acme/v1/email/verify", None, json!({"token": token}))
                .await
        }
    };

    // Expiry (default 24 h).
    let expired = mint().await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(expired.starts_with("hm_ev_"));
    app.clock.advance(chrono::Duration::hours(25));
    verify(expired).await.error(410, "gone");

    // A changed email invalidates tokens minted for the old one.
    let stale = mint().await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .patch(
            &format!("/v1/apps/acme/users/{id}"),
            Some(&pak),
            json!({"email": "alice@new.example.com"}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    verify(stale).await.error(410, "gone");

    let token = mint().await.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = verify(token.clone()).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["data"]["email_verified"], true);
    assert_eq!(resp.body["data"]["email"], "alice@new.example.com");
    verify(token).await.error(410, "gone");
    mint().await.error(409, "conflict");
    mint_unknown(&app, &pak).await;
    assert_eq!(app.audit("user.email_verified").await.len(), 1);
}

async fn mint_unknown(app: &TestApp, pak: &str) {
    app.post(
        &format!(
            "/v1/apps/acme/users/{}/email-verification",
            uuid::Uuid::new_v4()
        ),
        Some(pak),
        json!({}),
    )
    .await
    .error(404, "not_found");
}

#[tokio::test]
async fn signup_mails_verification_when_required_and_hosted_page_verifies() {
    let (app, sink) = mail_app().await;
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"require_verified_email": true}}),
    )
    .await;
    let resp = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "bob@example.com", "password": PW, "display_name": "Bob <b>"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["email_verification_required"], true);
    app.signin("acme", "bob@example.com", PW)
        .await
        .error(403, "email_not_verified");

    let mails = sink.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.subject(), "Verify your email for acme app");
    assert!(mail.decoded().contains("Hi Bob <b>,"), "text part");
    assert!(
        mail.decoded().contains("Hi Bob &lt;b&gt;,"),
        "html part escaped"
    );
    let link = mail.link();
    assert!(link.contains("/acme/verify-email?token=hm_ev_"), "{link}");

    // The page shows a button; GET changes nothing.
    let (page, cookie, csrf) = get_form(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(cookie.starts_with("heimdall_csrf="), "{cookie}");
    let set_cookie = page.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
    assert!(set_cookie.contains("Path=/acme"));
    assert!(!set_cookie.contains("Secure"), "http public URL");
    assert_eq!(app.signin("acme", "bob@example.com", PW).await.status, 403);

    let token = mail.token("hm_ev_");
    // Without the CSRF cookie/field: 403 page, nothing changes.
    let refused = post_form(
        &app,
        "/acme/verify-email",
        None,
        &[("token", &token), ("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_page_headers(&refused);
    let refused = post_form(
        &app,
        "/acme/verify-email",
        Some(&cookie),
        &[("token", &token), ("csrf_token", "forged")],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.signin("acme", "bob@example.com", PW).await.status, 403);
    // Not a form: 415.
    let resp = app
        .post("/acme/verify-email", None, json!({"token": token}))
        .await;
    resp.error(415, "unsupported_media_type");

    let done = post_form(
        &app,
        "/acme/verify-email",
        Some(&cookie),
        &[("token", &token), ("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("verified"));
    assert_eq!(app.signin("acme", "bob@example.com", PW).await.status, 200);
    // Used once: the page and the API say gone.
    let again = post_form(
        &app,
        "/acme/verify-email",
        Some(&cookie),
        &[("token", &token), ("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(again.status, 410);
    let (page, _, _) = get_form(&app, &link).await;
    assert_eq!(page.status, 410);
    app.post("/acme/v1/email/verify", None, json!({"token": token}))
        .await
        .error(410, "gone");
}

#[tokio::test]
async fn resend_verification_for_a_signed_in_user() {
    let (app, sink) = mail_app().await;
    let token = app.signup("acme", "carol@example.com", PW).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post(
            "/acme/v1/email/verification/resend",
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 202, "{}", resp.text);
    app.post("/acme/v1/email/verification/resend", None, json!({}))
        .await
        .error(401, "unauthenticated");
    let mail = &sink.wait_for(1).await[0];
    let ev = mail.token("hm_ev_");
    let resp = app
        .post("/acme/v1/email/verify", None, json!({"token": ev}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    app.post(
        "/acme/v1/email/verification/resend",
        Some(&token),
        json!({}),
    )
    .await
    .error(409, "conflict");
}

// ---------------------------------------------------------------------------------
// Mail delivery

#[tokio::test]
async fn failed_sends_are_retried_audited_and_never_break_the_request() {
    let (app, sink) = mail_app().await;
    app.signup("acme", "dave@example.com", PW).await;
    sink.refuse_next(1);
    let resp = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "dave@example.com"}),
        )
        .await;
    assert_eq!(resp.status, 202);
    // The first attempt fails and is audited (without the message).
    let mut failures = Vec::new();
    for _ in 0..100 {
        failures = app.audit("mail.send_failed").await;
        if !failures.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failures.len(), 1, "a failed attempt is audited");
    let text = failures[0].metadata.to_string();
    assert!(text.contains("451"), "{text}");
    assert!(!text.contains("hm_pr_"), "{text}");
    assert!(sink.messages().is_empty());

    // The retry comes after the backoff.
    app.clock.advance(chrono::Duration::seconds(31));
    app.state.mail.wake();
    let mails = sink.wait_for(1).await;
    let token = mails[0].token("hm_pr_");
    let resp = app
        .post(
            "/acme/v1/password/reset",
            None,
            json!({"token": token, "new_password": NEW_PW}),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
    // Delivered mail no longer holds the message (recorded just after the SMTP reply).
    use sea_orm::EntityTrait;
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = entity::mail_outbox::Entity::find()
            .all(&*app.state.db)
            .await
            .unwrap();
        if rows.iter().all(|r| r.status == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "sent");
    assert_eq!(rows[0].attempts, 2);
    assert!(rows[0].payload.is_empty());
}

#[tokio::test]
async fn templates_and_link_templates_are_per_app() {
    let (app, sink) = mail_app().await;
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {
                "password_reset_url_template": "https://app.acme.example/reset?t={token}",
                "mail_templates": {"password_reset": {
                    "subject": "{{app_name}}: new password for {{display_name}}",
                    "text": "Go to {{link}} now."
                }}
            }}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    // Merging keeps the other parts.
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"mail_templates": {"invite": {"subject": "Join {{app_name}}"}}}}),
        )
        .await;
    assert_eq!(
        resp.body["data"]["settings"]["mail_templates"]["password_reset"]["text"],
        "Go to {{link}} now."
    );
    for bad in [
        json!({"mail_templates": {"password_reset": {"text": "no link here"}}}),
        json!({"mail_templates": {"nope": {}}}),
        json!({"mail_templates": {"invite": {"body": "{{link}}"}}}),
        json!({"mail_templates": "plain"}),
        json!({"mail_templates": {"invite": {"subject": "a\r\nBcc: x@y.z"}}}),
        json!({"password_reset_url_template": "https://x/reset"}),
        json!({"password_reset_ttl": 5}),
    ] {
        app.patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": bad}),
        )
        .await
        .error(400, "invalid_request");
    }

    app.post(
        "/acme/v1/auth/signup",
        None,
        json!({"email": "erin@example.com", "password": PW, "display_name": "Erin"}),
    )
    .await;
    app.post(
        "/acme/v1/password/forgot",
        None,
        json!({"email": "erin@example.com"}),
    )
    .await;
    let mail = &sink.wait_for(1).await[0];
    assert_eq!(mail.subject(), "acme app: new password for Erin");
    let decoded = mail.decoded();
    assert!(
        decoded.contains("Go to https://app.acme.example/reset?t=hm_pr_"),
        "{decoded}"
    );
}

// ---------------------------------------------------------------------------------
// Invites

async fn invite_setup() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_app("acme").await;
    app.sync_roles(
        "acme",
        json!([
            {"name": "editor", "permissions": ["post.read", "post.write"]},
            {"name": "inviter", "permissions": ["user.invite", "post.read"]},
            {"name": "org-admin", "permissions": ["tenant.manage", "invoice.read"]},
        ]),
    )
    .await;
    let pak = app.create_pak("acme").await;
    (app, pak)
}

async fn create_tenant(app: &TestApp, slug: &str) -> String {
    let resp = app
        .post(
            "/v1/apps/acme/tenants",
            Some(&app.root_key),
            json!({"slug": slug, "name": slug}),
        )
        .await;
    resp.body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn invite_accept_creates_a_verified_user_with_the_role() {
    let (app, pak) = invite_setup().await;
    let resp = app
        .post(
            "/v1/apps/acme/invites",
            Some(&pak),
            json!({"email": "Bob@Contractor.io", "role": "editor", "expires_in_hours": 72, "max_uses": 1}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let data = &resp.body["data"];
    let token = data["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hm_inv_"));
    assert_eq!(data["email"], "bob@contractor.io");
    assert_eq!(data["status"], "pending");
    assert_eq!(
        data["invite_url"],
        format!("{}/accept-invite?token={token}", app.issuer("acme"))
    );
    let id = data["id"].as_str().unwrap().to_owned();

    let list = app.get("/v1/apps/acme/invites", Some(&pak)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["data"][0]["id"], json!(id));
    assert!(!list.text.contains("hm_inv_"), "{}", list.text);
    let one = app
        .get(&format!("/v1/apps/acme/invites/{id}"), Some(&pak))
        .await;
    assert_eq!(one.body["data"]["role"], "editor");

    let accept = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.post(&format!("/v1/invites/{token}/accept"), None, body)
                .await
        }
    };
    accept(json!({"display_name": "Bob Martinez"}))
        .await
        .error(400, "invalid_request");
    accept(json!({"password": "short"}))
        .await
        .error(400, "invalid_request");
    let resp = accept(json!({"display_name": "Bob Martinez", "password": PW})).await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(resp.body["user"]["email"], "bob@contractor.io");
    assert_eq!(resp.body["user"]["email_verified"], true);
    assert_eq!(resp.body["user"]["role"], "editor");
    assert_eq!(resp.body["user"]["display_name"], "Bob Martinez");
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["role"], "editor");
    assert!(claims.get("org_id").is_none());
    assert_eq!(
        app.signin("acme", "bob@contractor.io", PW).await.status,
        200
    );

    accept(json!({"password": PW})).await.error(410, "gone");
    let one = app
        .get(&format!("/v1/apps/acme/invites/{id}"), Some(&pak))
        .await;
    assert_eq!(one.body["data"]["status"], "accepted");
    assert_eq!(one.body["data"]["uses"], 1);
    let created = app.audit("invite.created").await;
    let accepted = app.audit("invite.accepted").await;
    assert_eq!((created.len(), accepted.len()), (1, 1));
    assert!(!format!("{created:?}{accepted:?}").contains("hm_inv_"));
}

#[tokio::test]
async fn invite_rules_expiry_revocation_and_validation() {
    let (app, pak) = invite_setup().await;
    app.signup("acme", "taken@example.com", PW).await;
    let create = |body: Value| {
        let app = &app;
        let pak = pak.clone();
        async move { app.post("/v1/apps/acme/invites", Some(&pak), body).await }
    };
    create(json!({"email": "x@example.com", "role": "ghost"}))
        .await
        .error(400, "invalid_request");
    create(json!({"email": "nope", "role": "editor"}))
        .await
        .error(400, "invalid_request");
    create(json!({"email": "x@example.com", "role": "editor", "expires_in_hours": 0}))
        .await
        .error(400, "invalid_request");
    create(json!({"email": "x@example.com", "role": "editor", "max_uses": 0}))
        .await
        .error(400, "invalid_request");
    create(json!({"email": "x@example.com", "role": "editor", "send_email": true}))
        .await
        .error(400, "invalid_request");
    create(json!({"email": "taken@example.com", "role": "editor"}))
        .await
        .error(409, "conflict");
    create(json!({"email": "x@example.com", "role": "editor", "tenant_id": uuid::Uuid::new_v4()}))
        .await
        .error(400, "invalid_request");

    let accept = |token: String| {
        let app = &app;
        async move {
            app.post(
                &format!("/v1/invites/{token}/accept"),
                None,
                json!({"password": PW}),
            )
            .await
        }
    };
    accept("hm_inv_unknown".into())
        .await
        .error(404, "not_found");

    // Expired.
    let expiring =
        create(json!({"email": "late@example.com", "role": "editor", "expires_in_hours": 1})).await;
    let expiring = expiring.body["data"]["token"].as_str().unwrap().to_owned();
    // Revoked.
    let revoked = create(json!({"email": "gone@example.com", "role": "editor"})).await;
    let revoked_id = revoked.body["data"]["id"].as_str().unwrap().to_owned();
    let revoked = revoked.body["data"]["token"].as_str().unwrap().to_owned();
    let resp = app
        .delete(&format!("/v1/apps/acme/invites/{revoked_id}"), Some(&pak))
        .await;
    assert_eq!(resp.status, 204);
    accept(revoked).await.error(410, "gone");
    assert_eq!(app.audit("invite.revoked").await.len(), 1);
    app.clock.advance(chrono::Duration::minutes(61));
    accept(expiring).await.error(410, "gone");

    // The invited email got taken meanwhile: 409, the invite stays usable.
    let racing = create(json!({"email": "race@example.com", "role": "editor"})).await;
    let racing = racing.body["data"]["token"].as_str().unwrap().to_owned();
    app.signup("acme", "race@example.com", PW).await;
    accept(racing).await.error(409, "conflict");

    // A custom invite URL.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"invite_url_template": "https://app.acme.example/join?token={token}"}}),
    )
    .await;
    let resp = create(json!({"email": "url@example.com", "role": "editor"})).await;
    let token = resp.body["data"]["token"].as_str().unwrap();
    assert_eq!(
        resp.body["data"]["invite_url"],
        format!("https://app.acme.example/join?token={token}")
    );
}

#[tokio::test]
async fn invite_into_a_tenant_and_join_with_a_bearer() {
    let (app, pak) = invite_setup().await;
    let tenant = create_tenant(&app, "acme-corp").await;
    let invite = |email: &'static str| {
        let app = &app;
        let (pak, tenant) = (pak.clone(), tenant.clone());
        async move {
            let resp = app
                .post(
                    "/v1/apps/acme/invites",
                    Some(&pak),
                    json!({"email": email, "role": "org-admin", "tenant_id": tenant}),
                )
                .await;
            assert_eq!(resp.status, 201, "{}", resp.text);
            resp.body["data"]["token"].as_str().unwrap().to_owned()
        }
    };

    // A new user: member of the app, org-admin in the tenant, signed into it.
    let token = invite("new@example.com").await;
    let resp = app
        .post(
            &format!("/v1/invites/{token}/accept"),
            None,
            json!({"password": PW}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert_eq!(resp.body["user"]["role"], "member");
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["org_id"], json!(tenant));
    assert_eq!(claims["org_role"], "org-admin");

    // An existing user: 409 without a bearer, joins with their own.
    let existing = app.signup("acme", "old@example.com", PW).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let stranger = app.signup("acme", "stranger@example.com", PW).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = invite("old@example.com").await;
    let path = format!("/v1/invites/{token}/accept");
    app.post(&path, None, json!({"password": PW}))
        .await
        .error(409, "conflict");
    app.post(&path, Some(&stranger), json!({}))
        .await
        .error(403, "forbidden");
    let resp = app.post(&path, Some(&existing), json!({})).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.body["user"]["email"], "old@example.com");
    let claims = verify_with_jwks(&app, "acme", resp.body["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(claims["org_role"], "org-admin");
    let tenants = app.get("/acme/v1/me/tenants", Some(&existing)).await;
    assert_eq!(tenants.body["data"][0]["role"], "org-admin");
    app.post(&path, Some(&existing), json!({}))
        .await
        .error(410, "gone");
    // Already a member: a new invite is refused up front.
    app.post(
        "/v1/apps/acme/invites",
        Some(&pak),
        json!({"email": "old@example.com", "role": "org-admin", "tenant_id": tenant}),
    )
    .await
    .error(409, "conflict");
    assert_eq!(app.audit("tenant.member_added").await.len(), 2);
}

#[tokio::test]
async fn consumer_lane_invites_are_narrowed() {
    let (app, _pak) = invite_setup().await;
    let inviter = app
        .user_token("acme", "inviter@example.com", "inviter")
        .await;
    let member = app.user_token("acme", "member@example.com", "member").await;

    let resp = app
        .post(
            "/acme/v1/invites",
            Some(&member),
            json!({"email": "x@example.com", "role": "member"}),
        )
        .await;
    let error = resp.error(403, "forbidden");
    assert_eq!(error["details"]["missing"], json!(["user.invite"]));

    let resp = app
        .post(
            "/acme/v1/invites",
            Some(&inviter),
            json!({"email": "x@example.com", "role": "editor"}),
        )
        .await;
    let error = resp.error(403, "forbidden");
    assert_eq!(error["details"]["missing"], json!(["post.write"]));

    let resp = app
        .post(
            "/acme/v1/invites",
            Some(&inviter),
            json!({"email": "x@example.com", "role": "inviter"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert!(
        resp.body["_links"]["self"]
            .as_str()
            .unwrap()
            .starts_with("/acme/v1/invites/")
    );
    let created = app.audit("invite.created").await;
    assert_eq!(created[0].actor_type, "end_user");
    let list = app.get("/acme/v1/invites", Some(&inviter)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    app.get("/acme/v1/invites", Some(&member))
        .await
        .error(403, "forbidden");
    let id = resp.body["data"]["id"].as_str().unwrap();
    let resp = app
        .delete(&format!("/acme/v1/invites/{id}"), Some(&inviter))
        .await;
    assert_eq!(resp.status, 204);
}

#[tokio::test]
async fn hosted_invite_page_and_mailed_invites() {
    let (app, sink) = mail_app().await;
    app.sync_roles(
        "acme",
        json!([{"name": "editor", "permissions": ["post.write"]}]),
    )
    .await;
    let resp = app
        .post(
            "/v1/apps/acme/invites",
            Some(&app.root_key),
            json!({"email": "frank@example.com", "role": "editor", "send_email": true}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let mail = &sink.wait_for(1).await[0];
    assert_eq!(mail.to, vec!["frank@example.com"]);
    assert_eq!(mail.subject(), "You have been invited to acme app");
    let link = mail.link();
    assert_eq!(link, resp.body["data"]["invite_url"].as_str().unwrap());

    let (page, cookie, csrf) = get_form(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(page.text.contains("frank@example.com"));
    let token = mail.token("hm_inv_");
    let mismatch = post_form(
        &app,
        "/acme/accept-invite",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("password", PW),
            ("confirm_password", "other password!"),
        ],
    )
    .await;
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.text.contains("not the same"));
    let done = post_form(
        &app,
        "/acme/accept-invite",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("display_name", "Frank"),
            ("password", PW),
            ("confirm_password", PW),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let signin = app.signin("acme", "frank@example.com", PW).await;
    assert_eq!(signin.body["user"]["role"], "editor");
    let (page, _, _) = get_form(&app, &link).await;
    assert_eq!(page.status, 410);
}

#[tokio::test]
async fn hosted_reset_page_with_csrf() {
    let (app, sink) = mail_app().await;
    app.signup("acme", "gina@example.com", PW).await;
    app.post(
        "/acme/v1/password/forgot",
        None,
        json!({"email": "gina@example.com"}),
    )
    .await;
    let mail = &sink.wait_for(1).await[0];
    let link = mail.link();
    let token = mail.token("hm_pr_");
    let (page, cookie, csrf) = get_form(&app, &link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(page.text.contains("autocomplete=\"new-password\""));

    let forged = post_form(
        &app,
        "/acme/reset-password",
        Some(&cookie),
        &[("token", &token), ("new_password", NEW_PW)],
    )
    .await;
    assert_eq!(forged.status, 403);
    let short = post_form(
        &app,
        "/acme/reset-password",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, 400);
    assert!(
        short.text.contains("at least 10 characters"),
        "{}",
        short.text
    );
    assert_eq!(app.signin("acme", "gina@example.com", PW).await.status, 200);

    let done = post_form(
        &app,
        "/acme/reset-password",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("new_password", NEW_PW),
            ("confirm_password", NEW_PW),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(
        app.signin("acme", "gina@example.com", NEW_PW).await.status,
        200
    );
    let again = post_form(
        &app,
        "/acme/reset-password",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("token", &token),
            ("new_password", NEW_PW),
        ],
    )
    .await;
    assert_eq!(again.status, 410);
    // The form extractor: wrong type 415, oversized 413, malformed 400.
    app.post("/acme/reset-password", None, json!({"token": token}))
        .await
        .error(415, "unsupported_media_type");
    let form = "application/x-www-form-urlencoded";
    let huge = format!("token={}", "a".repeat(2 * 1024 * 1024)).into_bytes();
    app.send_raw(
        reqwest::Method::POST,
        "/acme/reset-password",
        None,
        Some(form),
        huge,
    )
    .await
    .error(413, "payload_too_large");
    app.send_raw(
        reqwest::Method::POST,
        "/acme/reset-password",
        None,
        Some(form),
        b"csrf_token=x".to_vec(),
    )
    .await
    .error(400, "invalid_request");
    // Malformed and unknown.
    let (missing, _, _) = get_form(&app, &app.url("/acme/reset-password")).await;
    assert_eq!(missing.status, 400);
    let (unknown, _, _) = get_form(&app, &app.url("/nope/reset-password?token=x")).await;
    assert_eq!(unknown.status, 404);
}

// ---------------------------------------------------------------------------------
// GraphQL

#[tokio::test]
async fn graphql_invites() {
    let (app, pak) = invite_setup().await;
    let created = app
        .graphql(
            Some(&pak),
            r#"mutation($input: CreateInviteInput!) {
                createInvite(input: $input) { token inviteUrl invite { id email role status maxUses } }
            }"#,
            json!({"input": {"email": "hank@example.com", "role": "editor"}}),
        )
        .await;
    assert!(created.body["errors"].is_null(), "{}", created.text);
    let data = &created.body["data"]["createInvite"];
    let token = data["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("hm_inv_"));
    assert_eq!(data["invite"]["status"], "pending");

    let listed = app
        .graphql(
            Some(&pak),
            "{ invites(first: 10) { edges { node { id email status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.body["data"]["invites"]["edges"][0]["node"]["email"],
        "hank@example.com"
    );

    let accepted = app
        .graphql(
            None,
            r#"mutation($t: String!) { acceptInvite(token: $t, displayName: "Hank", password: "correct horse battery") { accessToken user { email emailVerified role { name } } } }"#,
            json!({"t": token}),
        )
        .await;
    assert!(accepted.body["errors"].is_null(), "{}", accepted.text);
    assert_eq!(
        accepted.body["data"]["acceptInvite"]["user"]["role"]["name"],
        "editor"
    );
    let again = app
        .graphql(
            None,
            r#"mutation($t: String!) { acceptInvite(token: $t, password: "correct horse battery") { accessToken } }"#,
            json!({"t": token}),
        )
        .await;
    assert_eq!(again.body["errors"][0]["extensions"]["code"], "GONE");

    // Revoke, then accept is gone; an end user without user.invite is refused.
    let second = app
        .graphql(
            Some(&pak),
            r#"mutation { createInvite(input: {email: "ivy@example.com", role: "member"}) { token invite { id } } }"#,
            json!({}),
        )
        .await;
    let id = second.body["data"]["createInvite"]["invite"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = second.body["data"]["createInvite"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .graphql(
            Some(&pak),
            "mutation($id: ID!) { revokeInvite(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(revoked.body["data"]["revokeInvite"]["status"], "revoked");
    let gone = app
        .graphql(
            None,
            r#"mutation($t: String!) { acceptInvite(token: $t, password: "correct horse battery") { accessToken } }"#,
            json!({"t": token}),
        )
        .await;
    assert_eq!(gone.body["errors"][0]["extensions"]["code"], "GONE");

    let member = app.user_token("acme", "member@example.com", "member").await;
    let refused = app
        .graphql(
            Some(&member),
            r#"mutation { createInvite(input: {email: "j@example.com", role: "member"}) { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["missing"],
        json!(["user.invite"])
    );
}

#[tokio::test]
async fn graphql_verification_and_reset() {
    let app = spawn_app().await;
    app.create_app("acme").await;
    let pak = app.create_pak("acme").await;
    app.signup("acme", "kim@example.com", PW).await;
    let id = user_id(&app, "kim@example.com").await;
    let minted = app
        .graphql(
            Some(&pak),
            "mutation($id: ID!) { createEmailVerificationToken(userId: $id) { token expiresAt } }",
            json!({"id": id}),
        )
        .await;
    let token = minted.body["data"]["createEmailVerificationToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = app
        .graphql(
            None,
            r#"mutation($t: String!) { verifyEmail(app: "acme", token: $t) { emailVerified } }"#,
            json!({"t": token}),
        )
        .await;
    assert_eq!(verified.body["data"]["verifyEmail"]["emailVerified"], true);

    let minted = app
        .graphql(
            Some(&pak),
            r#"mutation { createPasswordResetToken(email: "kim@example.com") { token user { email } } }"#,
            json!({}),
        )
        .await;
    let token = minted.body["data"]["createPasswordResetToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = app
        .graphql(
            None,
            r#"mutation($t: String!) { resetPassword(app: "acme", token: $t, newPassword: "a brand new passphrase") }"#,
            json!({"t": token}),
        )
        .await;
    assert_eq!(reset.body["data"]["resetPassword"], true, "{}", reset.text);
    let forgot = app
        .graphql(
            None,
            r#"mutation { requestPasswordReset(app: "acme", email: "who@example.com") }"#,
            json!({}),
        )
        .await;
    assert_eq!(forgot.body["data"]["requestPasswordReset"], true);
    // End users cannot mint.
    let user = app.signin("acme", "kim@example.com", NEW_PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .graphql(
            Some(&user),
            r#"mutation { createPasswordResetToken(email: "kim@example.com") { token } }"#,
            json!({}),
        )
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test]
async fn concurrent_workers_never_send_a_mail_twice() {
    let (app, sink) = mail_app().await;
    let emails: Vec<String> = (0..6).map(|i| format!("user{i}@example.com")).collect();
    for email in &emails {
        app.signup("acme", email, PW).await;
    }
    // Several claimers race the instance's own worker over the same outbox.
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let state = app.state.clone();
            tokio::spawn(async move {
                for _ in 0..40 {
                    heimdall::services::mail::deliver_due(&state).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    for email in &emails {
        let resp = app
            .post("/acme/v1/password/forgot", None, json!({"email": email}))
            .await;
        assert_eq!(resp.status, 202);
    }
    for racer in racers {
        racer.await.unwrap();
    }
    let mails = sink.wait_for(emails.len()).await;
    sink.assert_count_stays(emails.len(), Duration::from_millis(300))
        .await;
    let mut recipients: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    recipients.sort();
    assert_eq!(recipients, emails);
}

#[tokio::test]
async fn queued_mail_survives_a_restart() {
    let (mut app, sink) = mail_app().await;
    app.signup("acme", "olga@example.com", PW).await;
    sink.refuse_next(1);
    app.post(
        "/acme/v1/password/forgot",
        None,
        json!({"email": "olga@example.com"}),
    )
    .await;
    for _ in 0..100 {
        if !app.audit("mail.send_failed").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.audit("mail.send_failed").await.len(), 1);
    assert!(sink.messages().is_empty());
    app.restart().await;
    app.clock.advance(chrono::Duration::seconds(31));
    app.state.mail.wake();
    let mail = &sink.wait_for(1).await[0];
    let resp = app
        .post(
            "/acme/v1/password/reset",
            None,
            json!({"token": mail.token("hm_pr_"), "new_password": NEW_PW}),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.text);
}
