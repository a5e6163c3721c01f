//! `spawn_app()`: a server on port 0 over its own database, plus a client.

#![allow(dead_code)] // Shared helpers; not every test binary build uses all of them.

use std::sync::Arc;

use heimdall::{
    clock::ManualClock,
    config::{Config, PasswordHashConfig, Secret},
    crypto::{self, prefix, vault::MasterKey},
    startup::Application,
    state::AppState,
};
use reqwest::{Method, header::HeaderMap};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

/// The database a test runs on.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { server: String, name: String },
}

impl TestDb {
    /// A fresh database: a file in a temporary directory, or a new PostgreSQL database.
    pub async fn create() -> (TestDb, String) {
        match std::env::var("HEIMDALL_TEST_POSTGRES_URL") {
            Ok(server) if !server.trim().is_empty() => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("heimdall_t_{}", uuid::Uuid::new_v4().simple());
                let template = postgres_template(&server).await;
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = format!("{server}/{name}");
                (TestDb::Postgres { server, name }, url)
            }
            _ => {
                let temp = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/heimdall.db?mode=rwc", temp.path().display());
                (TestDb::Sqlite { _dir: temp }, url)
            }
        }
    }

    /// Whether this run's tests use PostgreSQL (`HEIMDALL_TEST_POSTGRES_URL`).
    pub fn postgres_configured() -> bool {
        std::env::var("HEIMDALL_TEST_POSTGRES_URL").is_ok_and(|s| !s.trim().is_empty())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

/// A migrated PostgreSQL database that test databases are copied from: running the
/// migrations once instead of once per test. Its name is derived from the migration
/// list, so a new migration builds a new template; one built concurrently by another
/// test (or test process) wins the rename and ours is dropped. Like every test
/// database it is named `heimdall_t_…`, which `.ci/run` drops when it ends. (Editing
/// a migration in place needs `DROP DATABASE heimdall_t_tpl_…` by hand.)
async fn postgres_template(server: &str) -> String {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(name) = TEMPLATE.get() {
        return name.clone();
    }
    use migration::MigratorTrait as _;
    // FNV-1a over the migration names.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in migration::Migrator::migrations() {
        for byte in migration.name().bytes().chain([0]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let name = format!("heimdall_t_tpl_{hash:016x}");
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .expect("connect to PostgreSQL");
    let exists = |admin: &sea_orm::DatabaseConnection| {
        let sql = format!("SELECT 1 FROM pg_database WHERE datname = '{name}'");
        let admin = admin.clone();
        async move {
            admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    sql,
                ))
                .await
                .expect("read pg_database")
                .is_some()
        }
    };
    if !exists(&admin).await {
        let building = format!("heimdall_t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {building}"))
            .await
            .expect("create template database");
        let db = Database::connect(format!("{server}/{building}"))
            .await
            .expect("connect to the template database");
        migration::Migrator::up(&db, None)
            .await
            .expect("migrate the template database");
        db.close().await.ok();
        let renamed = admin
            .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .await;
        if renamed.is_err() {
            // Another test built it first.
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .await
                .ok();
            assert!(exists(&admin).await, "template database: {renamed:?}");
        }
    }
    admin.close().await.ok();
    TEMPLATE.get_or_init(|| name).clone()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { server, name } = self {
            let (server, name) = (server.clone(), name.clone());
            // Dropping runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = Database::connect(format!("{server}/postgres")).await.ok()?;
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                        .ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub root_key: String,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    // Last: dropped after the server is told to stop.
    pub db: TestDb,
    _data_dir: tempfile::TempDir,
}

/// A second server on a test app's database.
pub struct Instance {
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the REST error shape and returns the error object.
    pub fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "status; body: {}", self.text);
        assert_eq!(
            self.body["error"]["code"], code,
            "code; body: {}",
            self.text
        );
        assert!(
            self.body["error"]["message"].is_string(),
            "message; body: {}",
            self.text
        );
        &self.body["error"]
    }
}

pub fn test_config(database_url: String, data_dir: &std::path::Path) -> Config {
    let root_key = crypto::generate_secret(prefix::ROOT_KEY).unwrap();
    let master = MasterKey::new(crypto::random_bytes(32).unwrap().try_into().unwrap());
    Config {
        database_url,
        bind: "127.0.0.1:0".into(),
        root_key: Some(Secret::new(root_key)),
        master_key: Some(Secret::new(master.to_base64())),
        data_dir: data_dir.to_path_buf(),
        db_max_connections: 5,
        webhook_allow_private: true,
        // Test-fast hashing, set explicitly here and nowhere else.
        password_hash: PasswordHashConfig {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        },
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let (db, url) = TestDb::create().await;
    let mut config = test_config(url, data_dir.path());
    customize(&mut config);
    config.normalise();
    let clock = ManualClock::new();
    let running = Running::start(&mut config, &clock).await;
    TestApp {
        address: running.address(&config),
        port: running.port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        root_key: config
            .root_key
            .as_ref()
            .map(|k| k.expose().clone())
            .unwrap_or_default(),
        clock,
        state: running.state,
        config,
        shutdown: Some(running.shutdown),
        server: Some(running.server),
        db,
        _data_dir: data_dir,
    }
}

/// A started server.
struct Running {
    port: u16,
    state: AppState,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Running {
    async fn start(config: &mut Config, clock: &Arc<ManualClock>) -> Running {
        let app = Application::build_with_clock(config.clone(), clock.clone())
            .await
            .expect("build application");
        let port = app.port();
        // Restarts reuse the port so that issuers (and tokens) stay valid.
        config.bind = format!("127.0.0.1:{port}");
        config.public_url = Some(format!("http://127.0.0.1:{port}"));
        let state = app.state().clone();
        let (shutdown, rx) = oneshot::channel();
        let server = tokio::spawn(async move {
            let _ = app
                .run_until(async {
                    let _ = rx.await;
                })
                .await;
        });
        Running {
            port,
            state,
            shutdown,
            server,
        }
    }

    fn address(&self, config: &Config) -> String {
        format!("http://127.0.0.1:{}{}", self.port, config.base_path)
    }
}

impl TestApp {
    /// Stops the server gracefully and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = Running::start(&mut self.config, &self.clock).await;
        self.address = running.address(&self.config);
        self.port = running.port;
        self.state = running.state;
        self.shutdown = Some(running.shutdown);
        self.server = Some(running.server);
    }

    /// Another Heimdall instance on the same database (its own port and workers),
    /// as in a deployment with several replicas. Stopped when dropped.
    pub async fn second_instance(&self) -> Instance {
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".into();
        let running = Running::start(&mut config, &self.clock).await;
        Instance {
            state: running.state,
            shutdown: Some(running.shutdown),
        }
    }

    /// The state of an instance that is built on this app's database but never runs
    /// (no server, no workers): a process that can die at any line.
    pub async fn offline_state(&self) -> AppState {
        let mut config = self.config.clone();
        config.bind = "127.0.0.1:0".into();
        Application::build_with_clock(config, self.clock.clone())
            .await
            .expect("build application")
            .state()
            .clone()
    }

    /// Another instance on this app's database that serves HTTP but runs no
    /// background work (no workers, no cache bus): the statements its database
    /// counter sees are the requests' own. Answers its state and its address.
    pub async fn quiet_instance(&self) -> (AppState, String) {
        let state = self.offline_state().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!(
            "http://{}{}",
            listener.local_addr().unwrap(),
            self.config.base_path
        );
        let router = heimdall::http::router(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .ok()
        });
        (state, address)
    }

    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.db.clone().close_by_ref().await.ok();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Sends raw bytes with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut request = self.client.request(method, self.url(path)).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Resp {
        self.request(
            Method::POST,
            "/graphql",
            token,
            Some(json!({ "query": query, "variables": variables })),
        )
        .await
    }

    /// Creates an app with the root key; returns its `data`.
    pub async fn create_app(&self, name: &str) -> Value {
        self.create_app_with(json!({ "name": name, "display_name": format!("{name} app") }))
            .await
    }

    pub async fn create_app_with(&self, body: Value) -> Value {
        let resp = self.post("/v1/apps", Some(&self.root_key), body).await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.body["data"].clone()
    }

    /// Creates an app key for `app`; returns the secret.
    pub async fn create_pak(&self, app: &str) -> String {
        let resp = self
            .post(
                &format!("/v1/apps/{app}/api-keys"),
                Some(&self.root_key),
                json!({ "name": "test" }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.body["data"]["key"].as_str().unwrap().to_owned()
    }

    /// Signs up on the consumer lane; returns the token response.
    pub async fn signup(&self, slug: &str, email: &str, password: &str) -> Value {
        let resp = self
            .post(
                &format!("/{slug}/v1/auth/signup"),
                None,
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.body
    }

    /// Signs in on the consumer lane.
    pub async fn signin(&self, slug: &str, email: &str, password: &str) -> Resp {
        self.post(
            &format!("/{slug}/v1/auth/signin"),
            None,
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Creates a user with `role` through the admin lane and signs them in; returns
    /// the access token.
    pub async fn user_token(&self, slug: &str, email: &str, role: &str) -> String {
        let resp = self
            .post(
                &format!("/v1/apps/{slug}/users"),
                Some(&self.root_key),
                json!({ "email": email, "password": "correct horse battery", "role": role }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.text);
        let signin = self.signin(slug, email, "correct horse battery").await;
        assert_eq!(signin.status, 200, "{}", signin.text);
        signin.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Replaces the custom roles of an app (root key).
    pub async fn sync_roles(&self, slug: &str, roles: Value) {
        let resp = self
            .put(
                &format!("/v1/apps/{slug}/roles"),
                Some(&self.root_key),
                json!({ "roles": roles }),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
    }

    /// Audit entries of an app, oldest first.
    pub async fn audit(&self, action: &str) -> Vec<entity::audit_entry::Model> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        entity::audit_entry::Entity::find()
            .filter(entity::audit_entry::Column::Action.eq(action))
            .order_by_asc(entity::audit_entry::Column::Id)
            .all(&*self.state.db)
            .await
            .unwrap()
    }

    /// The app's issuer as tokens carry it.
    pub fn issuer(&self, slug: &str) -> String {
        self.state.issuer(slug)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}
