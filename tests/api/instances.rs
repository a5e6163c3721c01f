//! Several real `heimdall` processes on one PostgreSQL database behave as one: a
//! write on any of them is reflected on the others within a second (caches are
//! invalidated through `LISTEN/NOTIFY`), and background work is done once. SQLite
//! is single-instance by design; there these tests check one process only.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestDb;

/// Real processes sharing one database, one root key and one master key.
pub struct Cluster {
    pub root_key: String,
    pub master_key: String,
    pub database_url: String,
    pub nodes: Vec<Node>,
    _dir: tempfile::TempDir,
    _db: TestDb,
    pub client: reqwest::Client,
}

pub struct Node {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Cluster {
    pub async fn start(count: usize, extra: &[(&str, &str)]) -> Cluster {
        let (db, database_url) = TestDb::create().await;
        let dir = tempfile::tempdir().unwrap();
        let root_key =
            heimdall::crypto::generate_secret(heimdall::crypto::prefix::ROOT_KEY).unwrap();
        let master_key = heimdall::crypto::vault::MasterKey::new(
            heimdall::crypto::random_bytes(32)
                .unwrap()
                .try_into()
                .unwrap(),
        )
        .to_base64();
        let mut cluster = Cluster {
            root_key,
            master_key,
            database_url,
            nodes: Vec::new(),
            _dir: dir,
            _db: db,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for _ in 0..count {
            cluster.add(&extra).await;
        }
        cluster
    }

    /// Starts one more process on the cluster's database.
    pub async fn add(&mut self, extra: &[(String, String)]) -> usize {
        let mut envs: Vec<(String, String)> = vec![
            ("HEIMDALL_DATABASE_URL".into(), self.database_url.clone()),
            ("HEIMDALL_ROOT_KEY".into(), self.root_key.clone()),
            ("HEIMDALL_MASTER_KEY".into(), self.master_key.clone()),
            ("HEIMDALL_WEBHOOK_ALLOW_PRIVATE".into(), "true".into()),
            // Behind one load balancer: one public URL, so one issuer.
            ("HEIMDALL_PUBLIC_URL".into(), "http://heimdall.test".into()),
        ];
        envs.extend(extra.iter().cloned());
        let dir = self._dir.path().to_path_buf();
        let (child, _, port) = tokio::task::spawn_blocking(move || {
            let envs: Vec<(&str, &str)> =
                envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            crate::cli::start_with(&dir, &envs)
        })
        .await
        .unwrap();
        self.nodes.push(Node {
            child,
            base: format!("http://127.0.0.1:{port}"),
        });
        self.nodes.len() - 1
    }

    pub fn url(&self, node: usize, path: &str) -> String {
        format!("{}{path}", self.nodes[node].base)
    }

    pub async fn send(
        &self,
        node: usize,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(node, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, node: usize, path: &str, token: Option<&str>, body: Value) -> Value {
        let (status, body) = self
            .send(node, reqwest::Method::POST, path, token, Some(body))
            .await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    pub async fn root_post(&self, node: usize, path: &str, body: Value) -> Value {
        self.post(node, path, Some(&self.root_key.clone()), body)
            .await
    }
}

/// Polls `check` on `node` until it holds; panics after `within`. Returns how long
/// it took.
async fn within<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{what}: not reflected within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn verify(cluster: &Cluster, node: usize, token: &str) -> StatusCode {
    cluster
        .send(
            node,
            reqwest::Method::POST,
            "/acme/v1/verify",
            Some(token),
            Some(json!({})),
        )
        .await
        .0
}

/// Revocations, deletions, rotations and role changes on one instance are refused
/// or reflected on two others within a second.
#[tokio::test]
async fn three_instances_see_each_others_writes_within_a_second() {
    if !TestDb::postgres_configured() {
        // SQLite serves one instance; nothing to invalidate elsewhere.
        return;
    }
    let cluster = Cluster::start(3, &[]).await;
    let (a, others) = (0, [1, 2]);
    cluster
        .root_post(a, "/v1/apps", json!({"name": "acme"}))
        .await;
    cluster
        .root_post(
            a,
            "/v1/apps/acme/roles",
            json!({"name": "billing", "permissions": ["invoice.read"]}),
        )
        .await;
    let user = cluster
        .root_post(
            a,
            "/v1/apps/acme/users",
            json!({"email": "u@example.com", "password": "correct horse battery", "role": "billing"}),
        )
        .await;
    let user_id = user["data"]["id"].as_str().unwrap().to_owned();
    let signin = |node| {
        cluster.post(
            node,
            "/acme/v1/auth/signin",
            None,
            json!({"email": "u@example.com", "password": "correct horse battery"}),
        )
    };
    let first = signin(a).await;
    let second = signin(a).await;
    let token = first["access_token"].as_str().unwrap().to_owned();
    let other_token = second["access_token"].as_str().unwrap().to_owned();
    let client = cluster
        .root_post(
            a,
            "/v1/apps/acme/m2m-clients",
            json!({"name": "svc", "scopes": ["invoice.read"]}),
        )
        .await;
    let client_id = client["data"]["client_id"].as_str().unwrap().to_owned();
    let secret = client["data"]["client_secret"].as_str().unwrap().to_owned();
    let m2m_token = |node| {
        cluster.post(
            node,
            "/v1/apps/acme/tokens",
            None,
            json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}),
        )
    };
    let machine = m2m_token(a).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Warm every instance's caches.
    for node in others {
        assert_eq!(verify(&cluster, node, &token).await, StatusCode::OK);
        assert_eq!(verify(&cluster, node, &other_token).await, StatusCode::OK);
        assert_eq!(verify(&cluster, node, &machine).await, StatusCode::OK);
        let check = cluster
            .post(
                node,
                "/acme/v1/authorize",
                Some(&token),
                json!({"permission": "invoice.refund"}),
            )
            .await;
        assert_eq!(check["authorized"], false);
    }

    // 1. A role's permissions change on A: /authorize on B and C says so.
    cluster
        .send(
            a,
            reqwest::Method::PATCH,
            "/v1/apps/acme/roles/billing",
            Some(&cluster.root_key),
            Some(json!({"permissions": ["invoice.read", "invoice.refund"]})),
        )
        .await;
    for node in others {
        within(Duration::from_secs(1), "role change", || async {
            cluster
                .post(
                    node,
                    "/acme/v1/authorize",
                    Some(&token),
                    json!({"permission": "invoice.refund"}),
                )
                .await["authorized"]
                == true
        })
        .await;
    }

    // 2. The user signs out the first session on A: B and C refuse its token.
    cluster
        .send(
            a,
            reqwest::Method::POST,
            "/acme/v1/auth/signout",
            Some(&token),
            None,
        )
        .await;
    for node in others {
        within(Duration::from_secs(1), "session revocation", || async {
            verify(&cluster, node, &token).await == StatusCode::UNAUTHORIZED
        })
        .await;
        assert_eq!(verify(&cluster, node, &other_token).await, StatusCode::OK);
    }

    // 3. A signing-key rotation on A: B and C publish the new key.
    let rotated = cluster
        .root_post(a, "/v1/apps/acme/signing-keys/rotate", json!({}))
        .await;
    let kid = rotated["data"]["kid"].as_str().unwrap().to_owned();
    for node in others {
        within(Duration::from_secs(1), "signing-key rotation", || async {
            let (_, jwks) = cluster
                .send(
                    node,
                    reqwest::Method::GET,
                    "/acme/v1/.well-known/jwks.json",
                    None,
                    None,
                )
                .await;
            jwks["keys"]
                .as_array()
                .is_some_and(|keys| keys.iter().any(|k| k["kid"] == json!(kid)))
        })
        .await;
    }

    // 4. The machine client's secret is rotated without grace on A: its old
    //    tokens stop working on B and C.
    cluster
        .root_post(
            a,
            &format!("/v1/apps/acme/m2m-clients/{client_id}/rotate-secret"),
            json!({"grace_period_seconds": 0}),
        )
        .await;
    for node in others {
        within(Duration::from_secs(1), "secret rotation", || async {
            verify(&cluster, node, &machine).await == StatusCode::UNAUTHORIZED
        })
        .await;
    }

    // 5. The user is deactivated on A: the remaining session's token is refused.
    cluster
        .root_post(
            a,
            &format!("/v1/apps/acme/users/{user_id}/deactivate"),
            json!({}),
        )
        .await;
    for node in others {
        within(Duration::from_secs(1), "deactivation", || async {
            verify(&cluster, node, &other_token).await == StatusCode::UNAUTHORIZED
        })
        .await;
    }

    // 6. A new client, warmed on B and C, is deleted on A.
    let client = cluster
        .root_post(
            a,
            "/v1/apps/acme/m2m-clients",
            json!({"name": "svc2", "scopes": ["invoice.read"]}),
        )
        .await;
    let (id2, secret2) = (
        client["data"]["client_id"].as_str().unwrap().to_owned(),
        client["data"]["client_secret"].as_str().unwrap().to_owned(),
    );
    let issue = |node| {
        cluster.send(
            node,
            reqwest::Method::POST,
            "/v1/apps/acme/tokens",
            None,
            Some(json!({"grant_type": "client_credentials", "client_id": id2, "client_secret": secret2})),
        )
    };
    for node in others {
        assert_eq!(issue(node).await.0, StatusCode::OK);
    }
    let deleted = cluster
        .send(
            a,
            reqwest::Method::DELETE,
            &format!("/v1/apps/acme/m2m-clients/{id2}"),
            Some(&cluster.root_key),
            None,
        )
        .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT);
    for node in others {
        within(Duration::from_secs(1), "client deletion", || async {
            issue(node).await.0 == StatusCode::UNAUTHORIZED
        })
        .await;
    }
}

/// Three processes share the outboxes: every webhook event and every mail goes out
/// exactly once.
#[tokio::test]
async fn three_instances_send_each_event_and_mail_once() {
    if !TestDb::postgres_configured() {
        return;
    }
    let sink = crate::smtp_sink::SmtpSink::start().await;
    let smtp = sink.url();
    let cluster = Cluster::start(
        3,
        &[
            ("HEIMDALL_SMTP_URL", smtp.as_str()),
            ("HEIMDALL_SMTP_FROM", "Acme <no-reply@acme.test>"),
        ],
    )
    .await;
    let receiver = crate::receiver::Receiver::start().await;
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
    let users = 30;
    for i in 0..users {
        let email = format!("u{i}@example.com");
        cluster
            .root_post(
                i % 3,
                "/v1/apps/acme/users",
                json!({"email": email, "password": "correct horse battery"}),
            )
            .await;
        let (status, _) = cluster
            .send(
                (i + 1) % 3,
                reqwest::Method::POST,
                "/acme/v1/password/forgot",
                None,
                Some(json!({"email": email})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let received = receiver.wait_for(users).await;
    let mails = sink.wait_for(users).await;
    // Nothing more arrives: no instance sends what another already sent.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), users);
    sink.assert_count_stays(users, Duration::from_millis(500))
        .await;
    let mut ids: Vec<String> = received
        .iter()
        .map(|r| r.header("x-heimdall-event-id").to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), users);
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), users, "{to:?}");
}
