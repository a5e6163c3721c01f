//! Nothing acknowledged is lost: a real process killed with SIGKILL under load keeps
//! the audit entry of every answered request and the event of every committed
//! change; a PostgreSQL outage answers 503 (never a hang, never a 500) and the same
//! process serves again within seconds of the database's return.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{audit_entry, webhook_event};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::{helpers::TestDb, instances::Cluster, receiver::Receiver};

/// A claim of a JWT, read without verification (the test issued it).
fn claim(token: &str, name: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims[name].as_str().map(str::to_owned)
}

#[derive(Default)]
struct Acknowledged {
    token_jtis: HashSet<String>,
    sessions: HashSet<String>,
    users: HashSet<String>,
}

/// SIGKILL while token requests, sign-ins and user creations are in flight; then
/// the database holds an audit entry for every 2xx answer and an event for every
/// created user, and delivery resumes after a restart.
#[tokio::test]
async fn a_kill_9_under_load_loses_no_acknowledged_write() {
    let receiver = Receiver::start().await;
    let mut cluster = Cluster::start(1, &[]).await;
    cluster
        .root_post(0, "/v1/apps", json!({"name": "acme"}))
        .await;
    cluster
        .root_post(
            0,
            "/v1/apps/acme/webhooks",
            json!({"url": receiver.url, "events": ["user.created"]}),
        )
        .await;
    cluster
        .root_post(
            0,
            "/v1/apps/acme/users",
            json!({"email": "load@example.com", "password": "correct horse battery"}),
        )
        .await;
    let client = cluster
        .root_post(
            0,
            "/v1/apps/acme/m2m-clients",
            json!({"name": "svc", "scopes": ["invoice.read"]}),
        )
        .await;
    let client_id = client["data"]["client_id"].as_str().unwrap().to_owned();
    let secret = client["data"]["client_secret"].as_str().unwrap().to_owned();

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let (stop_tx, stop) = watch::channel(false);
    let base = cluster.nodes[0].base.clone();
    let root = cluster.root_key.clone();
    let mut workers = Vec::new();
    for worker in 0..6 {
        let (base, root, client_id, secret) = (
            base.clone(),
            root.clone(),
            client_id.clone(),
            secret.clone(),
        );
        let acknowledged = acknowledged.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let mut i = 0u32;
            while !*stop.borrow() {
                i += 1;
                let (path, body, token) = match worker % 3 {
                    0 => (
                        "/v1/apps/acme/tokens",
                        json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}),
                        None,
                    ),
                    1 => (
                        "/acme/v1/auth/signin",
                        json!({"email": "load@example.com", "password": "correct horse battery"}),
                        None,
                    ),
                    _ => (
                        "/v1/apps/acme/users",
                        json!({"email": format!("w{worker}-{i}@example.com")}),
                        Some(root.clone()),
                    ),
                };
                let mut request = http.post(format!("{base}{path}")).json(&body);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let Ok(response) = request.send().await else {
                    continue;
                };
                if !response.status().is_success() {
                    continue;
                }
                let Ok(answer) = response.json::<Value>().await else {
                    // Killed mid-answer: not acknowledged.
                    continue;
                };
                let mut seen = acknowledged.lock().unwrap();
                match worker % 3 {
                    0 => {
                        if let Some(jti) = answer["access_token"].as_str().and_then(|t| claim(t, "jti")) {
                            seen.token_jtis.insert(jti);
                        }
                    }
                    1 => {
                        if let Some(sid) = answer["access_token"].as_str().and_then(|t| claim(t, "sid")) {
                            seen.sessions.insert(sid);
                        }
                    }
                    _ => {
                        if let Some(id) = answer["data"]["id"].as_str() {
                            seen.users.insert(id.to_owned());
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.nodes[0].child.kill().unwrap();
    cluster.nodes[0].child.wait().unwrap();
    let _ = stop_tx.send(true);
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(
        acknowledged.token_jtis.len() > 10
            && !acknowledged.sessions.is_empty()
            && acknowledged.users.len() > 3,
        "the load did run: {} tokens, {} sign-ins, {} users",
        acknowledged.token_jtis.len(),
        acknowledged.sessions.len(),
        acknowledged.users.len()
    );

    // Straight from the database, before anything restarts.
    let db = Database::connect(cluster.database_url.clone())
        .await
        .unwrap();
    let entries = audit_entry::Entity::find().all(&db).await.unwrap();
    let issued: HashSet<String> = entries
        .iter()
        .filter(|e| e.action == "m2m.token_issued")
        .filter_map(|e| e.metadata["jti"].as_str().map(str::to_owned))
        .collect();
    let missing: Vec<_> = acknowledged.token_jtis.difference(&issued).collect();
    assert!(
        missing.is_empty(),
        "tokens answered without their audit entry: {missing:?}"
    );
    let signed_in: HashSet<String> = entries
        .iter()
        .filter(|e| e.action == "user.signed_in")
        .filter_map(|e| e.target_id.clone())
        .collect();
    assert!(acknowledged.sessions.is_subset(&signed_in));
    let created: HashSet<String> = entries
        .iter()
        .filter(|e| e.action == "user.created")
        .filter_map(|e| e.target_id.clone())
        .collect();
    assert!(acknowledged.users.is_subset(&created));
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::EventType.eq("user.created"))
        .all(&db)
        .await
        .unwrap();
    let with_events: HashSet<String> = events
        .iter()
        .filter_map(|e| {
            let body: Value = serde_json::from_str(&e.body).ok()?;
            body["data"]["user_id"].as_str().map(str::to_owned)
        })
        .collect();
    let without: Vec<_> = acknowledged.users.difference(&with_events).collect();
    assert!(without.is_empty(), "users without their event: {without:?}");
    db.close().await.ok();

    // A restart delivers every event of the committed users.
    let extra: Vec<(String, String)> = Vec::new();
    cluster.add(&extra).await;
    let expected = events.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered: HashSet<String> = receiver
            .received()
            .iter()
            .map(|r| r.header("x-heimdall-event-id").to_owned())
            .collect();
        if delivered.len() >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {expected} events delivered after the restart",
            delivered.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP proxy in front of PostgreSQL that can be cut and restored, like a database
/// restart seen from Heimdall.
struct Proxy {
    port: u16,
    cut: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    upstream: String,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, _) = watch::channel(false);
        let mut proxy = Proxy {
            port,
            cut,
            task: None,
            upstream: upstream.to_owned(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let cut = self.cut.subscribe();
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                let mut cut = cut.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        }));
    }

    /// The database goes away: open connections are cut, new ones refused.
    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let _ = self.cut.send(true);
    }

    /// The database is back on the same address.
    async fn restart(&mut self) {
        let (cut, _) = watch::channel(false);
        self.cut = cut;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

/// PostgreSQL restarted under a running Heimdall: while it is down `/readyz` and
/// requests that need it answer 503 within a bounded time; within five seconds of
/// its return the same process serves again, and no event is lost.
#[tokio::test]
async fn a_postgres_restart_is_survived_without_a_restart() {
    if !TestDb::postgres_configured() {
        // SQLite is a file: there is no server to restart.
        return;
    }
    let (db, database_url) = TestDb::create().await;
    let parsed = url::Url::parse(&database_url).unwrap();
    let upstream = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    );
    let mut proxy = Proxy::start(&upstream).await;
    let mut via_proxy = parsed.clone();
    via_proxy.set_port(Some(proxy.port)).unwrap();
    let receiver = Receiver::start().await;
    let mut cluster = Cluster::on_database(db, via_proxy.to_string());
    cluster.add(&[]).await;
    cluster
        .root_post(0, "/v1/apps", json!({"name": "acme"}))
        .await;
    cluster
        .root_post(
            0,
            "/v1/apps/acme/webhooks",
            json!({"url": receiver.url, "events": ["user.created"]}),
        )
        .await;
    let client = cluster
        .root_post(
            0,
            "/v1/apps/acme/m2m-clients",
            json!({"name": "svc", "scopes": ["invoice.read"]}),
        )
        .await;
    let credentials = json!({
        "grant_type": "client_credentials",
        "client_id": client["data"]["client_id"],
        "client_secret": client["data"]["client_secret"],
    });
    cluster
        .root_post(
            0,
            "/v1/apps/acme/users",
            json!({"email": "before@example.com"}),
        )
        .await;

    proxy.stop();
    // Requests that need the database answer 503 `unavailable`, within bounds.
    let started = Instant::now();
    let (status, body) = cluster
        .send(
            0,
            reqwest::Method::POST,
            "/v1/apps/acme/users",
            Some(&cluster.root_key.clone()),
            Some(json!({"email": "during@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let (status, _) = cluster
        .send(0, reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let (status, _) = cluster
        .send(0, reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restart().await;
    let back = Instant::now();
    loop {
        let (ready, _) = cluster
            .send(0, reqwest::Method::GET, "/readyz", None, None)
            .await;
        let (token, _) = cluster
            .send(
                0,
                reqwest::Method::POST,
                "/v1/apps/acme/tokens",
                None,
                Some(credentials.clone()),
            )
            .await;
        if ready == StatusCode::OK && token == StatusCode::OK {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "not serving again within 5 s of the database's return: readyz {ready}, token {token}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster
        .root_post(
            0,
            "/v1/apps/acme/users",
            json!({"email": "after@example.com"}),
        )
        .await;
    let received = receiver.wait_for(2).await;
    let emails: HashSet<String> = received
        .iter()
        .filter_map(|r| r.json()["data"]["email"].as_str().map(str::to_owned))
        .collect();
    assert!(
        emails.contains("before@example.com") && emails.contains("after@example.com"),
        "{emails:?}"
    );
}
