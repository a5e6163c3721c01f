//! Operations: health, readiness, request ids, base path, CORS, security headers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let resp = app.get("/healthz", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["status"], "ok");
    let resp = app.get("/readyz", None).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let resp = app.get("/healthz", None).await;
    assert!(!resp.header("x-request-id").unwrap().is_empty());
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123");
    let resp = app.get("/nope", None).await;
    assert!(resp.header("x-request-id").is_some());
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn everything_mounts_under_the_base_path() {
    let app = spawn_app_with(|c| c.base_path = "/heimdall/".into()).await;
    assert!(app.address.ends_with("/heimdall"));
    assert_eq!(app.get("/healthz", None).await.status, 200);
    assert_eq!(app.get("/readyz", None).await.status, 200);
    let bare = app
        .client
        .get(format!("http://127.0.0.1:{}/healthz", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 404);

    let data = app.create_app("acme").await;
    assert_eq!(
        data["issuer"],
        format!("http://127.0.0.1:{}/heimdall/acme", app.port)
    );
    let resp = app.get("/v1/apps/acme", Some(&app.root_key)).await;
    assert_eq!(resp.body["_links"]["self"], "/heimdall/v1/apps/acme");
    let doc = app
        .get("/acme/v1/.well-known/openid-configuration", None)
        .await;
    assert_eq!(
        doc.body["jwks_uri"],
        format!(
            "http://127.0.0.1:{}/heimdall/acme/v1/.well-known/jwks.json",
            app.port
        )
    );
    let gql = app
        .graphql(
            Some(&app.root_key),
            "{ apps { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(gql.body["data"]["apps"]["edges"][0]["node"]["name"], "acme");
}

#[tokio::test]
async fn cors_follows_the_apps_allowed_origins() {
    let app = spawn_app().await;
    app.create_app_with(
        json!({"name": "acme", "settings": {"allowed_origins": ["https://app.acme.test"]}}),
    )
    .await;
    app.create_app("globex").await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.acme.test", "/acme/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );

    let other = preflight("https://evil.test", "/acme/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // An origin allowed for one app is not allowed for another.
    let cross = preflight("https://app.acme.test", "/globex/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert!(cross.headers().get("access-control-allow-origin").is_none());

    let simple = app
        .client
        .get(app.url("/acme/v1/.well-known/jwks.json"))
        .header("origin", "https://app.acme.test")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );

    // Updating the setting takes effect on this instance at once.
    app.patch(
        "/v1/apps/globex",
        Some(&app.root_key),
        json!({"settings": {"allowed_origins": ["https://app.acme.test"]}}),
    )
    .await;
    let now_allowed = preflight("https://app.acme.test", "/globex/v1/.well-known/jwks.json")
        .await
        .unwrap();
    assert_eq!(
        now_allowed.headers()["access-control-allow-origin"],
        "https://app.acme.test"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close_by_ref().await.unwrap();
    let resp = app.get("/readyz", None).await;
    resp.error(503, "unavailable");
    assert_eq!(app.get("/healthz", None).await.status, 200);
}

/// `/graphql` and accepting an invite belong to no one app: an origin that any app
/// allows may call them from a browser (no credentials, `Authorization` allowed);
/// any other origin gets no `Access-Control-Allow-Origin`.
#[tokio::test]
async fn browsers_on_an_allowed_origin_reach_graphql_and_invite_acceptance() {
    let app = spawn_app().await;
    app.create_app_with(
        json!({"name": "acme", "settings": {"allowed_origins": ["https://spa.acme.test"]}}),
    )
    .await;
    let preflight = |origin: &'static str, path: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    for path in ["/graphql", "/v1/invites/hm_inv_whatever/accept"] {
        let allowed = preflight("https://spa.acme.test", path).await.unwrap();
        assert!(
            allowed.status().is_success(),
            "{path}: {}",
            allowed.status()
        );
        assert_eq!(
            allowed.headers()["access-control-allow-origin"],
            "https://spa.acme.test",
            "{path}"
        );
        let headers = allowed.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(headers.contains("authorization"), "{headers}");
        assert!(
            allowed
                .headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "{path}"
        );
        let refused = preflight("https://evil.test", path).await.unwrap();
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}"
        );
    }

    // The actual request carries the header too, and an end user's GraphQL works.
    let token = app
        .signup("acme", "spa@example.com", "correct horse battery")
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://spa.acme.test")
        .bearer_auth(&token)
        .json(&json!({"query": "{ me { email } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://spa.acme.test"
    );
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], "spa@example.com", "{body}");

    // A newly created app's origin is allowed at once on this instance.
    app.create_app_with(
        json!({"name": "globex", "settings": {"allowed_origins": ["https://globex.test"]}}),
    )
    .await;
    let allowed = preflight("https://globex.test", "/graphql").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://globex.test"
    );
}

/// A check that cannot run reports SKIPPED locally and fails under `CI=true`.
#[tokio::test]
async fn the_pyjwt_check_never_passes_silently() {
    let bin = tempfile::tempdir().unwrap();
    // Only what the script needs before it looks for python3.
    let dirname = ["/usr/bin/dirname", "/bin/dirname"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .expect("dirname");
    std::os::unix::fs::symlink(dirname, bin.path().join("dirname")).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pyjwt_check.sh");
    let run = |ci: &str| {
        std::process::Command::new("/bin/bash")
            .arg(script)
            .env_clear()
            .env("PATH", bin.path())
            .env("CI", ci)
            .output()
            .unwrap()
    };
    let local = run("");
    assert!(local.status.success());
    let out = String::from_utf8_lossy(&local.stdout);
    assert!(out.contains("SKIPPED"), "{out}");
    assert!(!out.contains("passed\n"), "{out}");
    let ci = run("true");
    assert!(
        !ci.status.success(),
        "{}",
        String::from_utf8_lossy(&ci.stdout)
    );
    assert!(String::from_utf8_lossy(&ci.stderr).contains("FAILED"));
}

/// Every connected TCP socket of this process whose local (or, with `peer`, remote) port is one
/// of `ports`, with its TCP_NODELAY flag. Each descriptor is duplicated from this
/// process with `pidfd_getfd` (no unsafe code: the crate forbids it).
#[cfg(target_os = "linux")]
fn tcp_sockets_with_port(ports: &[u16], peer: bool) -> Vec<(std::net::SocketAddr, bool)> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let me = pidfd_open(getpid(), PidfdFlags::empty()).expect("pidfd_open (Linux ≥ 5.6)");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if !target.to_string_lossy().starts_with("socket:") {
            continue;
        }
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // Closed meanwhile: skipped.
        let Ok(copy) = pidfd_getfd(&me, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let sock = socket2::Socket::from(copy);
        // Connected sockets only (a listener has no peer).
        let (Ok(local), Ok(remote)) = (sock.local_addr(), sock.peer_addr()) else {
            continue;
        };
        let Some(addr) = (if peer { remote } else { local }).as_socket() else {
            continue;
        };
        if !ports.contains(&addr.port()) {
            continue;
        }
        if let Ok(nodelay) = sock.tcp_nodelay() {
            found.push((addr, nodelay));
        }
    }
    found
}

/// Regression: sqlx 0.9.0 stopped setting TCP_NODELAY on database connections, and a
/// query written in two segments then waited for PostgreSQL's delayed ACK (~40 ms: the
/// client_credentials p99 on PostgreSQL sat at 45 ms). The HTTP listener sets it too.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn database_and_http_sockets_send_without_waiting_for_acks() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    let served = tcp_sockets_with_port(&[app.port], false);
    assert!(
        !served.is_empty(),
        "the request's server-side socket is open"
    );
    assert!(served.iter().all(|(_, nodelay)| *nodelay), "{served:?}");
    if app.db.is_postgres() {
        let port = url::Url::parse(&app.config.database_url)
            .unwrap()
            .port()
            .unwrap_or(5432);
        let pooled = tcp_sockets_with_port(&[port], true);
        assert!(!pooled.is_empty(), "the pool holds PostgreSQL connections");
        assert!(pooled.iter().all(|(_, nodelay)| *nodelay), "{pooled:?}");
    }
}
