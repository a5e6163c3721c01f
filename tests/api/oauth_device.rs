//! The device authorization grant (RFC 8628) with the hosted `/{app}/device` page
//! (docs/src/oauth-extensions.md#device-authorization-grant).

use serde_json::json;

use crate::{
    helpers::{Resp, TestApp},
    oauth::token_request,
    oauth_pages::{Browser, field, form_action, location, setup, sign_in},
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn start(app: &TestApp, client: &crate::oauth::Client, scope: &str) -> Resp {
    let mut request = app
        .client
        .post(app.url("/acme/v1/oauth/device_authorization"))
        .form(&[("client_id", client.id.as_str()), ("scope", scope)]);
    if let Some(secret) = &client.secret {
        request = request.basic_auth(&client.id, Some(secret));
    }
    crate::helpers::read(request.send().await.unwrap()).await
}

async fn poll(app: &TestApp, client: &crate::oauth::Client, device_code: &str) -> Resp {
    token_request(
        app,
        &[("grant_type", GRANT), ("device_code", device_code)],
        client.secret.as_deref().map(|s| (client.id.as_str(), s)),
    )
    .await
}

fn oauth_error(resp: &Resp, error: &str) {
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert_eq!(resp.body["error"], error, "{}", resp.text);
}

#[tokio::test]
async fn a_device_gets_tokens_once_its_user_approves_on_the_device_page() {
    let (app, client) = setup().await;
    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(
        discovery.body["device_authorization_endpoint"],
        format!("{}/v1/oauth/device_authorization", app.issuer("acme"))
    );
    assert!(
        discovery.body["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(GRANT))
    );
    // Client authentication is required; scopes are the client's.
    let anonymous = crate::helpers::read(
        app.client
            .post(app.url("/acme/v1/oauth/device_authorization"))
            .form(&[("client_id", client.id.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    oauth_error(&start(&app, &client, "openid roles").await, "invalid_scope");

    let started = start(&app, &client, "openid email offline_access").await;
    assert_eq!(started.status, 200, "{}", started.text);
    assert_eq!(started.header("cache-control"), Some("no-store"));
    let user_code = started.body["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert!(
        user_code
            .chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(started.body["expires_in"], 600);
    assert_eq!(started.body["interval"], 5);
    let verification_uri = started.body["verification_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verification_uri, app.url("/acme/device"));
    let complete = started.body["verification_uri_complete"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(complete.starts_with(&verification_uri) && complete.contains("user_code="));
    let device_code = started.body["device_code"].as_str().unwrap().to_owned();

    oauth_error(
        &poll(&app, &client, &device_code).await,
        "authorization_pending",
    );
    oauth_error(&poll(&app, &client, &device_code).await, "slow_down");
    app.clock.advance(chrono::Duration::seconds(11));
    oauth_error(
        &poll(&app, &client, &device_code).await,
        "authorization_pending",
    );
    oauth_error(&poll(&app, &client, "hm_dc_unknown").await, "invalid_grant");

    // The user opens the complete URI, signs in, sees the client and the scopes.
    let mut browser = Browser::new(&app);
    let (signed_in, _) = sign_in(&mut browser, &complete, "correct horse battery").await;
    let back = location(&signed_in);
    let (page, _) = browser.get(&back).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("My &lt;App&gt;"), "{}", page.text);
    assert!(page.text.contains("offline_access"));
    // A wrong code shows the form again.
    let (wrong, _) = browser.get("/acme/device?user_code=BCDF-GHJK").await;
    assert_eq!(wrong.status, 404, "{}", wrong.text);
    assert!(wrong.text.contains("unknown or has expired"));
    let csrf = field(&page.text, "csrf_token");
    let action = form_action(&page.text);
    // Without the CSRF token the answer is refused.
    let (refused, _) = browser
        .post_form(
            &action,
            &[("user_code", &user_code), ("decision", "approve")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let (done, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Device connected"), "{}", done.text);
    assert_eq!(app.audit("oauth.device_authorized").await.len(), 1);

    app.clock.advance(chrono::Duration::seconds(11));
    let tokens = poll(&app, &client, &device_code).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert!(
        tokens.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("hm_at_")
    );
    assert!(tokens.body["refresh_token"].as_str().is_some());
    assert!(tokens.body["id_token"].as_str().is_some());
    let userinfo = app
        .get(
            "/acme/v1/oauth/userinfo",
            tokens.body["access_token"].as_str(),
        )
        .await;
    assert_eq!(
        userinfo.body["email"], "alice@example.com",
        "{}",
        userinfo.text
    );
    // Once only.
    oauth_error(&poll(&app, &client, &device_code).await, "invalid_grant");
}

#[tokio::test]
async fn denied_and_expired_device_codes_answer_as_rfc_8628_says() {
    let (app, client) = setup().await;
    let started = start(&app, &client, "openid").await;
    let device_code = started.body["device_code"].as_str().unwrap().to_owned();
    let user_code = started.body["user_code"].as_str().unwrap().to_owned();
    let mut browser = Browser::new(&app);
    // The user types the code without the dash, in lower case.
    let typed = user_code.replace('-', "").to_lowercase();
    let (signed_in, _) = sign_in(
        &mut browser,
        &format!("/acme/device?user_code={typed}"),
        "correct horse battery",
    )
    .await;
    let (page, _) = browser.get(&location(&signed_in)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let (done, _) = browser
        .post_form(
            &form_action(&page.text),
            &[
                ("csrf_token", &field(&page.text, "csrf_token")),
                ("user_code", &field(&page.text, "user_code")),
                ("decision", "deny"),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    oauth_error(&poll(&app, &client, &device_code).await, "access_denied");

    let started = start(&app, &client, "openid").await;
    let device_code = started.body["device_code"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::seconds(601));
    oauth_error(&poll(&app, &client, &device_code).await, "expired_token");
    // Without a session the page sends the browser to sign in.
    let resp = app.get("/acme/device", None).await;
    assert_eq!(resp.status, 303, "{}", resp.text);
}
