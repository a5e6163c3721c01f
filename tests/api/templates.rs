//! Pages and mail from templates: an operator's `HEIMDALL_TEMPLATES_DIR` replaces
//! the embedded templates, and values from outside never reach a page unescaped.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    helpers::{Resp, TestApp, read, spawn_app, spawn_app_with},
    smtp_sink::SmtpSink,
};

const PW: &str = "correct horse battery";

/// GETs a hosted page; returns the response, the CSRF cookie and the form's field.
async fn get_form(app: &TestApp, path: &str) -> (Resp, String, String) {
    let resp = read(app.client.get(app.url(path)).send().await.unwrap()).await;
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

#[tokio::test]
async fn an_operators_templates_brand_the_pages_and_the_mail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages")).unwrap();
    std::fs::create_dir_all(dir.path().join("mail")).unwrap();
    let base = include_str!("../../templates/pages/base.html").replace(
        "<main>\n",
        "<header class=\"brand\">Acme Identity</header>\n<main>\n",
    );
    let base = base.replace(
        "</main>\n",
        "</main>\n{% include \"pages/footer.html\" %}\n",
    );
    std::fs::write(dir.path().join("pages/base.html"), base).unwrap();
    std::fs::write(
        dir.path().join("pages/footer.html"),
        "<footer>Help: support@acme.example</footer>",
    )
    .unwrap();
    let style = "body{background:#fafaff}.brand{font-weight:700}";
    std::fs::write(dir.path().join("pages/style.css"), format!("{style}\n")).unwrap();
    std::fs::write(
        dir.path().join("mail/password_reset.subject.txt"),
        "{{ app_name }}: choose a new password\n",
    )
    .unwrap();

    let sink = SmtpSink::start().await;
    let smtp_url = sink.url();
    let templates_dir = dir.path().to_path_buf();
    let app = spawn_app_with(|c| {
        c.templates_dir = Some(templates_dir);
        c.smtp_url = Some(heimdall::config::Secret::new(smtp_url));
        c.smtp_from = Some("Acme Accounts <no-reply@acme.test>".into());
    })
    .await;
    app.create_app("acme").await;

    // The sign-in page: the operator's layout around Heimdall's form.
    let (page, cookie, csrf) = get_form(&app, "/acme/login").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains(
            "<header class=\"brand\">Acme Identity</header>\n<main>\n<h1>Sign in to acme app</h1>"
        ),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<footer>Help: support@acme.example</footer>")
    );
    assert!(page.text.contains(&format!("<style>{style}</style>")));
    assert!(page.text.contains("<title>Sign in to acme app</title>"));
    assert!(page.text.contains("name=\"email\"") && page.text.contains("name=\"password\""));
    assert_eq!(csrf.len(), 43);
    assert!(cookie.starts_with("heimdall_csrf="));
    // The CSP allows exactly the operator's style.
    let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    // Error pages share the layout.
    let missing = read(app.client.get(app.url("/nope/login")).send().await.unwrap()).await;
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("Acme Identity"));
    assert!(missing.text.contains("<h1>Not found</h1>"));

    // Mail: the overridden subject, the embedded body.
    app.signup("acme", "alice@example.com", PW).await;
    let resp = app
        .post(
            "/acme/v1/password/forgot",
            None,
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(resp.status, 202, "{}", resp.text);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].subject(), "acme app: choose a new password");
    assert!(
        mails[0]
            .decoded()
            .contains("Someone asked to reset the password of your acme app account."),
        "{}",
        mails[0].decoded()
    );
}

#[tokio::test]
async fn a_broken_override_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages")).unwrap();
    std::fs::write(
        dir.path().join("pages/login.html"),
        "{% extends \"pages/base.html\" %}{% block content %}{% if %}{% endblock %}",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let (_db, url) = crate::helpers::TestDb::create().await;
    let mut config = crate::helpers::test_config(url, data.path());
    config.templates_dir = Some(dir.path().to_path_buf());
    let err = heimdall::startup::Application::build(config)
        .await
        .err()
        .expect("the start fails");
    assert!(err.to_string().contains("pages/login.html"), "{err:#}");
}

#[tokio::test]
async fn attacker_controlled_values_are_escaped_on_the_pages() {
    let app = spawn_app().await;
    let evil = "<script>alert(1)</script> & \"Co\"";
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;";
    app.create_app_with(json!({"name": "evil", "display_name": evil}))
        .await;

    let (page, cookie, csrf) = get_form(&app, "/evil/login").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(!page.text.contains("<script"), "{}", page.text);
    assert!(
        page.text
            .contains(&format!("<title>Sign in to {escaped}</title>"))
    );
    assert!(
        page.text
            .contains(&format!("<h1>Sign in to {escaped}</h1>"))
    );

    // A value typed into the form comes back escaped in the attribute.
    let typed = "\"><script>alert(2)</script>@example.com";
    let resp = read(
        app.client
            .post(app.url("/evil/login"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", typed),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(resp.status == 400 || resp.status == 401, "{}", resp.status);
    assert!(!resp.text.contains("<script"), "{}", resp.text);
    assert!(
        resp.text
            .contains("value=\"&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;@example.com\""),
        "{}",
        resp.text
    );

    // The path's slug is echoed in the error page, escaped.
    let resp = read(
        app.client
            .get(app.url("/%3Cscript%3Ex/login"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, 404);
    assert!(!resp.text.contains("<script"), "{}", resp.text);
    assert!(
        resp.text
            .contains("app &#x27;&lt;script&gt;x&#x27; not found"),
        "{}",
        resp.text
    );
}

#[tokio::test]
async fn an_operators_catalogs_reword_messages_and_add_a_language() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("locales")).unwrap();
    std::fs::write(
        dir.path().join("locales/de.ftl"),
        "login-submit = Los geht's\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("locales/it.ftl"),
        "language-name = Italiano\nlogin-title = Accedi a { $app }\n",
    )
    .unwrap();
    let templates_dir = dir.path().to_path_buf();
    let app = spawn_app_with(|c| c.templates_dir = Some(templates_dir)).await;
    app.create_app("acme").await;
    let get = |accept: &'static str| {
        let request = app
            .client
            .get(app.url("/acme/login"))
            .header("accept-language", accept);
        async move { read(request.send().await.unwrap()).await }
    };
    // The reworded message; the rest of German stays.
    let german = get("de").await;
    assert!(
        german.text.contains(">Los geht&#x27;s</button>"),
        "{}",
        german.text
    );
    assert!(german.text.contains(">Passwort vergessen?</a>"));
    // The operator's language: in the picker, chosen by Accept-Language, English
    // where it has no message.
    let italian = get("it-IT").await;
    assert!(
        italian.text.contains("<html lang=\"it\">"),
        "{}",
        italian.text
    );
    assert!(
        italian.text.contains("<h1>Accedi a acme app</h1>"),
        "{}",
        italian.text
    );
    assert!(italian.text.contains(">Forgot your password?</a>"));
    assert!(italian.text.contains(
        "value=\"it\" lang=\"it\" class=\"link\" aria-current=\"true\">Italiano</button>"
    ));

    // A catalog that does not parse stops the start, naming it.
    std::fs::write(dir.path().join("locales/fr.ftl"), "login-title = {\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let (_db, url) = crate::helpers::TestDb::create().await;
    let mut config = crate::helpers::test_config(url, data.path());
    config.templates_dir = Some(dir.path().to_path_buf());
    let err = heimdall::startup::Application::build(config)
        .await
        .err()
        .expect("the start fails");
    assert!(err.to_string().contains("locales/fr.ftl"), "{err}");
}
