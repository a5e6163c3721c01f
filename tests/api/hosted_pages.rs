//! The hosted sign-up, forgot-password, second-factor enrolment and federated
//! buttons (docs/src/hosted-pages.md), driven as a browser would.

use serde_json::json;
use url::form_urlencoded;

use crate::{
    helpers::{TestApp, spawn_app, spawn_app_with},
    oauth_pages::{Browser, assert_page_headers, field, form_action, location},
    smtp_sink::SmtpSink,
};

pub(crate) const PW: &str = "correct horse battery";

async fn acme(settings: serde_json::Value) -> TestApp {
    let app = spawn_app().await;
    app.create_app_with(
        json!({"name": "acme", "display_name": "Acme Cloud", "settings": settings}),
    )
    .await;
    app
}

async fn mail_acme(settings: serde_json::Value) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(heimdall::config::Secret::new(url));
        c.smtp_from = Some("Acme <no-reply@acme.test>".into());
    })
    .await;
    app.create_app_with(
        json!({"name": "acme", "display_name": "Acme Cloud", "settings": settings}),
    )
    .await;
    (app, sink)
}

async fn user_count(app: &TestApp) -> usize {
    let resp = app.get("/v1/apps/acme/users", Some(&app.root_key)).await;
    resp.body["data"].as_array().unwrap().len()
}

/// Fills and posts the sign-up form; returns the response.
async fn sign_up(
    browser: &mut Browser<'_>,
    start: &str,
    email: &str,
    password: &str,
) -> crate::helpers::Resp {
    let (page, _) = browser.get(start).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = field(&page.text, "csrf_token");
    let action = form_action(&page.text);
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("email", email),
        ("display_name", "Sam <Signup>"),
        ("password", password),
        ("confirm_password", password),
    ];
    let return_to;
    if page.text.contains("name=\"return_to\"") {
        return_to = field(&page.text, "return_to");
        form.push(("return_to", &return_to));
    }
    browser.post_form(&action, &form).await.0
}

#[tokio::test]
async fn the_sign_in_page_links_to_sign_up_and_forgot_password() {
    let app = acme(json!({})).await;
    let mut browser = Browser::new(&app);
    let (page, _) = browser
        .get("/acme/login?return_to=/acme/consent%3Frequest%3Dx")
        .await;
    assert_eq!(page.status, 200);
    assert_page_headers(&page);
    assert!(
        page.text.contains("href=\"/acme/forgot-password\""),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("href=\"/acme/signup?return_to=%2Facme%2Fconsent%3Frequest%3Dx\""),
        "{}",
        page.text
    );

    // Sign-up closed: no link, and the page says so.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"signup_enabled": false}}),
    )
    .await;
    let (page, _) = browser.get("/acme/login").await;
    assert!(!page.text.contains("/acme/signup"), "{}", page.text);
    let (closed, _) = browser.get("/acme/signup").await;
    assert_eq!(closed.status, 403);
    assert!(closed.text.contains("Sign-up is closed"));
}

#[tokio::test]
async fn signing_up_on_the_page_signs_the_browser_in() {
    let app = acme(json!({"password_min_length": 12})).await;
    let mut browser = Browser::new(&app);
    let (page, _) = browser.get("/acme/signup").await;
    assert_page_headers(&page);
    assert!(
        page.text.contains("At least 12 characters."),
        "{}",
        page.text
    );
    assert!(page.text.contains("<label for=\"email\">Email</label>"));

    let resp = sign_up(&mut browser, "/acme/signup", "sam@example.com", PW).await;
    assert_eq!(location(&resp), "/acme/account");
    assert!(browser.cookies.contains_key("hm_session"));
    let users = app.get("/v1/apps/acme/users", Some(&app.root_key)).await;
    assert_eq!(users.body["data"][0]["email"], "sam@example.com");
    assert_eq!(users.body["data"][0]["display_name"], "Sam <Signup>");
    // The browser is signed in: the sign-in page says so.
    let (page, _) = browser.get("/acme/login").await;
    assert!(page.text.contains("You are signed in"), "{}", page.text);
}

#[tokio::test]
async fn sign_up_errors_are_shown_at_their_field_and_nothing_is_created() {
    let app = acme(json!({})).await;
    app.signup("acme", "taken@example.com", PW).await;
    let mut browser = Browser::new(&app);

    let resp = sign_up(&mut browser, "/acme/signup", "new@example.com", "short").await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert!(resp.text.contains("id=\"password-error\""), "{}", resp.text);
    assert!(
        resp.text
            .contains("aria-describedby=\"password-hint password-error\"")
    );
    assert!(resp.text.contains("aria-invalid=\"true\""));
    // What was typed is kept (escaped), the password is not.
    assert!(resp.text.contains("value=\"new@example.com\""));
    assert!(resp.text.contains("value=\"Sam &lt;Signup&gt;\""));
    assert!(!resp.text.contains("value=\"short\""));

    let resp = sign_up(&mut browser, "/acme/signup", "not-an-email", PW).await;
    assert_eq!(resp.status, 400);
    assert!(resp.text.contains("id=\"email-error\""), "{}", resp.text);

    // Without `signup_conceals_existing` the page says the address is taken (as
    // the API does).
    let resp = sign_up(&mut browser, "/acme/signup", "taken@example.com", PW).await;
    assert_eq!(resp.status, 409);
    assert!(resp.text.contains("already exists"), "{}", resp.text);

    // The passwords differ.
    let (page, _) = browser.get("/acme/signup").await;
    let csrf = field(&page.text, "csrf_token");
    let (resp, _) = browser
        .post_form(
            "/acme/signup",
            &[
                ("csrf_token", &csrf),
                ("email", "new@example.com"),
                ("password", PW),
                ("confirm_password", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.text.contains("id=\"confirm_password-error\""),
        "{}",
        resp.text
    );
    assert_eq!(user_count(&app).await, 1);

    // No CSRF token: refused before anything happens.
    let (resp, _) = browser
        .post_form(
            "/acme/signup",
            &[("email", "new@example.com"), ("password", PW)],
        )
        .await;
    assert_eq!(resp.status, 403);
    let (resp, _) = browser
        .post_form(
            "/acme/signup",
            &[
                ("csrf_token", "x".repeat(43).as_str()),
                ("email", "new@example.com"),
                ("password", PW),
            ],
        )
        .await;
    assert_eq!(resp.status, 403);
    assert_eq!(user_count(&app).await, 1);

    // return_to must be a page of this app.
    for bad in [
        "https://evil.example/",
        "//evil.example/acme/",
        "/other/login",
    ] {
        let encoded: String = form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        let (resp, _) = browser
            .get(&format!("/acme/signup?return_to={encoded}"))
            .await;
        assert_eq!(resp.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn sign_up_with_return_to_resumes_there() {
    let app = acme(json!({})).await;
    let mut browser = Browser::new(&app);
    let resp = sign_up(
        &mut browser,
        "/acme/signup?return_to=%2Facme%2Fconsent%3Frequest%3Dabc",
        "sam@example.com",
        PW,
    )
    .await;
    assert_eq!(location(&resp), "/acme/consent?request=abc");
}

#[tokio::test]
async fn sign_up_with_required_verification_says_check_your_mail() {
    let (app, sink) = mail_acme(json!({"require_verified_email": true})).await;
    let mut browser = Browser::new(&app);
    let resp = sign_up(&mut browser, "/acme/signup", "vera@example.com", PW).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp.text.contains("Check your mail"), "{}", resp.text);
    assert!(!browser.cookies.contains_key("hm_session"));
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["vera@example.com"]);
    assert!(mails[0].link().contains("/acme/verify-email?token=hm_ev_"));
}

#[tokio::test]
async fn signup_conceals_existing_answers_alike_and_mails_the_owner() {
    let (app, sink) = mail_acme(json!({"signup_conceals_existing": true})).await;
    app.signup("acme", "owner@example.com", PW).await;
    let mut browser = Browser::new(&app);

    let existing = sign_up(&mut browser, "/acme/signup", "owner@example.com", PW).await;
    let new = sign_up(&mut browser, "/acme/signup", "fresh@example.com", PW).await;
    assert_eq!(existing.status, 200, "{}", existing.text);
    assert_eq!(new.status, 200);
    assert_eq!(
        existing.text.replace("owner@example.com", "X"),
        new.text.replace("fresh@example.com", "X")
    );
    assert!(!browser.cookies.contains_key("hm_session"));
    // (The owner's own sign-up mailed a verification link first.)
    let mails = sink.wait_for(3).await;
    let to_owner = mails
        .iter()
        .filter(|m| m.to == vec!["owner@example.com"])
        .nth(1)
        .unwrap();
    assert!(
        to_owner.subject().contains("tried to sign up"),
        "{}",
        to_owner.subject()
    );
    assert!(
        to_owner.link().ends_with("/acme/login"),
        "{}",
        to_owner.link()
    );
    let to_new = mails
        .iter()
        .find(|m| m.to == vec!["fresh@example.com"])
        .unwrap();
    assert!(to_new.link().contains("verify-email?token=hm_ev_"));
    // The owner's password is unchanged and the account is one.
    assert_eq!(
        app.signin("acme", "owner@example.com", PW).await.status,
        200
    );
    assert_eq!(user_count(&app).await, 2);

    // The API answers alike too.
    let a = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "owner@example.com", "password": PW}),
        )
        .await;
    let b = app
        .post(
            "/acme/v1/auth/signup",
            None,
            json!({"email": "third@example.com", "password": PW}),
        )
        .await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body, b.body);
    assert_eq!(a.body, json!({"email_verification_required": true}));
}

#[tokio::test]
async fn forgot_password_never_reveals_an_account() {
    let (app, sink) = mail_acme(json!({})).await;
    app.signup("acme", "alice@example.com", PW).await;
    let mut browser = Browser::new(&app);
    let (login, _) = browser.get("/acme/login").await;
    assert!(login.text.contains("href=\"/acme/forgot-password\""));

    let mut answers = Vec::new();
    for email in ["alice@example.com", "nobody@example.com"] {
        let (page, _) = browser.get("/acme/forgot-password").await;
        assert_eq!(page.status, 200);
        assert_page_headers(&page);
        let csrf = field(&page.text, "csrf_token");
        let (resp, _) = browser
            .post_form(
                &form_action(&page.text),
                &[("csrf_token", &csrf), ("email", email)],
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        answers.push(resp.text.replace(email, "X"));
    }
    assert_eq!(answers[0], answers[1]);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["alice@example.com"]);
    // The link opens the existing reset page.
    let link = mails[0].link();
    let path = link.strip_prefix(&app.url("")).unwrap();
    let (reset, _) = browser.get(path).await;
    assert_eq!(reset.status, 200);
    assert!(reset.text.contains("Choose a new password"));

    let (page, _) = browser.get("/acme/forgot-password").await;
    let csrf = field(&page.text, "csrf_token");
    let (resp, _) = browser
        .post_form(
            "/acme/forgot-password",
            &[("csrf_token", &csrf), ("email", "no at sign")],
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.text.contains("id=\"email-error\""), "{}", resp.text);
    let (resp, _) = browser
        .post_form("/acme/forgot-password", &[("email", "alice@example.com")])
        .await;
    assert_eq!(resp.status, 403);
}

#[tokio::test]
async fn an_app_that_requires_mfa_enrols_a_factor_on_the_sign_in_page() {
    let app = acme(json!({"mfa_policy": "required"})).await;
    let mut browser = Browser::new(&app);
    // Sign up on the page: the enrolment step follows at once.
    let resp = sign_up(
        &mut browser,
        "/acme/signup?return_to=%2Facme%2Fconsent%3Frequest%3Dabc",
        "mo@example.com",
        PW,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_page_headers(&resp);
    assert!(
        resp.text.contains("Set up a second factor"),
        "{}",
        resp.text
    );
    assert!(resp.text.contains("src=\"data:image/svg+xml;base64,"));
    assert!(!browser.cookies.contains_key("hm_session"));
    let secret = resp
        .text
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let csrf = field(&resp.text, "csrf_token");
    let mfa_token = field(&resp.text, "mfa_token");
    let factor_id = field(&resp.text, "factor_id");
    let return_to = field(&resp.text, "return_to");
    let action = form_action(&resp.text);
    assert_eq!(action, "/acme/login/mfa/enroll");

    // A wrong code: the form again, nothing signed in.
    let (wrong, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("mfa_token", &mfa_token),
                ("factor_id", &factor_id),
                ("return_to", &return_to),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(wrong.text.contains("That code did not work"));
    assert!(!browser.cookies.contains_key("hm_session"));

    let code = crate::mfa::totp_now(&app, &secret);
    let (done, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("mfa_token", &mfa_token),
                ("factor_id", &factor_id),
                ("return_to", &return_to),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Save your recovery codes"));
    assert_eq!(done.text.matches("<li><code>").count(), 10, "{}", done.text);
    assert!(done.text.contains("href=\"/acme/consent?request=abc\""));
    assert!(browser.cookies.contains_key("hm_session"));

    // Next time: the password, then the code step (not enrolment).
    let mut other = Browser::new(&app);
    let (page, _) = other.get("/acme/login").await;
    let csrf = field(&page.text, "csrf_token");
    let (step, _) = other
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", &csrf),
                ("email", "mo@example.com"),
                ("password", PW),
            ],
        )
        .await;
    assert_eq!(step.status, 200);
    assert!(step.text.contains("Confirm it is you"), "{}", step.text);
}

#[tokio::test]
async fn a_provider_button_sets_the_hosted_session_and_resumes_the_authorization() {
    use crate::fake_idp::{ClientCheck, FakeIdp, FakeKey, Grant};
    const CLIENT_ID: &str = "heimdall-client";
    let key = FakeKey::ec("fed-ec-1");
    let idp = FakeIdp::oidc(
        ClientCheck::Basic {
            client_id: CLIENT_ID.into(),
            secret: "s3cret".into(),
        },
        key.clone(),
    )
    .await;
    let app = spawn_app_with(|c| c.federation_allow_loopback = true).await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    let resp = app
        .put(
            "/v1/apps/acme/providers/corp-sso",
            Some(&app.root_key),
            json!({"issuer": idp.base, "client_id": CLIENT_ID, "client_secret": "s3cret",
                   "redirect_uri": "https://app.example.com/after", "display_name": "Corp SSO"}),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let client = crate::oauth::register(
        &app,
        &developer,
        json!({"name": "Planner", "redirect_uris": [crate::oauth::REDIRECT],
               "allowed_scopes": ["openid", "email"]}),
    )
    .await;
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", crate::oauth::REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "st-fed")
        .finish();
    let start = format!("/acme/v1/oauth/authorize?{query}");

    let mut browser = Browser::new(&app);
    let (resp, _) = browser.get(&start).await;
    let login = location(&resp);
    let (page, _) = browser.get(&login).await;
    assert!(
        page.text.contains("Continue with Corp SSO"),
        "{}",
        page.text
    );
    let href = page
        .text
        .split("class=\"button secondary\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        href.starts_with("/acme/login/with/corp-sso?return_to="),
        "{href}"
    );

    let (resp, set_cookies) = browser.get(&href).await;
    assert_eq!(resp.status, 302, "{}", resp.text);
    assert!(
        set_cookies.iter().any(|c| c.starts_with("hm_fedpage_")),
        "{set_cookies:?}"
    );
    let upstream = location(&resp);
    assert!(upstream.starts_with(&idp.url("/authorize?")), "{upstream}");
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(upstream.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let now = app.state.now().timestamp();
    idp.grant(
        "fed-code-1",
        Grant {
            id_token: key.mint_as(
                "fed-ec-1",
                &json!({"iss": idp.base, "aud": CLIENT_ID, "sub": "fed-1", "exp": now + 300,
                        "iat": now, "nonce": params["nonce"], "email": "fred@example.com",
                        "email_verified": true}),
            ),
            redirect_uri: params["redirect_uri"].clone(),
            code_challenge: Some(params["code_challenge"].clone()),
        },
    );
    let callback = format!(
        "/acme/v1/auth/corp-sso/callback?code=fed-code-1&state={}",
        params["state"]
    );
    let (resp, set_cookies) = browser.get(&callback).await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    // Back to the authorization (not the provider's redirect_uri with tokens).
    assert_eq!(location(&resp), start);
    assert!(
        set_cookies.iter().any(|c| c.starts_with("hm_session=")),
        "{set_cookies:?}"
    );
    // The authorization goes on with the hosted session: consent.
    let (resp, _) = browser.get(&start).await;
    let next = location(&resp);
    assert!(next.starts_with("/acme/consent?request="), "{next}");
}

/// Posts one of the account page's forms (`action` under `/acme/account/`).
async fn account_post(
    browser: &mut Browser<'_>,
    action: &str,
    fields: &[(&str, &str)],
) -> crate::helpers::Resp {
    let (page, _) = browser.get("/acme/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = field(&page.text, "csrf_token");
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    browser
        .post_form(&format!("/acme/account/{action}"), &form)
        .await
        .0
}

#[tokio::test]
async fn the_account_page_changes_what_the_api_changes() {
    let app = acme(json!({})).await;
    let mut browser = Browser::new(&app);

    // Not signed in: to the sign-in page and back; a form is a 401.
    let (resp, _) = browser.get("/acme/account").await;
    assert_eq!(location(&resp), "/acme/login?return_to=%2Facme%2Faccount");
    let (page, _) = browser.get("/acme/signup").await;
    let csrf = field(&page.text, "csrf_token");
    let (resp, _) = browser
        .post_form(
            "/acme/account/profile",
            &[("csrf_token", &csrf), ("display_name", "X")],
        )
        .await;
    assert_eq!(resp.status, 401);

    sign_up(&mut browser, "/acme/signup", "ann@example.com", PW).await;
    let token = app.signin("acme", "ann@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (page, _) = browser.get("/acme/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(page.text.contains("value=\"ann@example.com\""));
    assert!(page.text.contains("value=\"Sam &lt;Signup&gt;\""));
    assert_eq!(
        page.text
            .matches("action=\"/acme/account/sessions/revoke\"")
            .count(),
        1
    );
    assert!(page.text.contains("this browser"));

    // Profile.
    let resp = account_post(&mut browser, "profile", &[("display_name", "Ann Other")]).await;
    assert_eq!(location(&resp), "/acme/account?done=profile");
    let me = app.get("/acme/v1/me", Some(&token)).await;
    assert_eq!(me.body["data"]["display_name"], "Ann Other");
    let (page, _) = browser.get("/acme/account?done=profile").await;
    assert!(page.text.contains("Your profile is saved."));

    // Sessions: the API session is listed and revoked from here.
    let sessions = app.get("/acme/v1/me/sessions", Some(&token)).await;
    let api_sid = sessions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .unwrap();
    let resp = account_post(&mut browser, "sessions/revoke", &[("id", &api_sid)]).await;
    assert_eq!(location(&resp), "/acme/account?done=session");
    assert_eq!(app.get("/acme/v1/me", Some(&token)).await.status, 401);
    // Someone else's or no session: 404 on the page, nothing else changes.
    let resp = account_post(&mut browser, "sessions/revoke", &[("id", "not-a-uuid")]).await;
    assert_eq!(resp.status, 404);

    // Password: a wrong current one is shown at its field.
    let resp = account_post(
        &mut browser,
        "password",
        &[
            ("current_password", "not it at all"),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert!(
        resp.text.contains("id=\"current_password-error\""),
        "{}",
        resp.text
    );
    let resp = account_post(
        &mut browser,
        "password",
        &[
            ("current_password", PW),
            ("new_password", "a brand new password"),
            ("confirm_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(location(&resp), "/acme/account?done=password");
    assert_eq!(
        app.signin("acme", "ann@example.com", "a brand new password")
            .await
            .status,
        200
    );

    // Without the CSRF token nothing happens.
    let (resp, _) = browser
        .post_form("/acme/account/profile", &[("display_name", "Mallory")])
        .await;
    assert_eq!(resp.status, 403);

    // TOTP from the account page, then the factor is listed.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"mfa_policy": "optional"}}),
    )
    .await;
    let resp = account_post(&mut browser, "mfa/totp", &[]).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let secret = resp
        .text
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let csrf = field(&resp.text, "csrf_token");
    let factor_id = field(&resp.text, "factor_id");
    let code = crate::mfa::totp_now(&app, &secret);
    let (done, _) = browser
        .post_form(
            "/acme/account/mfa/totp/confirm",
            &[
                ("csrf_token", &csrf),
                ("factor_id", &factor_id),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("Save your recovery codes"));
    let (page, _) = browser.get("/acme/account").await;
    assert!(page.text.contains("Authenticator app ·"), "{}", page.text);

    // Sign out: the cookie is cleared and the session ends.
    let resp = account_post(&mut browser, "signout", &[]).await;
    assert_eq!(resp.status, 200);
    assert!(resp.text.contains("You are signed out"));
    let (resp, _) = browser.get("/acme/account").await;
    assert_eq!(resp.status, 303);
}

/// acme with a client that registered a sign-out return URI; alice signed up.
async fn logout_setup() -> (TestApp, crate::oauth::Client) {
    let app = acme(json!({})).await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    app.signup("acme", "alice@example.com", PW).await;
    let client = crate::oauth::register(
        &app,
        &developer,
        json!({"name": "Planner", "redirect_uris": [crate::oauth::REDIRECT],
               "post_logout_redirect_uris": ["https://client.example.com/bye"],
               "allowed_scopes": ["openid", "email"]}),
    )
    .await;
    (app, client)
}

/// Signs alice in through the hosted pages, consents, and exchanges the code;
/// returns the token response.
pub(crate) async fn sign_in_and_consent(
    browser: &mut Browser<'_>,
    client: &crate::oauth::Client,
) -> serde_json::Value {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", crate::oauth::REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "st-1")
        .append_pair("nonce", "n-1")
        .finish();
    let start = format!("/acme/v1/oauth/authorize?{query}");
    let (resp, _) = browser.get(&start).await;
    let (page, _) = browser.get(&location(&resp)).await;
    let csrf = field(&page.text, "csrf_token");
    let return_to = field(&page.text, "return_to");
    let (resp, _) = browser
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", &csrf),
                ("return_to", &return_to),
                ("email", "alice@example.com"),
                ("password", PW),
            ],
        )
        .await;
    assert_eq!(location(&resp), start);
    let (resp, _) = browser.get(&start).await;
    let (page, _) = browser.get(&location(&resp)).await;
    let csrf = field(&page.text, "csrf_token");
    let request = field(&page.text, "request");
    let (resp, _) = browser
        .post_form(
            "/acme/consent",
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "approve"),
            ],
        )
        .await;
    let to_client = location(&resp);
    assert!(to_client.starts_with(crate::oauth::REDIRECT), "{to_client}");
    let code = crate::oauth::location_params(&resp)["code"].clone();
    let tokens = crate::oauth::exchange(browser.app, client, &code, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    tokens.body
}

#[tokio::test]
async fn rp_initiated_logout_with_an_id_token_hint_signs_out_and_returns() {
    let (app, client) = logout_setup().await;
    let discovery = app
        .get("/acme/.well-known/openid-configuration", None)
        .await;
    let endpoint = discovery.body["end_session_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(endpoint, format!("{}/v1/oauth/logout", app.issuer("acme")));
    let listed = app
        .get(
            &format!("/v1/apps/acme/oauth-clients/{}", client.id),
            Some(&app.root_key),
        )
        .await;
    assert_eq!(
        listed.body["data"]["post_logout_redirect_uris"],
        json!(["https://client.example.com/bye"])
    );

    let mut browser = Browser::new(&app);
    let tokens = sign_in_and_consent(&mut browser, &client).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    // The account page lists the app the user allowed.
    let (page, _) = browser.get("/acme/account").await;
    assert!(page.text.contains("Apps you allowed"), "{}", page.text);
    assert!(page.text.contains("<strong>Planner</strong>"));

    // An unregistered return URI: 400, nothing ends.
    let path = endpoint.strip_prefix(&app.url("")).unwrap().to_owned();
    let bad: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", "https://evil.example/")
        .finish();
    let (resp, _) = browser.get(&format!("{path}?{bad}")).await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert!(resp.text.contains("post_logout_redirect_uri"));
    let (resp, _) = browser.get("/acme/account").await;
    assert_eq!(resp.status, 200);
    // A hint that is not an ID token of this app: 400.
    let (resp, _) = browser
        .get(&format!("{path}?id_token_hint=not.a.token"))
        .await;
    assert_eq!(resp.status, 400);

    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", "https://client.example.com/bye")
        .append_pair("state", "s&1")
        .finish();
    let (resp, set_cookies) = browser.get(&format!("{path}?{query}")).await;
    assert_eq!(
        location(&resp),
        "https://client.example.com/bye?state=s%261"
    );
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("hm_session=;") && c.contains("Max-Age=0")),
        "{set_cookies:?}"
    );
    // The session behind the hosted cookie is over: the account page asks to sign in.
    let (resp, _) = browser.get("/acme/account").await;
    assert_eq!(resp.status, 303);
    assert_eq!(app.audit("session.revoked").await.len(), 1);
}

#[tokio::test]
async fn rp_initiated_logout_without_a_hint_asks_first() {
    let (app, client) = logout_setup().await;
    let mut browser = Browser::new(&app);
    sign_in_and_consent(&mut browser, &client).await;

    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client.id)
        .append_pair("post_logout_redirect_uri", "https://client.example.com/bye")
        .append_pair("state", "xyz")
        .finish();
    let (page, _) = browser.get(&format!("/acme/v1/oauth/logout?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(
        page.text.contains("Planner asks to sign you out"),
        "{}",
        page.text
    );
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("form-action 'self' https://client.example.com")
    );
    // Another site's post (no CSRF token) only shows the question again.
    let (resp, _) = browser
        .post_form(
            "/acme/v1/oauth/logout",
            &[("client_id", &client.id), ("confirm", "yes")],
        )
        .await;
    assert_eq!(resp.status, 200);
    assert!(resp.text.contains("asks to sign you out"));
    let (still, _) = browser.get("/acme/account").await;
    assert_eq!(still.status, 200);

    // Confirmed on the page: signed out, back to the client.
    let csrf = field(&page.text, "csrf_token");
    let (resp, _) = browser
        .post_form(
            &form_action(&page.text),
            &[
                ("csrf_token", &csrf),
                ("confirm", "yes"),
                ("client_id", &client.id),
                ("post_logout_redirect_uri", "https://client.example.com/bye"),
                ("state", "xyz"),
            ],
        )
        .await;
    assert_eq!(location(&resp), "https://client.example.com/bye?state=xyz");
    let (resp, _) = browser.get("/acme/account").await;
    assert_eq!(resp.status, 303);

    // Without a signed-in browser: straight to the page that says so.
    let (resp, _) = browser.get("/acme/v1/oauth/logout").await;
    assert_eq!(resp.status, 200);
    assert!(resp.text.contains("You are signed out"));
    // A return URI with no client to own it: 400.
    let (resp, _) = browser
        .get(
            "/acme/v1/oauth/logout?post_logout_redirect_uri=https%3A%2F%2Fclient.example.com%2Fbye",
        )
        .await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn post_logout_redirect_uris_are_validated_like_redirect_uris() {
    let app = acme(json!({})).await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let resp = app
        .post(
            "/acme/v1/oauth/clients",
            Some(&developer),
            json!({"name": "Bad", "redirect_uris": [crate::oauth::REDIRECT],
                   "post_logout_redirect_uris": ["javascript:alert(1)"]}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.text);
    assert!(
        resp.text.contains("post_logout_redirect_uris"),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn the_account_page_revokes_an_apps_access() {
    let (app, client) = logout_setup().await;
    let mut browser = Browser::new(&app);
    let tokens = sign_in_and_consent(&mut browser, &client).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let resp = account_post(&mut browser, "apps/revoke", &[("id", &client.id)]).await;
    assert_eq!(location(&resp), "/acme/account?done=consent");
    let (page, _) = browser.get("/acme/account?done=consent").await;
    assert!(
        page.text.contains("The app&#x27;s access is revoked."),
        "{}",
        page.text
    );
    assert!(!page.text.contains("Apps you allowed"));
    // The client's token no longer works at userinfo.
    let info = app.get("/acme/v1/oauth/userinfo", Some(&access)).await;
    assert_eq!(info.status, 401, "{}", info.text);
    // Again: nothing to revoke.
    let resp = account_post(&mut browser, "apps/revoke", &[("id", &client.id)]).await;
    assert_eq!(resp.status, 404);
}

#[tokio::test]
async fn an_unknown_provider_button_is_a_404_page() {
    let app = acme(json!({})).await;
    let mut browser = Browser::new(&app);
    let (resp, _) = browser.get("/acme/login/with/nobody").await;
    assert_eq!(resp.status, 404);
    assert_page_headers(&resp);
    let (resp, _) = browser
        .get("/acme/login/with/nobody?return_to=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn the_sign_in_page_offers_passkeys_with_its_own_script_only() {
    // Without a domain name in the public URL WebAuthn cannot run: no button.
    let plain = acme(json!({})).await;
    let page = plain
        .client
        .get(plain.url("/acme/login"))
        .send()
        .await
        .unwrap();
    assert!(!page.text().await.unwrap().contains("passkey-button"));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let app = spawn_app_with(|c| {
        c.bind = format!("127.0.0.1:{port}");
        c.public_url = Some(format!("http://localhost:{port}"));
    })
    .await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    let mut browser = Browser::new(&app);
    let (page, _) = browser.get("/acme/login").await;
    assert!(
        page.text.contains("Sign in with a passkey"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<script src=\"/acme/login/passkey.js\" defer></script>")
    );
    assert!(
        page.text
            .contains("data-start=\"/acme/v1/auth/passkey/start\"")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = app
        .client
        .get(app.url("/acme/login/passkey.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("navigator.credentials.get")
    );

    // A made-up assertion is refused on a page (never a 500), and a form without
    // the CSRF token is refused before anything happens.
    let csrf = field(&page.text, "csrf_token");
    let started = app
        .post("/acme/v1/auth/passkey/start", None, json!({}))
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let id = started.body["id"].as_str().unwrap();
    let (resp, _) = browser
        .post_form(
            "/acme/login/passkey",
            &[
                ("csrf_token", &csrf),
                ("id", id),
                ("credential", "{\"id\": \"x\"}"),
            ],
        )
        .await;
    assert!(
        resp.status >= 400 && resp.status < 500,
        "{} {}",
        resp.status,
        resp.text
    );
    assert!(!browser.cookies.contains_key("hm_session"));
    let (resp, _) = browser
        .post_form(
            "/acme/login/passkey",
            &[("csrf_token", &csrf), ("id", "x"), ("credential", "y")],
        )
        .await;
    assert_eq!(resp.status, 400);
    let (resp, _) = browser
        .post_form("/acme/login/passkey", &[("id", id), ("credential", "{}")])
        .await;
    assert_eq!(resp.status, 403);

    // MFA off: no passkey button, no script allowed.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"mfa_policy": "off"}}),
    )
    .await;
    let (page, _) = browser.get("/acme/login").await;
    assert!(!page.text.contains("passkey"), "{}", page.text);
    assert!(
        !page
            .header("content-security-policy")
            .unwrap()
            .contains("script-src")
    );
}
