//! The OpenAPI document (docs/src/api-conventions.md#openapi): the committed
//! `openapi.json` equals the served one, every route of the router is in it (and
//! every operation in it is a route), and the browsable reference is self-contained.

use std::collections::BTreeSet;

use reqwest::Method;

use crate::helpers::spawn_app;

#[tokio::test]
async fn committed_openapi_matches_the_served_document() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let text = heimdall::http::openapi::document_text();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "openapi.json is out of date: run `cargo run -- export-openapi > openapi.json` (or UPDATE_OPENAPI=1 cargo test)"
    );

    let app = spawn_app().await;
    let served = app.get("/openapi.json", None).await;
    assert_eq!(served.status, 200, "{}", served.text);
    assert!(
        served
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/json"))
    );
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served.body, committed);
    assert_eq!(served.body["openapi"], "3.1.0");
    // The security schemes the lanes use are declared.
    for scheme in [
        "root_key",
        "app_key",
        "end_user",
        "dpop",
        "client_basic",
        "scim_token",
    ] {
        assert!(
            served.body["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    // The envelopes of the API conventions are there, and lists name their cursor.
    let list = &served.body["paths"]["/v1/apps/{app}/users"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(
        list["properties"]["data"]["items"]["$ref"],
        "#/components/schemas/UserDto"
    );
    assert!(list["properties"]["next_cursor"].is_object());
    assert_eq!(
        served.body["components"]["schemas"]["ErrorEnvelope"]["required"][0],
        "error"
    );
    // A DTO's schema comes from its Rust type.
    let user = &served.body["components"]["schemas"]["UserDto"];
    assert!(
        user["properties"]["email_verified"]["type"] == "boolean",
        "{user}"
    );
}

#[tokio::test]
async fn openapi_is_served_under_the_base_path_with_its_server() {
    let app = crate::helpers::spawn_app_with(|c| c.base_path = "/heimdall".into()).await;
    // The test client's address already ends in the base path.
    let served = app.get("/openapi.json", None).await;
    assert!(app.address.ends_with("/heimdall"));
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(served.body["servers"][0]["url"], "/heimdall");
}

/// Routes of the router that are not REST: hosted HTML pages (`/{slug}/<page>`),
/// the console, GraphQL (its own schema, `schema.graphql`), `/metrics` (Prometheus
/// text, normally on its own listener) and SCIM's catch-all for unknown endpoints.
fn not_rest(path: &str) -> bool {
    const OTHERS: &[&str] = &[
        "/graphql",
        "/graphql/assets/{file}",
        "/metrics",
        "/{slug}/scim/v2/{*rest}",
    ];
    if OTHERS.contains(&path) || path == "/console" || path.starts_with("/console/") {
        return true;
    }
    match path.strip_prefix("/{slug}/") {
        Some(rest) => {
            let first = rest.split('/').next().unwrap_or_default();
            !matches!(first, "v1" | "scim" | ".well-known")
        }
        None => false,
    }
}

/// Every path literal given to `.route(` in `src/http/`.
fn router_paths() -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/http"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for piece in source.split(".route(").skip(1) {
                let piece = piece.trim_start();
                if let Some(rest) = piece.strip_prefix('"') {
                    let literal = rest.split('"').next().unwrap();
                    paths.insert(literal.to_owned());
                }
            }
        }
    }
    paths
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{app}" | "{slug}" => "probe-app",
            s if s.starts_with('{') => "probe",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Walks the router: every method answering anything but 405 on every registered
/// path is an operation, and must be in the document; every documented operation
/// must reach a handler (neither 405 nor the router's "no such route").
#[tokio::test]
async fn every_route_is_in_the_document_and_every_operation_is_a_route() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.metrics_token = Some(heimdall::config::Secret::new("probe-metrics".into()));
    })
    .await;
    let documented: BTreeSet<(String, String)> = heimdall::http::openapi::operations()
        .map(|(method, path)| (method.to_owned(), path.to_owned()))
        .collect();
    let paths = router_paths();
    assert!(paths.len() > 100, "found only {} routes", paths.len());
    assert!(paths.contains("/v1/apps/{app}/users"));

    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    let mut missing = Vec::new();
    let mut registered = BTreeSet::new();
    for path in &paths {
        for method in &methods {
            let resp = app
                .send_raw(method.clone(), &concrete(path), None, None, Vec::new())
                .await;
            if resp.status == 405 {
                continue;
            }
            let key = (method.as_str().to_lowercase(), path.clone());
            registered.insert(key.clone());
            if !not_rest(path) && !documented.contains(&key) {
                missing.push(format!("{} {path}", method.as_str()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (src/http/openapi.rs): {missing:#?}"
    );

    let mut phantom = Vec::new();
    for (method, path) in &documented {
        if !registered.contains(&(method.clone(), path.clone())) {
            phantom.push(format!("{method} {path}"));
        }
    }
    assert!(
        phantom.is_empty(),
        "documented operations the router does not have: {phantom:#?}"
    );
}

#[tokio::test]
async fn the_api_reference_is_served_from_embedded_assets() {
    let app = spawn_app().await;
    let page = app.get("/docs/api", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    assert!(
        !page.text.contains("http"),
        "no absolute URL: {}",
        page.text
    );
    assert!(page.text.contains(r#"data-document="/openapi.json""#));

    // Every script and stylesheet the page names is served from here.
    let assets: Vec<&str> = page
        .text
        .split(['"', '\''])
        .filter(|s| s.starts_with("/docs/api/assets/"))
        .collect();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for asset in assets {
        let plain = app.get(asset, None).await;
        assert_eq!(plain.status, 200, "{asset}");
        assert!(plain.text.len() > 200, "{asset}");
        let gz = app
            .client
            .get(app.url(asset))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gz.status(), 200);
    }
    assert_eq!(app.get("/docs/api/assets/nope.js", None).await.status, 404);
}
