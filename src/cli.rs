//! The `heimdall` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::{
    clock::SystemClock,
    config::Config,
    startup::{self, Application},
};

#[derive(Parser, Debug)]
#[command(
    name = "heimdall",
    version,
    about = "Self-hostable, GraphQL-first identity platform"
)]
pub struct Cli {
    /// Configuration file (TOML); `HEIMDALL_*` environment variables override it.
    #[arg(long, short, env = "HEIMDALL_CONFIG", default_value = "heimdall.toml")]
    pub config: PathBuf,

    /// Machine-readable output (one JSON document) for the admin commands.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate {
        /// List the pending migrations without applying them.
        #[arg(long)]
        dry_run: bool,
    },
    /// Create a new root key, print it once, and exit.
    Bootstrap {
        /// A name to tell root keys apart.
        #[arg(long, default_value = "bootstrap")]
        name: String,
        /// Only print a freshly generated key (for HEIMDALL_ROOT_KEY); store nothing.
        #[arg(long)]
        print_only: bool,
    },
    /// Print the GraphQL schema (SDL) and exit.
    ExportSchema,
    /// Print the REST API's OpenAPI 3.1 document (`openapi.json`) and exit.
    ExportOpenapi,
    /// Apps: list, create, delete.
    Apps {
        #[command(subcommand)]
        command: crate::admin::AppsCommand,
    },
    /// Root keys: list, create, revoke.
    RootKeys {
        #[command(subcommand)]
        command: crate::admin::RootKeysCommand,
    },
    /// Users of an app: create, set-password, deactivate.
    Users {
        #[command(subcommand)]
        command: crate::admin::UsersCommand,
    },
    /// Copy the live SQLite database to FILE (`VACUUM INTO`; servers keep running).
    /// On PostgreSQL: explains pg_dump and changes nothing.
    Backup { file: PathBuf },
    /// Restore a backup into the configured database path (which must not exist,
    /// or pass --force with every server stopped).
    Restore {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt every sealed value under the current HEIMDALL_MASTER_KEY and keep
    /// the previous keys' hash keys, after which HEIMDALL_MASTER_KEY_PREVIOUS can go.
    /// Batched, resumable, safe while servers run.
    Rekey {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: u64,
    },
    /// An app's signing keys: rotate.
    SigningKeys {
        #[command(subcommand)]
        command: crate::admin::SigningKeysCommand,
    },
    /// Development tools.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// Fill the database with generated apps, users, tenants and audit entries, for
    /// checking queries at scale (never on a production database).
    Seed {
        #[arg(long, default_value_t = 10_000)]
        apps: usize,
        #[arg(long, default_value_t = 1_000_000)]
        users: usize,
        #[arg(long, default_value_t = 100_000)]
        tenants: usize,
        #[arg(long, default_value_t = 5_000_000)]
        audit: usize,
        /// The share of users, tenants and audit entries given to the app `busy`.
        #[arg(long, default_value_t = 0.2)]
        busy_share: f64,
    },
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::{EnvFilter, Layer as _, fmt, layer::SubscriberExt as _};
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let exporting = cfg!(feature = "otlp")
        && config
            .otlp_endpoint
            .as_deref()
            .is_some_and(|e| !e.trim().is_empty());
    if !exporting {
        // No export: one global filter, so spans the log level leaves out cost
        // nothing on the hot paths (per-layer filters are only for the exporter).
        let builder = fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(std::io::stderr);
        if config.log_format == "json" {
            builder.json().init();
        } else {
            builder.init();
        }
        return;
    }
    // HEIMDALL_LOG filters the log lines only, so that spans are exported whatever
    // the log level.
    let (text, json) = if config.log_format == "json" {
        let layer = fmt::layer()
            .json()
            .with_target(false)
            .with_writer(std::io::stderr);
        (None, Some(layer.with_filter(filter)))
    } else {
        let layer = fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(std::io::stderr);
        (Some(layer.with_filter(filter)), None)
    };
    let registry = tracing_subscriber::registry().with(text).with(json);
    #[cfg(feature = "otlp")]
    let registry = {
        let otel = match crate::otlp::layer(config) {
            Ok(layer) => layer,
            Err(e) => {
                eprintln!("warning: {e}; spans are not exported");
                None
            }
        };
        registry.with(otel.map(|layer| {
            layer.with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("heimdall", tracing::Level::INFO)
                    .with_target("tower_http", tracing::Level::INFO),
            )
        }))
    };
    // Also bridges the `log` crate's records, as `fmt().init()` did.
    tracing_subscriber::util::SubscriberInitExt::try_init(registry).ok();
}

fn print_root_key(key: &str, headline: &str) {
    println!();
    println!("================================================================================");
    println!(" {headline}");
    println!(" It is shown only this once. Store it somewhere safe:");
    println!();
    println!("   {key}");
    println!("================================================================================");
    println!();
}

fn print_backup(report: &crate::services::backup::Report, done: &str, json: bool) {
    if json {
        println!("{}", serde_json::json!({ "data": report }));
        return;
    }
    println!(
        "{done} {} -> {} ({} bytes)",
        if done == "restored" {
            report.file.display()
        } else {
            report.database.display()
        },
        if done == "restored" {
            report.database.display()
        } else {
            report.file.display()
        },
        report.bytes
    );
    println!(
        "sealed with master key id(s): {} — keep the master key with the backup",
        report.master_key_ids.join(", ")
    );
    if !report.missing_master_key_ids.is_empty() {
        eprintln!(
            "warning: master key id(s) {} are not configured here (HEIMDALL_MASTER_KEY / \
             HEIMDALL_MASTER_KEY_PREVIOUS); without them the signing keys and secrets cannot be opened",
            report.missing_master_key_ids.join(", ")
        );
    }
}

/// The state an admin command runs on (the database migrated, as `serve` would).
async fn admin_state(config: Config) -> anyhow::Result<crate::state::AppState> {
    init_tracing(&config);
    startup::build_state(config, std::sync::Arc::new(SystemClock)).await
}

/// Writes what the command left buffered (audit entries) before the process ends.
async fn finish(state: &crate::state::AppState, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
    state.audit_buffer.shutdown().await;
    crate::services::bus::publish_pending(state).await;
    outcome
}

/// Runs the command line; the process exit code follows the result.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let file = cli.config.exists().then_some(cli.config.as_path());
    if file.is_none() && std::env::var_os("HEIMDALL_CONFIG").is_some() {
        anyhow::bail!("configuration file {} not found", cli.config.display());
    }
    let config = Config::load(file).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::ExportSchema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::ExportOpenapi => {
            print!("{}", crate::http::openapi::document_text());
            Ok(())
        }
        Command::Migrate { dry_run: true } => {
            init_tracing(&config);
            let pending = startup::pending_migrations(&config).await?;
            if cli.json {
                println!("{}", serde_json::json!({ "pending": pending }));
            } else if pending.is_empty() {
                println!("no pending migrations");
            } else {
                println!("{}", pending.join("\n"));
            }
            Ok(())
        }
        Command::Migrate { dry_run: false } => {
            init_tracing(&config);
            startup::connect_and_migrate(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Backup { file } => {
            init_tracing(&config);
            let report = crate::services::backup::backup(&config, &file).await?;
            print_backup(&report, "backed up", cli.json);
            Ok(())
        }
        Command::Restore { file, force } => {
            init_tracing(&config);
            let report = crate::services::backup::restore(&config, &file, force).await?;
            print_backup(&report, "restored", cli.json);
            Ok(())
        }
        Command::Rekey { batch_size } => {
            let master = crate::state::master_keys(&config).map_err(anyhow::Error::msg)?;
            let state = admin_state(config).await?;
            let outcome = async {
                let report = crate::services::rekey::run(&state, &master, batch_size)
                    .await
                    .map_err(|e| anyhow::anyhow!("re-keying failed: {e}: {e:?}"))?;
                if cli.json {
                    println!("{}", serde_json::json!({ "data": report }));
                } else {
                    println!("re-keyed under master key {}", report.master_key_id);
                    for column in &report.columns {
                        println!(
                            "  {}: {} resealed, {} changed meanwhile, {} unreadable",
                            column.column, column.resealed, column.skipped, column.failed
                        );
                    }
                    for id in &report.retained_hash_keys {
                        println!("  hash key of master key {id} kept");
                    }
                }
                if report.failed() > 0 {
                    anyhow::bail!(
                        "{} sealed values could not be opened with the configured master keys; \
                         keep HEIMDALL_MASTER_KEY_PREVIOUS until they can",
                        report.failed()
                    );
                }
                Ok(())
            }
            .await;
            finish(&state, outcome).await
        }
        Command::Apps { command } => {
            let state = admin_state(config).await?;
            finish(&state, crate::admin::apps(&state, command, cli.json).await).await
        }
        Command::RootKeys { command } => {
            let state = admin_state(config).await?;
            finish(
                &state,
                crate::admin::root_keys(&state, command, cli.json).await,
            )
            .await
        }
        Command::Users { command } => {
            let state = admin_state(config).await?;
            finish(&state, crate::admin::users(&state, command, cli.json).await).await
        }
        Command::SigningKeys { command } => {
            let state = admin_state(config).await?;
            finish(
                &state,
                crate::admin::signing_keys(&state, command, cli.json).await,
            )
            .await
        }
        Command::Bootstrap { name, print_only } => {
            if print_only {
                let key = crate::crypto::generate_secret(crate::crypto::prefix::ROOT_KEY)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{key}");
                return Ok(());
            }
            init_tracing(&config);
            let state = startup::build_state(config, std::sync::Arc::new(SystemClock)).await?;
            let key = crate::services::keys::create_root_key(&state, &name)
                .await
                .map_err(|e| anyhow::anyhow!("creating the root key failed: {e:?}"))?;
            print_root_key(&key, "New Heimdall root key created.");
            Ok(())
        }
        Command::Dev {
            command:
                DevCommand::Seed {
                    apps,
                    users,
                    tenants,
                    audit,
                    busy_share,
                },
        } => {
            init_tracing(&config);
            let state = startup::build_state(config, std::sync::Arc::new(SystemClock)).await?;
            let amounts = crate::services::seed::Amounts {
                apps,
                users,
                tenants,
                audit,
                busy_share: busy_share.clamp(0.0, 1.0),
            };
            crate::services::seed::run(&state, &amounts)
                .await
                .map_err(|e| anyhow::anyhow!("seeding failed: {e:?}"))?;
            tracing::info!(?amounts, "seeded");
            Ok(())
        }
        Command::Serve => {
            init_tracing(&config);
            let mut app = Application::build(config).await?;
            let public = app.state().config.public_base();
            if let Some(key) = app.take_initial_root_key() {
                print_root_key(&key, "Heimdall root key (first start).");
            }
            tracing::info!(port = app.port(), public_url = %public, "heimdall listening");
            let outcome = app.run_until_stopped().await;
            #[cfg(feature = "otlp")]
            crate::otlp::shutdown();
            outcome?;
            Ok(())
        }
    }
}
