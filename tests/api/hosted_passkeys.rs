//! Passkeys on the hosted account page (docs/src/hosted-pages.md#passkeys-on-the-account-page):
//! "Add a passkey" runs the page's own script only, registers through the same
//! WebAuthn service as `/{app}/v1/me/mfa/webauthn/register/*`, lists the passkey,
//! signs in with it on the sign-in page, and removes it. The authenticator is
//! webauthn-authenticator-rs's software token.

use serde_json::json;
use webauthn_authenticator_rs::{WebauthnAuthenticator, softtoken::SoftToken};
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::{
    helpers::{TestApp, spawn_app_with},
    hosted_pages::PW,
    oauth_pages::{Browser, field, location, sign_in},
};

/// acme on a public URL with a domain name (WebAuthn needs one); alice signed up.
async fn localhost_acme() -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(move |c| {
        c.bind = format!("127.0.0.1:{port}");
        c.public_url = Some(format!("http://localhost:{port}"));
    })
    .await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    app.signup("acme", "alice@example.com", PW).await;
    app
}

fn origin(app: &TestApp) -> url::Url {
    url::Url::parse(&format!("http://localhost:{}", app.port)).unwrap()
}

#[tokio::test]
async fn the_account_page_adds_lists_uses_and_removes_a_passkey() {
    let app = localhost_acme().await;
    let mut browser = Browser::new(&app);
    let (resp, _) = sign_in(&mut browser, "/acme/account", PW).await;
    assert_eq!(location(&resp), "/acme/account");
    let (page, _) = browser.get("/acme/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Add a passkey"), "{}", page.text);
    assert!(
        page.text
            .contains("<script src=\"/acme/account/passkey.js\" defer></script>")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = app.get("/acme/account/passkey.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.text.contains("navigator.credentials.create"));

    // Without the form's CSRF token nothing starts.
    let (resp, _) = browser
        .post_form("/acme/account/passkeys/start", &[("name", "Laptop")])
        .await;
    assert_eq!(resp.status, 403, "{}", resp.text);

    let csrf = field(&page.text, "csrf_token");
    let (start, _) = browser
        .post_form(
            "/acme/account/passkeys/start",
            &[("csrf_token", &csrf), ("name", "Laptop")],
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.text);
    let public_key = &start.body["publicKey"];
    assert_eq!(public_key["rp"]["id"], "localhost");
    assert_eq!(public_key["user"]["name"], "alice@example.com");
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({ "publicKey": public_key })).unwrap();
    let (mut throwaway, _) = SoftToken::new(true).unwrap();
    throwaway.do_registration(origin(&app), options).unwrap();

    // A malformed answer is shown on the page; nothing is added.
    let (bad, _) = browser
        .post_form(
            "/acme/account/passkeys/finish",
            &[
                ("csrf_token", &csrf),
                ("id", start.body["id"].as_str().unwrap()),
                ("credential", "{\"not\": \"a credential\"}"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("credential"), "{}", bad.text);

    // The real answer: the first factor, so the recovery codes are shown once.
    let (start, _) = browser
        .post_form(
            "/acme/account/passkeys/start",
            &[("csrf_token", &csrf), ("name", "Laptop")],
        )
        .await;
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({ "publicKey": start.body["publicKey"] })).unwrap();
    let user_handle = start.body["publicKey"]["user"]["id"].clone();
    let (mut authenticator, _) = SoftToken::new(true).unwrap();
    let credential = authenticator
        .do_registration(origin(&app), options)
        .unwrap();
    let (done, _) = browser
        .post_form(
            "/acme/account/passkeys/finish",
            &[
                ("csrf_token", &csrf),
                ("id", start.body["id"].as_str().unwrap()),
                ("credential", &serde_json::to_string(&credential).unwrap()),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        done.text.contains("Save your recovery codes"),
        "{}",
        done.text
    );
    let (page, _) = browser.get("/acme/account").await;
    assert!(
        page.text.contains("<strong>Laptop</strong>"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Passkey or security key"));
    assert_eq!(app.audit("mfa.enrolled").await.len(), 1);

    // The passkey signs in on the sign-in page, without a password.
    let mut other = Browser::new(&app);
    let (login, _) = other.get("/acme/login").await;
    assert!(
        login.text.contains("Sign in with a passkey"),
        "{}",
        login.text
    );
    let login_csrf = field(&login.text, "csrf_token");
    let passkey_start = app
        .post("/acme/v1/auth/passkey/start", None, json!({}))
        .await;
    assert_eq!(passkey_start.status, 200, "{}", passkey_start.text);
    // The soft authenticator needs its credential named, and sends no user handle:
    // both are what a platform passkey (Chromium's, in e2e/) does by itself.
    let mut options = passkey_start.body["publicKey"].clone();
    options["allowCredentials"] = json!([{ "type": "public-key", "id": credential.id }]);
    let request: RequestChallengeResponse =
        serde_json::from_value(json!({ "publicKey": options })).unwrap();
    let mut assertion = serde_json::to_value(
        authenticator
            .do_authentication(origin(&app), request)
            .unwrap(),
    )
    .unwrap();
    assertion["response"]["userHandle"] = user_handle;
    let (signed_in, _) = other
        .post_form(
            "/acme/login/passkey",
            &[
                ("csrf_token", &login_csrf),
                ("id", passkey_start.body["id"].as_str().unwrap()),
                ("credential", &serde_json::to_string(&assertion).unwrap()),
            ],
        )
        .await;
    // Without a return_to the page says so.
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert!(
        signed_in
            .text
            .contains("You are signed in to Acme Cloud as alice@example.com"),
        "{}",
        signed_in.text
    );
    let (account, _) = other.get("/acme/account").await;
    assert_eq!(account.status, 200, "{}", account.text);

    // Removing a factor needs a session that used one: the password-only browser
    // is refused (the page says why), the passkey-signed-in one removes it.
    let at = page.text.find("<strong>Laptop</strong>").unwrap();
    let id = field(&page.text[at..], "id");
    let (resp, _) = browser
        .post_form(
            "/acme/account/mfa/remove",
            &[("csrf_token", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(resp.status, 403, "{}", resp.text);
    assert!(resp.text.contains("<strong>Laptop</strong>"));
    let other_csrf = field(&account.text, "csrf_token");
    let (resp, _) = other
        .post_form(
            "/acme/account/mfa/remove",
            &[("csrf_token", &other_csrf), ("id", &id)],
        )
        .await;
    assert_eq!(location(&resp), "/acme/account?done=factor");
    let (page, _) = other.get("/acme/account").await;
    assert!(
        !page.text.contains("<strong>Laptop</strong>"),
        "{}",
        page.text
    );
    assert_eq!(app.audit("mfa.removed").await.len(), 1);
}
