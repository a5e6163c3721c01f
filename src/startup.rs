//! Building and running the server: connect, migrate, make sure a root key exists,
//! bind (port 0 in tests), serve until Ctrl-C or SIGTERM.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;

use crate::{
    clock::{SharedClock, SystemClock},
    config::Config,
    db::Db,
    services::keys,
    state::{self, AppState},
};

pub struct Application {
    listener: TcpListener,
    port: u16,
    /// The separate metrics listener (`HEIMDALL_METRICS_BIND`).
    metrics: Option<(TcpListener, u16)>,
    state: AppState,
    initial_root_key: Option<String>,
}

/// Connects to the database and applies pending migrations.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, config.db_max_connections)
        .await
        .with_context(|| "cannot connect to the database (HEIMDALL_DATABASE_URL)")?;
    Migrator::up(&*db, None)
        .await
        .context("applying database migrations failed")?;
    Ok(db)
}

/// The names of the migrations not yet applied (`heimdall migrate --dry-run`).
pub async fn pending_migrations(config: &Config) -> anyhow::Result<Vec<String>> {
    let db = Db::connect(&config.database_url, 1)
        .await
        .with_context(|| "cannot connect to the database (HEIMDALL_DATABASE_URL)")?;
    let pending = Migrator::get_pending_migrations(&*db)
        .await
        .context("reading the applied migrations failed")?;
    Ok(pending.iter().map(|m| m.name().to_owned()).collect())
}

/// Builds the state on a migrated database: master keys, caches, services.
pub async fn build_state(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
    if let Some(root_key) = &config.root_key {
        keys::check_configured_root_key(root_key.expose()).map_err(anyhow::Error::msg)?;
    }
    let master = state::master_keys(&config).map_err(anyhow::Error::msg)?;
    let db = connect_and_migrate(&config).await?;
    // Hash keys of master keys retired by `heimdall rekey`.
    let master = crate::services::rekey::with_retained_hash_keys(&db, master)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {e:?}"))?;
    let state = AppState::new(config, db, clock, master).map_err(anyhow::Error::msg)?;
    crate::services::roles::ensure_system_roles(&state)
        .await
        .map_err(|e| anyhow::anyhow!("creating system roles failed: {e:?}"))?;
    Ok(state)
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(mut config: Config, clock: SharedClock) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&config.bind)
            .await
            .with_context(|| format!("cannot listen on {} (HEIMDALL_BIND)", config.bind))?;
        let addr = listener.local_addr()?;
        if config.public_url.is_none() {
            // The address actually bound (port 0 resolves here), reachable from this host.
            let host = if addr.ip().is_unspecified() {
                "localhost".to_owned()
            } else {
                addr.ip().to_string()
            };
            config.public_url = Some(format!("http://{host}:{}", addr.port()));
        }
        let metrics = match &config.metrics_bind {
            Some(bind) => {
                let listener = TcpListener::bind(bind)
                    .await
                    .with_context(|| format!("cannot listen on {bind} (HEIMDALL_METRICS_BIND)"))?;
                let port = listener.local_addr()?.port();
                Some((listener, port))
            }
            None => None,
        };
        if config.metrics_enabled() {
            crate::services::observe::spawn_upkeep();
        }
        let state = build_state(config, clock).await?;
        let initial_root_key = keys::ensure_initial_root_key(&state)
            .await
            .map_err(|e| anyhow::anyhow!("creating the initial root key failed: {e:?}"))?;
        Ok(Self {
            listener,
            port: addr.port(),
            metrics,
            state,
            initial_root_key,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate metrics listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The root key generated on this first start, if one was; `None` afterwards.
    pub fn take_initial_root_key(&mut self) -> Option<String> {
        self.initial_root_key.take()
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::http::router(self.state.clone());
        // Background work stops with the server.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mail_worker = crate::services::mail::spawn_worker(self.state.clone(), stopped.clone());
        let retention = crate::services::retention::spawn(self.state.clone(), stopped.clone());
        let webhook_worker =
            crate::services::webhooks::worker::spawn_worker(self.state.clone(), stopped.clone());
        let metrics = self.metrics.map(|(listener, port)| {
            tracing::info!(metrics_port = port, "metrics listening");
            let mut stopped = stopped.clone();
            let router = crate::http::metrics::listener_router(self.state.clone());
            tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await;
            })
        });
        let bus = crate::services::bus::spawn(self.state.clone(), stopped);
        // Responses go out as soon as they are written (no Nagle wait for the peer's ACK).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(%err, "TCP_NODELAY could not be set");
            }
        });
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        let _ = retention.await;
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        // Deliveries in flight finish (bounded by the webhook timeout).
        let _ = tokio::time::timeout(std::time::Duration::from_secs(70), webhook_worker).await;
        if let Some(worker) = mail_worker {
            // Let the mail in hand finish (bounded by the SMTP timeout).
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), worker).await;
        }
        for task in bus {
            let _ = task.await;
        }
        // Buffered audit entries are written before the process ends.
        self.state.audit_buffer.shutdown().await;
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
