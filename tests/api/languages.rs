//! The hosted pages and mail in the visitor's language (`ui_locales`, then the
//! language cookie, then `Accept-Language`, then the app's `default_locale`), the
//! language picker, and per-app branding (docs/src/hosted-pages.md).

use serde_json::json;

use crate::{
    helpers::{Resp, TestApp, read, spawn_app, spawn_app_with},
    oauth::{REDIRECT, register},
    oauth_pages::{Browser, field, form_action, location},
    smtp_sink::SmtpSink,
};

const PW: &str = "correct horse battery";

async fn acme(settings: serde_json::Value) -> TestApp {
    let app = spawn_app().await;
    app.create_app_with(
        json!({"name": "acme", "display_name": "Acme Cloud", "settings": settings}),
    )
    .await;
    app
}

/// GETs `path` with `Accept-Language` and, when given, a `Cookie` header.
async fn get_in(app: &TestApp, path: &str, accept: &str, cookie: Option<&str>) -> Resp {
    let mut request = app
        .client
        .get(app.url(path))
        .header("accept-language", accept);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    read(request.send().await.unwrap()).await
}

fn lang_of(page: &Resp) -> &str {
    let start = page.text.find("<html lang=\"").expect("an html element") + 12;
    let end = start + page.text[start..].find('"').unwrap();
    &page.text[start..end]
}

#[tokio::test]
async fn pages_speak_the_accept_language() {
    let app = acme(json!({})).await;
    let german = get_in(&app, "/acme/login", "de-CH, de;q=0.9, en;q=0.5", None).await;
    assert_eq!(german.status, 200);
    assert_eq!(lang_of(&german), "de");
    assert!(
        german.text.contains("<h1>Bei Acme Cloud anmelden</h1>"),
        "{}",
        german.text
    );
    assert!(
        german
            .text
            .contains("<title>Bei Acme Cloud anmelden</title>")
    );
    assert!(german.text.contains(">Passwort vergessen?</a>"));
    assert!(
        german
            .text
            .contains("<label for=\"password\">Passwort</label>")
    );

    let french = get_in(&app, "/acme/signup", "fr-CA,fr;q=0.8", None).await;
    assert_eq!(lang_of(&french), "fr");
    assert!(
        french.text.contains("Créez votre compte Acme Cloud"),
        "{}",
        french.text
    );
    assert!(french.text.contains("Au moins 10 caractères."));

    // By quality, not by order; an unsupported language falls through.
    let spanish = get_in(
        &app,
        "/acme/forgot-password",
        "it, es;q=0.7, fr;q=0.2",
        None,
    )
    .await;
    assert_eq!(lang_of(&spanish), "es");
    assert!(
        spanish.text.contains("¿Olvidaste tu contraseña?"),
        "{}",
        spanish.text
    );
    let english = get_in(&app, "/acme/login", "it, pt;q=0.5", None).await;
    assert_eq!(lang_of(&english), "en");
    assert!(english.text.contains("<h1>Sign in to Acme Cloud</h1>"));

    // Error pages too, even of an app that does not exist.
    let missing = get_in(&app, "/nope/login", "de", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(lang_of(&missing), "de");
    assert!(
        missing.text.contains("<h1>Nicht gefunden</h1>"),
        "{}",
        missing.text
    );

    // The app's default when the browser names no supported language.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"default_locale": "es"}}),
    )
    .await;
    let default = get_in(&app, "/acme/login", "ja", None).await;
    assert_eq!(lang_of(&default), "es");
    assert!(default.text.contains("Inicia sesión en Acme Cloud"));
    let bad = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"default_locale": "de;x"}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("settings.default_locale"), "{}", bad.text);
}

#[tokio::test]
async fn field_errors_are_translated() {
    let app = acme(json!({"password_min_length": 12})).await;
    app.signup("acme", "taken@example.com", PW).await;
    let page = get_in(&app, "/acme/signup", "de", None).await;
    let csrf = field(&page.text, "csrf_token");
    let cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let post = |form: Vec<(&'static str, String)>| {
        let request = app
            .client
            .post(app.url("/acme/signup"))
            .header("accept-language", "de")
            .header("cookie", cookie.clone())
            .form(&form);
        async move { read(request.send().await.unwrap()).await }
    };
    let short = post(vec![
        ("csrf_token", csrf.clone()),
        ("email", "new@example.com".into()),
        ("password", "kurz".into()),
    ])
    .await;
    assert_eq!(short.status, 400);
    assert_eq!(lang_of(&short), "de");
    assert!(
        short.text.contains("Verwenden Sie mindestens 12 Zeichen."),
        "{}",
        short.text
    );
    assert!(
        short
            .text
            .contains("Bitte korrigieren Sie das markierte Feld.")
    );
    let email = post(vec![
        ("csrf_token", csrf.clone()),
        ("email", "not-an-address".into()),
        ("password", PW.into()),
    ])
    .await;
    assert!(
        email.text.contains("Das ist keine E-Mail-Adresse."),
        "{}",
        email.text
    );
    let taken = post(vec![
        ("csrf_token", csrf.clone()),
        ("email", "taken@example.com".into()),
        ("password", PW.into()),
    ])
    .await;
    assert!(
        taken
            .text
            .contains("Mit dieser E-Mail gibt es bereits ein Konto."),
        "{}",
        taken.text
    );
    // The CSRF page too.
    let forged = post(vec![
        ("csrf_token", "x".repeat(43)),
        ("email", "a@b.io".into()),
    ])
    .await;
    assert_eq!(forged.status, 403);
    assert!(
        forged.text.contains("Dieses Formular ist abgelaufen"),
        "{}",
        forged.text
    );
}

#[tokio::test]
async fn ui_locales_choose_the_language_through_the_flow() {
    let app = acme(json!({})).await;
    let developer = app.user_token("acme", "dev@example.com", "developer").await;
    app.signup("acme", "alice@example.com", PW).await;
    let client = register(
        &app,
        &developer,
        json!({
            "name": "Planner",
            "redirect_uris": [REDIRECT],
            "allowed_scopes": ["openid", "email"],
        }),
    )
    .await;
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "st")
        .append_pair("ui_locales", "fr-FR en")
        .finish();
    let start = format!("/acme/v1/oauth/authorize?{query}");
    let mut browser = Browser::new(&app);
    let (resp, _) = browser.get(&start).await;
    let login = location(&resp);
    // The sign-in page is French (the browser itself would have said German).
    let page = get_in(&app, &login, "de", None).await;
    assert_eq!(lang_of(&page), "fr", "{}", page.text);
    assert!(
        page.text.contains("Se connecter à Acme Cloud"),
        "{}",
        page.text
    );
    let (page, set_cookies) = browser.get(&login).await;
    assert_eq!(lang_of(&page), "fr");
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("heimdall_lang=fr;")),
        "{set_cookies:?}"
    );
    // The form's answer keeps it (the cookie): a wrong password, in French.
    let csrf = field(&page.text, "csrf_token");
    let return_to = field(&page.text, "return_to");
    let action = form_action(&page.text);
    let (wrong, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("return_to", &return_to),
                ("email", "alice@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .text
            .contains("L’e-mail ou le mot de passe est incorrect."),
        "{}",
        wrong.text
    );
    let (signed_in, _) = browser
        .post_form(
            &action,
            &[
                ("csrf_token", &csrf),
                ("return_to", &return_to),
                ("email", "alice@example.com"),
                ("password", PW),
            ],
        )
        .await;
    let (resp, _) = browser.get(&location(&signed_in)).await;
    let consent = location(&resp);
    assert!(consent.contains("ui_locales=fr-FR+en"), "{consent}");
    // The consent page: French from ui_locales, even over a German cookie.
    browser
        .cookies
        .insert("heimdall_lang".into(), ("de".into(), "/acme".into()));
    let (page, _) = browser.get(&consent).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(lang_of(&page), "fr");
    assert!(
        page.text
            .contains("Planner souhaite accéder à votre compte Acme Cloud"),
        "{}",
        page.text
    );
    assert!(page.text.contains(">Autoriser</button>"));
}

#[tokio::test]
async fn the_picker_keeps_the_language_and_returns_to_the_page() {
    let app = acme(json!({})).await;
    let mut browser = Browser::new(&app);
    let (page, _) = browser.get("/acme/forgot-password").await;
    assert_eq!(lang_of(&page), "en");
    // One button per language, each in its own language, the current one marked.
    for (tag, name) in [
        ("en", "English"),
        ("de", "Deutsch"),
        ("fr", "Français"),
        ("es", "Español"),
    ] {
        assert!(
            page.text.contains(&format!(
                "name=\"lang\" value=\"{tag}\" lang=\"{tag}\" class=\"link\""
            )),
            "{}",
            page.text
        );
        assert!(page.text.contains(&format!(">{name}</button>")));
    }
    assert!(
        page.text
            .contains("value=\"en\" lang=\"en\" class=\"link\" aria-current=\"true\">")
    );
    assert!(
        page.text
            .contains("<form method=\"post\" action=\"/acme/language\"")
    );
    let csrf = field(&page.text, "csrf_token");
    assert_eq!(field(&page.text, "back_to"), "/acme/forgot-password");

    // Without the CSRF token nothing changes.
    let (forged, set) = browser
        .post_form(
            "/acme/language",
            &[
                ("csrf_token", &"x".repeat(43)),
                ("lang", "de"),
                ("back_to", "/acme/login"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        !set.iter().any(|c| c.starts_with("heimdall_lang=")),
        "{set:?}"
    );
    // Elsewhere than this app, or an unknown language: refused.
    let (away, _) = browser
        .post_form(
            "/acme/language",
            &[
                ("csrf_token", &csrf),
                ("lang", "de"),
                ("back_to", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(away.status, 400);
    let (unknown, _) = browser
        .post_form(
            "/acme/language",
            &[
                ("csrf_token", &csrf),
                ("lang", "xx"),
                ("back_to", "/acme/login"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 400);

    let (picked, set) = browser
        .post_form(
            "/acme/language",
            &[
                ("csrf_token", &csrf),
                ("lang", "es"),
                ("back_to", "/acme/forgot-password"),
            ],
        )
        .await;
    assert_eq!(location(&picked), "/acme/forgot-password");
    let cookie = set
        .iter()
        .find(|c| c.starts_with("heimdall_lang=es;"))
        .unwrap_or_else(|| panic!("{set:?}"));
    assert!(
        cookie.contains("Path=/acme") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The cookie wins over Accept-Language.
    let page = get_in(
        &app,
        "/acme/forgot-password",
        "de",
        Some("heimdall_lang=es"),
    )
    .await;
    assert_eq!(lang_of(&page), "es");
    assert!(
        page.text
            .contains("value=\"es\" lang=\"es\" class=\"link\" aria-current=\"true\">")
    );
}

#[tokio::test]
async fn mail_goes_out_in_the_users_language() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(heimdall::config::Secret::new(url));
        c.smtp_from = Some("Acme <no-reply@acme.test>".into());
    })
    .await;
    app.create_app_with(json!({
        "name": "acme",
        "display_name": "Acme Cloud",
        "settings": {"require_verified_email": true},
    }))
    .await;
    // Signing up on the German page: the verification mail is German…
    let page = get_in(&app, "/acme/signup", "de-DE", None).await;
    let csrf = field(&page.text, "csrf_token");
    let cookie = page
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let resp = read(
        app.client
            .post(app.url("/acme/signup"))
            .header("accept-language", "de-DE")
            .header("cookie", cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", "greta@example.com"),
                ("display_name", "Greta"),
                ("password", PW),
                ("confirm_password", PW),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(
        resp.text.contains("Sehen Sie in Ihr Postfach"),
        "{}",
        resp.text
    );
    let mails = sink.wait_for(1).await;
    assert_eq!(
        mails[0].subject(),
        "Bestätigen Sie Ihre E-Mail für Acme Cloud"
    );
    assert!(
        mails[0].decoded().contains("Hallo Greta,"),
        "{}",
        mails[0].decoded()
    );
    // …and so is later mail, whatever the request asking for it speaks.
    let resp = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "greta@example.com"}),
        )
        .await;
    assert_eq!(resp.status, 202, "{}", resp.text);
    let mails = sink.wait_for(2).await;
    assert_eq!(
        mails[1].subject(),
        "Setzen Sie Ihr Acme Cloud-Passwort zurück"
    );
    assert!(
        mails[1].decoded().contains("Der Link funktioniert einmal"),
        "{}",
        mails[1].decoded()
    );
    // A user who never chose one gets the app's default.
    app.patch(
        "/v1/apps/acme",
        Some(&app.root_key),
        json!({"settings": {"default_locale": "fr", "require_verified_email": false}}),
    )
    .await;
    app.signup("acme", "remy@example.com", PW).await;
    app.post(
        "/acme/v1/password/forgot",
        None,
        json!({"email": "remy@example.com"}),
    )
    .await;
    let mails = sink.wait_for(3).await;
    assert_eq!(
        mails[2].subject(),
        "Réinitialisez votre mot de passe Acme Cloud"
    );
}

#[tokio::test]
async fn picking_a_language_while_signed_in_changes_the_mail() {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(heimdall::config::Secret::new(url));
        c.smtp_from = Some("Acme <no-reply@acme.test>".into());
    })
    .await;
    app.create_app_with(json!({"name": "acme", "display_name": "Acme Cloud"}))
        .await;
    app.signup("acme", "ana@example.com", PW).await;
    let mut browser = Browser::new(&app);
    let (page, _) = browser.get("/acme/login").await;
    let csrf = field(&page.text, "csrf_token");
    let (signed_in, _) = browser
        .post_form(
            "/acme/login",
            &[
                ("csrf_token", &csrf),
                ("email", "ana@example.com"),
                ("password", PW),
            ],
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let (picked, _) = browser
        .post_form(
            "/acme/language",
            &[
                ("csrf_token", &csrf),
                ("lang", "es"),
                ("back_to", "/acme/account"),
            ],
        )
        .await;
    assert_eq!(location(&picked), "/acme/account");
    let (account, _) = browser.get("/acme/account").await;
    assert!(
        account.text.contains("Tu cuenta de Acme Cloud"),
        "{}",
        account.text
    );
    app.post(
        "/acme/v1/password/forgot",
        None,
        json!({"email": "ana@example.com"}),
    )
    .await;
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].subject(), "Restablece tu contraseña de Acme Cloud");
}

#[tokio::test]
async fn branding_is_checked_and_shown_on_every_page() {
    let app = acme(json!({})).await;
    for (branding, field) in [
        (
            json!({"primary_color": "red"}),
            "settings.branding.primary_color",
        ),
        (
            json!({"background_color": "#12345"}),
            "settings.branding.background_color",
        ),
        (
            json!({"logo_url": "http://cdn.example.com/l.png"}),
            "settings.branding.logo_url",
        ),
        (
            json!({"logo_url": "//cdn.example.com/l.png"}),
            "settings.branding.logo_url",
        ),
        (
            json!({"custom_css_url": "javascript:alert(1)"}),
            "settings.branding.custom_css_url",
        ),
        (
            json!({"custom_css_url": "https://cdn.example.com/a;b.css"}),
            "settings.branding.custom_css_url",
        ),
        (
            json!({"product_name": "  "}),
            "settings.branding.product_name",
        ),
        (json!({"favicon": "x"}), "settings.branding.favicon"),
    ] {
        let resp = app
            .patch(
                "/v1/apps/acme",
                Some(&app.root_key),
                json!({"settings": {"branding": branding}}),
            )
            .await;
        assert_eq!(resp.status, 400, "{branding}: {}", resp.text);
        assert!(resp.text.contains(field), "{branding}: {}", resp.text);
    }
    let resp = app
        .patch(
            "/v1/apps/acme",
            Some(&app.root_key),
            json!({"settings": {"branding": {
                "logo_url": "https://cdn.example.com/brand/logo.svg?v=3",
                "primary_color": "#FFD60A",
                "background_color": "#102030",
                "product_name": "Acme <Identity>",
                "custom_css_url": "/static/acme.css",
            }}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(
        resp.body["data"]["settings"]["branding"]["primary_color"],
        "#ffd60a"
    );

    for path in [
        "/acme/login",
        "/acme/signup",
        "/acme/forgot-password",
        "/acme/reset-password",
    ] {
        let page = read(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert!(
            page.text.contains(
                "<img class=\"brand-logo\" src=\"https://cdn.example.com/brand/logo.svg?v=3\" alt=\"\">"
            ),
            "{path}: {}",
            page.text
        );
        assert!(
            page.text
                .contains("<span class=\"brand-name\">Acme &lt;Identity&gt;</span>")
        );
        assert!(
            page.text
                .contains("<link rel=\"stylesheet\" href=\"/static/acme.css\">")
        );
        // Yellow buttons get black text; the page behind the card white text.
        assert!(
            page.text
                .contains("--primary:#ffd60a;--on-primary:#000000;--bg:#102030;--on-bg:#ffffff;"),
            "{path}: {}",
            page.text
        );
        let csp = page.header("content-security-policy").unwrap();
        assert!(
            csp.contains("img-src 'self' data: https://cdn.example.com/brand/logo.svg;"),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("{}/static/acme.css;", app.url(""))),
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(!csp.contains("https:;"), "{csp}");
    }
    let login = read(app.client.get(app.url("/acme/login")).send().await.unwrap()).await;
    assert!(
        login
            .text
            .contains("<title>Sign in to Acme &lt;Identity&gt;</title>")
    );

    // GraphQL reads and changes the same setting.
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation { updateApp(name: \"acme\", input: {settings: {defaultLocale: \"de\", branding: {productName: \"Acme ID\", logoUrl: null}}}) { settings { defaultLocale branding { productName logoUrl primaryColor customCssUrl } } } }",
            json!({}),
        )
        .await;
    assert!(resp.body["errors"].is_null(), "{}", resp.text);
    let settings = &resp.body["data"]["updateApp"]["settings"];
    assert_eq!(settings["defaultLocale"], "de");
    assert_eq!(settings["branding"]["productName"], "Acme ID");
    assert!(settings["branding"]["logoUrl"].is_null());
    assert_eq!(settings["branding"]["primaryColor"], "#ffd60a");
    let resp = app
        .graphql(
            Some(&app.root_key),
            "mutation { updateApp(name: \"acme\", input: {settings: {branding: {primaryColor: \"blue\"}}}) { name } }",
            json!({}),
        )
        .await;
    assert!(
        resp.text.contains("settings.branding.primary_color"),
        "{}",
        resp.text
    );
    let page = read(app.client.get(app.url("/acme/login")).send().await.unwrap()).await;
    assert!(
        page.text.contains("<h1>Bei Acme ID anmelden</h1>"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<img class=\"brand-logo\""));
}
