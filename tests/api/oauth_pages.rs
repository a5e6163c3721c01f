//! The hosted sign-in and consent pages, driven as a browser would: follow each
//! redirect, keep cookies by their `Path`, read the CSRF field out of the HTML and
//! post the forms back.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, read, spawn_app, spawn_app_with};
use crate::oauth::{REDIRECT, exchange, location_params, register};

/// A minimal browser: a cookie jar (name → value and path) and no automatic
/// redirects, so every hop can be checked.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) cookies: HashMap<String, (String, String)>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    /// The path part of a URL or path the server sent (`Location`, form action).
    fn path_of(&self, target: &str) -> String {
        let base = self.app.url("");
        target.strip_prefix(&base).unwrap_or(target).to_owned()
    }

    fn cookie_header(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap_or(path);
        self.cookies
            .iter()
            .filter(|(_, (_, p))| {
                path == p || path.starts_with(&format!("{}/", p.trim_end_matches('/'))) || p == "/"
            })
            .map(|(name, (value, _))| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let mut parts = text.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let path = parts
                .find_map(|a| a.strip_prefix("Path="))
                .unwrap_or("/")
                .to_owned();
            self.cookies
                .insert(name.to_owned(), (value.to_owned(), path));
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, path: &str) -> (Resp, Vec<String>) {
        let cookie = self.cookie_header(path);
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie)
        };
        let resp = request.header("accept", "text/html").send().await.unwrap();
        self.keep_cookies(&resp);
        let set_cookies = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        (read(resp).await, set_cookies)
    }

    pub(crate) async fn get(&mut self, target: &str) -> (Resp, Vec<String>) {
        let path = self.path_of(target);
        let request = self.app.client.get(self.app.url(&path));
        self.send(request, &path).await
    }

    pub(crate) async fn post_form(
        &mut self,
        action: &str,
        form: &[(&str, &str)],
    ) -> (Resp, Vec<String>) {
        let path = self.path_of(action);
        let request = self.app.client.post(self.app.url(&path)).form(form);
        self.send(request, &path).await
    }
}

/// The value of `<input … name="{name}" value="…">` in a page.
pub(crate) fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
}

pub(crate) fn form_action(html: &str) -> String {
    let marker = "action=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

pub(crate) fn location(resp: &Resp) -> String {
    assert!(
        resp.status == 302 || resp.status == 303,
        "{} {}",
        resp.status,
        resp.text
    );
    resp.header("location").unwrap().to_owned()
}

pub(crate) fn assert_page_headers(resp: &Resp) {
    let csp = resp.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(resp.header("x-frame-options"), Some("DENY"));
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

pub async fn setup() -> (TestApp, crate::oauth::Client) {
    let app = spawn_app().await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    app.signup("acme", "alice@example.com", "correct horse battery")
        .await;
    let client = register(
        &app,
        &developer,
        json!({
            "name": "My <App>",
            "description": "Plans your week",
            "logo_url": "https://client.example.com/logo.png",
            "homepage_url": "https://client.example.com",
            "privacy_policy_url": "https://client.example.com/privacy",
            "redirect_uris": [REDIRECT],
            "allowed_scopes": ["openid", "profile", "email", "offline_access"],
        }),
    )
    .await;
    (app, client)
}

fn authorize_url(client: &crate::oauth::Client, state: &str) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid email offline_access")
        .append_pair("state", state)
        .append_pair("nonce", "n-123")
        .finish();
    format!("/acme/v1/oauth/authorize?{query}")
}

/// Signs alice in on the hosted page reached from `start`; returns the response
/// to the sign-in form and its `Set-Cookie` headers.
pub async fn sign_in(
    browser: &mut Browser<'_>,
    start: &str,
    password: &str,
) -> (Resp, Vec<String>) {
    let (resp, _) = browser.get(start).await;
    let login = location(&resp);
    assert!(login.starts_with("/acme/login?return_to="), "{login}");
    let (page, _) = browser.get(&login).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = field(&page.text, "csrf_token");
    let return_to = field(&page.text, "return_to");
    let action = form_action(&page.text);
    browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("return_to", &return_to),
                ("email", "alice@example.com"),
                ("password", password),
            ],
        )
        .await
}

#[tokio::test]
async fn a_browser_signs_in_consents_and_the_client_gets_tokens() {
    let (app, client) = setup().await;
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "st-1");

    // Not signed in: the hosted login page, which names the app and allows the
    // client's redirect as the end of its form's redirect chain.
    let (resp, _) = browser.get(&start).await;
    let login = location(&resp);
    let return_to: String =
        url::form_urlencoded::parse(login.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "return_to")
            .unwrap()
            .1
            .into_owned();
    assert_eq!(return_to, start);
    let (page, set_cookies) = browser.get(&login).await;
    assert_eq!(page.status, 200);
    assert_page_headers(&page);
    assert!(page.text.contains("Sign in to Acme Cloud"), "{}", page.text);
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("form-action 'self' https://client.example.com;"),
        "{:?}",
        page.header("content-security-policy")
    );
    let csrf_cookie = set_cookies
        .iter()
        .find(|c| c.starts_with("heimdall_csrf="))
        .unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"),
        "{csrf_cookie}"
    );
    assert!(
        !csrf_cookie.contains("Secure"),
        "http public URL: {csrf_cookie}"
    );

    // A wrong password: the form again, 401, no session cookie, no hint which was wrong.
    let signed_in_before = app.audit("user.signed_in").await.len();
    let (resp, set_cookies) = sign_in(&mut browser, &start, "wrong password!").await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(
        resp.text.contains("The email or password is not correct."),
        "{}",
        resp.text
    );
    assert!(resp.text.contains("value=\"alice@example.com\""));
    assert!(set_cookies.iter().all(|c| !c.starts_with("hm_session=")));

    // The right password: a session cookie and back to the authorization.
    let (resp, set_cookies) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    assert_eq!(location(&resp), start);
    let session = set_cookies
        .iter()
        .find(|c| c.starts_with("hm_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/acme", "Max-Age="] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"));
    assert_eq!(
        app.audit("user.signed_in").await.len(),
        signed_in_before + 1
    );

    // Signed in, not yet consented: the consent page.
    let (resp, _) = browser.get(&start).await;
    let consent = location(&resp);
    assert!(consent.starts_with("/acme/consent?request="), "{consent}");
    let (page, _) = browser.get(&consent).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_page_headers(&page);
    assert!(
        page.text
            .contains("My &lt;App&gt; wants to access your Acme Cloud account"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("src=\"https://client.example.com/logo.png\"")
    );
    assert!(
        page.text
            .contains("href=\"https://client.example.com/privacy\"")
    );
    assert!(page.text.contains("Plans your week"));
    assert!(
        page.text.contains("<strong>email</strong>"),
        "{}",
        page.text
    );
    assert!(page.text.contains("<strong>offline_access</strong>"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("https://client.example.com")
    );
    let csrf = field(&page.text, "csrf_token");
    let request = field(&page.text, "request");
    let action = form_action(&page.text);

    // A forged submission (no or another CSRF token) changes nothing.
    let (resp, _) = browser
        .post_form(&action, &[("request", &request), ("decision", "approve")])
        .await;
    assert_eq!(resp.status, 403, "{}", resp.text);
    let (resp, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &"A".repeat(43)),
                ("request", &request),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(resp.status, 403);
    assert!(app.audit("consent.granted").await.is_empty());

    // Allow: to the client with code, state and iss.
    let (resp, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    let params = location_params(&resp);
    assert!(location(&resp).starts_with(REDIRECT));
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], app.issuer("acme"));
    let tokens = exchange(&app, &client, &params["code"], None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert!(
        tokens.body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("hm_rt_")
    );
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

    // The answered request cannot be answered again.
    let (resp, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(resp.status, 410, "{}", resp.text);

    // Next time: signed in and consented, straight back to the client.
    let (resp, _) = browser.get(&authorize_url(&client, "st-2")).await;
    let params = location_params(&resp);
    assert_eq!(params["state"], "st-2");
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn deny_returns_access_denied_and_return_to_stays_on_this_origin() {
    let (app, client) = setup().await;
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "st-9");
    let (resp, _) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(resp.status, 303);
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
                ("decision", "maybe"),
            ],
        )
        .await;
    assert_eq!(resp.status, 400);
    let (resp, _) = browser
        .post_form(
            "/acme/consent",
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "deny"),
            ],
        )
        .await;
    let params = location_params(&resp);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-9");
    assert!(!params.contains_key("code"));

    // return_to is a path of this app, never elsewhere (GET and POST alike).
    for bad in [
        "https://evil.example/",
        "//evil.example/acme/x",
        "/other/v1/oauth/authorize",
        "/acme/\\evil",
        "javascript:alert(1)",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        let (resp, _) = browser
            .get(&format!("/acme/login?return_to={encoded}"))
            .await;
        assert_eq!(resp.status, 400, "{bad}: {}", resp.text);
    }
    let (page, _) = Browser::new(&app).get("/acme/login").await;
    let csrf_value = field(&page.text, "csrf_token");
    let mut fresh = Browser::new(&app);
    fresh
        .cookies
        .insert("heimdall_csrf".into(), (csrf_value.clone(), "/acme".into()));
    let (resp, set_cookies) = fresh
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", csrf_value.as_str()),
                ("return_to", "https://evil.example/"),
                ("email", "alice@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.header("location").is_none());
    assert!(set_cookies.iter().all(|c| !c.starts_with("hm_session=")));

    // Without return_to the page just says so; a second visit sees the session.
    let (resp, _) = fresh
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", csrf_value.as_str()),
                ("email", "alice@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp.text.contains("You are signed in"));
    let (resp, _) = fresh.get("/acme/login").await;
    assert!(resp.text.contains("alice@example.com"), "{}", resp.text);
}

#[tokio::test]
async fn the_browser_session_ends_with_its_heimdall_session() {
    let (app, client) = setup().await;
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "s");
    let (resp, _) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(resp.status, 303);
    let (resp, _) = browser.get(&start).await;
    assert!(location(&resp).starts_with("/acme/consent"));

    // Signing out everywhere (here: the admin revokes alice's sessions).
    let users = app
        .get(
            "/v1/apps/acme/users?email=alice@example.com",
            Some(&app.root_key),
        )
        .await;
    let alice = users.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "alice@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .delete(
            &format!("/v1/apps/acme/users/{alice}/sessions"),
            Some(&app.root_key),
        )
        .await;
    assert!(resp.status == 200 || resp.status == 204, "{}", resp.text);
    let (resp, _) = browser.get(&start).await;
    assert!(
        location(&resp).starts_with("/acme/login?"),
        "{:?}",
        resp.header("location")
    );

    // The consent page without a session sends the browser to sign in first.
    let (resp, _) = Browser::new(&app).get("/acme/consent?request=abc").await;
    let to = location(&resp);
    assert!(
        to.starts_with("/acme/login?return_to=%2Facme%2Fconsent%3Frequest%3Dabc"),
        "{to}"
    );
    let (resp, _) = Browser::new(&app).get("/acme/consent").await;
    assert_eq!(resp.status, 400);
    let (resp, _) = Browser::new(&app).get("/nope/login").await;
    assert_eq!(resp.status, 404);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn cookies_are_secure_behind_https_and_login_url_sends_browsers_elsewhere() {
    let app = spawn_app_with(|c| c.public_url = Some("https://id.example.com".into())).await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", "correct horse battery")
        .await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let client = register(
        &app,
        &developer,
        json!({"name": "C", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email", "offline_access"]}),
    )
    .await;
    let mut browser = Browser::new(&app);
    let (page, set_cookies) = browser.get("/acme/login").await;
    assert_eq!(page.status, 200);
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("heimdall_csrf=") && c.contains("; Secure"))
    );
    let csrf = field(&page.text, "csrf_token");
    let (resp, set_cookies) = browser
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", csrf.as_str()),
                ("email", "alice@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let session = set_cookies
        .iter()
        .find(|c| c.starts_with("hm_session="))
        .unwrap();
    assert!(session.contains("; Secure"), "{session}");

    // A custom login page: browsers go there, with an absolute return_to.
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"login_url": "https://login.acme.example/signin?lang=en"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let start = authorize_url(&client, "s");
    let (resp, _) = Browser::new(&app).get(&start).await;
    let to = url::Url::parse(&location(&resp)).unwrap();
    assert_eq!(to.host_str(), Some("login.acme.example"));
    let pairs: HashMap<String, String> = to
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(pairs["lang"], "en");
    assert_eq!(pairs["return_to"], format!("https://id.example.com{start}"));
}

#[tokio::test]
async fn the_default_app_keeps_its_browser_session_at_the_root_paths() {
    let app = spawn_app_with(|c| c.default_app = Some("acme".into())).await;
    app.create_app("acme").await;
    app.signup("acme", "alice@example.com", "correct horse battery")
        .await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    let client = register(
        &app,
        &developer,
        json!({"name": "C", "redirect_uris": [REDIRECT], "allowed_scopes": ["openid", "email", "offline_access"]}),
    )
    .await;
    let doc: Value = app
        .get("/.well-known/openid-configuration", None)
        .await
        .body;
    let root_authorize = doc["authorization_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(root_authorize, app.url("/v1/oauth/authorize"));
    let mut browser = Browser::new(&app);
    let query = authorize_url(&client, "r")
        .split_once('?')
        .unwrap()
        .1
        .to_owned();
    let start = format!("/v1/oauth/authorize?{query}");
    let (resp, set_cookies) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("hm_session=") && c.contains("Path=/;")),
        "{set_cookies:?}"
    );
    // The root authorize path sees the session.
    let (resp, _) = browser.get(&start).await;
    assert!(
        location(&resp).starts_with("/acme/consent?request="),
        "{:?}",
        resp.header("location")
    );
}

#[tokio::test]
async fn prompt_login_signs_in_again_and_prompt_consent_asks_again() {
    let (app, client) = setup().await;
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "p");
    let (resp, _) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(resp.status, 303);
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
    assert!(location_params(&resp).contains_key("code"));

    // prompt=login: the form again despite the live session; afterwards the
    // authorization continues without `login`, so it does not ask forever.
    let again = format!("{start}&prompt=login");
    let (resp, _) = browser.get(&again).await;
    let login = location(&resp);
    assert!(login.starts_with("/acme/login?return_to="), "{login}");
    assert!(login.ends_with("&prompt=login"), "{login}");
    let (page, _) = browser.get(&login).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let return_to = field(&page.text, "return_to");
    assert!(!return_to.contains("prompt"), "{return_to}");
    let (resp, _) = browser
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", field(&page.text, "csrf_token").as_str()),
                ("return_to", &return_to),
                ("email", "alice@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    let (resp, _) = browser.get(&location(&resp)).await;
    assert_eq!(resp.status, 302, "{}", resp.text);
    assert!(location_params(&resp).contains_key("code"));

    // prompt=consent: the consent page although consent was given.
    let (resp, _) = browser.get(&format!("{start}&prompt=consent")).await;
    assert!(
        location(&resp).starts_with("/acme/consent?request="),
        "{:?}",
        resp.header("location")
    );
    // prompt=none cannot be combined with anything.
    let (resp, _) = browser.get(&format!("{start}&prompt=none%20login")).await;
    assert_eq!(location_params(&resp)["error"], "invalid_request");
}

/// The hosted login page's second step (docs/src/mfa.md): after the password, a
/// TOTP form; a wrong code shows it again; the right one sets the session cookie and
/// the authorization goes on to consent, and the ID token says how the user signed in.
#[tokio::test]
async fn the_hosted_login_asks_for_the_second_factor() {
    use crate::mfa::{enrol_totp, next_step, totp_now};
    let (app, client) = setup().await;
    let token = app
        .signin("acme", "alice@example.com", "correct horse battery")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, secret, confirmed) = enrol_totp(&app, &token).await;
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "st-mfa");

    // The password: no session yet, the second-step page instead.
    let (page, set_cookies) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(set_cookies.iter().all(|c| !c.starts_with("hm_session=")));
    assert_page_headers(&page);
    assert!(page.text.contains("Confirm it is you"), "{}", page.text);
    assert!(page.text.contains("autocomplete=\"one-time-code\""));
    assert!(page.text.contains("Use a recovery code"));
    // No WebAuthn factor: no script on this page, and none inline ever.
    assert!(!page.text.contains("<script"), "{}", page.text);
    let csp = page.header("content-security-policy").unwrap();
    assert!(!csp.contains("script-src"), "{csp}");
    let csrf = field(&page.text, "csrf_token");
    let mfa_token = field(&page.text, "mfa_token");
    let return_to = field(&page.text, "return_to");
    assert_eq!(return_to, start);
    let action = form_action(&page.text);
    assert_eq!(action, "/acme/login/mfa");

    // A wrong code: the form again, 401, no session.
    let (resp, set_cookies) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("mfa_token", &mfa_token),
                ("method", "totp"),
                ("return_to", &return_to),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(resp.text.contains("That did not work"), "{}", resp.text);
    assert!(set_cookies.iter().all(|c| !c.starts_with("hm_session=")));
    // Without the CSRF token nothing happens.
    let (resp, _) = browser
        .post_form(
            &action,
            &[("mfa_token", &mfa_token), ("method", "totp"), ("code", "1")],
        )
        .await;
    assert_eq!(resp.status, 403);

    // The right code: the session cookie, back to the authorization, then consent.
    next_step(&app);
    let code = totp_now(&app, &secret);
    let (resp, set_cookies) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("mfa_token", &mfa_token),
                ("method", "totp"),
                ("return_to", &return_to),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    assert_eq!(location(&resp), start);
    assert!(set_cookies.iter().any(|c| c.starts_with("hm_session=")));
    let (resp, _) = browser.get(&start).await;
    let consent = location(&resp);
    assert!(consent.starts_with("/acme/consent?request="), "{consent}");
    let (page, _) = browser.get(&consent).await;
    let csrf = field(&page.text, "csrf_token");
    let request = field(&page.text, "request");
    let (resp, _) = browser
        .post_form(
            &form_action(&page.text),
            &[
                ("csrf_token", &csrf),
                ("request", &request),
                ("decision", "approve"),
            ],
        )
        .await;
    let params = location_params(&resp);
    let exchanged = exchange(&app, &client, &params["code"], None).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    let claims = crate::signing_keys::verify_with_jwks(
        &app,
        "acme",
        exchanged.body["id_token"].as_str().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));

    // A recovery code works there too; a used-up mfa_token says to start again.
    let mut browser = Browser::new(&app);
    let (page, _) = sign_in(&mut browser, &start, "correct horse battery").await;
    let csrf = field(&page.text, "csrf_token");
    let mfa_token = field(&page.text, "mfa_token");
    let recovery = confirmed["recovery_codes"][0].as_str().unwrap();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("mfa_token", mfa_token.as_str()),
        ("method", "recovery_code"),
        ("return_to", start.as_str()),
        ("code", recovery),
    ];
    let (resp, _) = browser.post_form("/acme/login/mfa", &form).await;
    assert_eq!(resp.status, 303, "{}", resp.text);
    let (resp, _) = browser.post_form("/acme/login/mfa", &form).await;
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(resp.text.contains("Sign in again"), "{}", resp.text);
}

/// With a WebAuthn factor the second-step page loads Heimdall's own script, which
/// the CSP allows (same origin only), and the script is served.
#[tokio::test]
async fn the_hosted_webauthn_step_loads_only_a_same_origin_script() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let (app, client) = setup().await;
    let token = app
        .signin("acme", "alice@example.com", "correct horse battery")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    crate::mfa::enrol_totp(&app, &token).await;
    // Mark the factor as a WebAuthn one: the page only looks at the kinds.
    let factor = entity::mfa_factor::Entity::find()
        .one(&*app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut model: entity::mfa_factor::ActiveModel = factor.into();
    model.kind = Set("webauthn".into());
    model.update(&*app.state.db).await.unwrap();
    let mut browser = Browser::new(&app);
    let start = authorize_url(&client, "st-wa");
    let (page, _) = sign_in(&mut browser, &start, "correct horse battery").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("id=\"webauthn-button\""),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<script src=\"/acme/login/webauthn.js\" defer></script>")
    );
    assert!(
        page.text
            .contains("data-start=\"/acme/v1/auth/mfa/webauthn/start\"")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = app.get("/acme/login/webauthn.js", None).await;
    assert_eq!(script.status, 200);
    assert!(
        script
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.text.contains("navigator.credentials.get"));
}
