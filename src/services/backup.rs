//! `heimdall backup` and `heimdall restore` (docs/src/production.md#backup-and-restore).
//!
//! SQLite: the backup is `VACUUM INTO`, a consistent copy taken inside one read
//! transaction, so servers keep serving (and writing) meanwhile; the restore checks
//! the file and copies it the same way into the configured database path.
//! PostgreSQL has its own tools for this (`pg_dump`, `pg_restore`), which do it
//! better than Heimdall could; both commands say how and change nothing.
//!
//! A backup holds sealed values and keyed hashes, never the master key: a backup is
//! only useful together with the master key(s) that sealed it.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use crate::{config::Config, crypto::vault::MasterKey};

/// One connection to a SQLite file that must exist; `read_only` for backups (no
/// journal-mode change, which a read-only file would refuse).
async fn open(path: &Path, read_only: bool) -> anyhow::Result<DatabaseConnection> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

const POSTGRES_BACKUP: &str = "heimdall backup copies SQLite databases only. On PostgreSQL, \
use PostgreSQL's own tools, which take a consistent snapshot of a live database:

    pg_dump --format=custom --file=heimdall.dump \"$HEIMDALL_DATABASE_URL\"

and restore it (into an empty database) with

    pg_restore --no-owner --dbname=\"$HEIMDALL_DATABASE_URL\" heimdall.dump

Keep HEIMDALL_MASTER_KEY with the dump: without it the signing keys and secrets in it \
cannot be opened. Nothing was changed.";

const POSTGRES_RESTORE: &str = "heimdall restore writes SQLite databases only. On PostgreSQL, \
restore a pg_dump file with pg_restore:

    pg_restore --no-owner --dbname=\"$HEIMDALL_DATABASE_URL\" heimdall.dump

with the same HEIMDALL_MASTER_KEY as the servers the dump came from. Nothing was changed.";

/// What a backup or restore did.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub file: PathBuf,
    pub database: PathBuf,
    pub bytes: u64,
    /// Ids of the master keys the file's sealed values need (`v1.<id>.…`).
    pub master_key_ids: Vec<String>,
    /// Of those, the ones not configured here (current, previous or dev key).
    pub missing_master_key_ids: Vec<String>,
}

/// The SQLite database file a URL names; `None` for PostgreSQL.
fn sqlite_file(url: &str) -> anyhow::Result<Option<PathBuf>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(None);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .context("HEIMDALL_DATABASE_URL is not a SQLite or PostgreSQL URL")?;
    let path = options.get_filename().to_path_buf();
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        bail!("HEIMDALL_DATABASE_URL names an in-memory database: there is nothing to back up");
    }
    Ok(Some(path))
}

/// The ids of the master keys configured here (without creating a development key).
fn configured_key_ids(config: &Config) -> Vec<String> {
    let mut texts = Vec::new();
    match &config.master_key {
        Some(key) => texts.push(key.expose().clone()),
        None => {
            if let Ok(text) = std::fs::read_to_string(config.data_dir.join("heimdall.master.key")) {
                texts.push(text);
            }
        }
    }
    if let Some(previous) = &config.master_key_previous {
        texts.extend(previous.expose().split(',').map(str::to_owned));
    }
    texts
        .iter()
        .filter_map(|t| MasterKey::parse(t).ok())
        .map(|k| k.id().to_owned())
        .collect()
}

/// The master-key ids that a database's sealed signing keys name.
async fn sealed_with(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT DISTINCT private_key FROM signing_keys",
        ))
        .await
        .context("reading the signing keys failed")?;
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "private_key").ok())
        .filter_map(|sealed| sealed.split('.').nth(1).map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Checks that `db` is an intact Heimdall database.
async fn check(db: &DatabaseConnection, what: &Path) -> anyhow::Result<()> {
    let quick = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA quick_check",
        ))
        .await
        .with_context(|| format!("{} is not a readable SQLite database", what.display()))?
        .and_then(|row| row.try_get_by_index::<String>(0).ok());
    if quick.as_deref() != Some("ok") {
        bail!(
            "{} failed SQLite's integrity check: {}",
            what.display(),
            quick.unwrap_or_default()
        );
    }
    let migrations = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('seaql_migrations', 'apps', 'signing_keys')",
        ))
        .await?
        .and_then(|row| row.try_get_by_index::<i64>(0).ok());
    if migrations != Some(3) {
        bail!("{} is not a Heimdall database", what.display());
    }
    Ok(())
}

async fn vacuum_into(db: &DatabaseConnection, target: &Path) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.to_string_lossy().into_owned().into()],
    ))
    .await
    .with_context(|| format!("writing {} failed", target.display()))?;
    Ok(())
}

fn report(config: &Config, file: &Path, database: &Path, sealed: Vec<String>) -> Report {
    let configured = configured_key_ids(config);
    let missing = sealed
        .iter()
        .filter(|id| !configured.contains(id))
        .cloned()
        .collect();
    Report {
        file: file.to_owned(),
        database: database.to_owned(),
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
        master_key_ids: sealed,
        missing_master_key_ids: missing,
    }
}

/// `heimdall backup FILE`: a consistent copy of the live SQLite database.
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<Report> {
    let Some(database) = sqlite_file(&config.database_url)? else {
        bail!(POSTGRES_BACKUP);
    };
    if !database.is_file() {
        bail!("no database at {}", database.display());
    }
    if file.exists() {
        bail!(
            "{} exists; a backup never overwrites a file",
            file.display()
        );
    }
    let db = open(&database, false).await?;
    vacuum_into(&db, file).await?;
    db.close_by_ref().await.ok();
    let copy = open(file, true).await?;
    check(&copy, file).await?;
    let sealed = sealed_with(&copy).await?;
    copy.close_by_ref().await.ok();
    Ok(report(config, file, &database, sealed))
}

/// `heimdall restore FILE`: checks the backup and copies it into the configured
/// database path, which must not exist (or, with `force`, is replaced: every
/// server on it must be stopped first).
pub async fn restore(config: &Config, file: &Path, force: bool) -> anyhow::Result<Report> {
    let Some(database) = sqlite_file(&config.database_url)? else {
        bail!(POSTGRES_RESTORE);
    };
    if !file.is_file() {
        bail!("no backup at {}", file.display());
    }
    let source = open(file, true).await?;
    check(&source, file).await?;
    let sealed = sealed_with(&source).await?;
    if database.exists() {
        if !force {
            bail!(
                "a database exists at {}; stop every server using it and pass --force to replace it",
                database.display()
            );
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = database.clone().into_os_string();
            path.push(suffix);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot remove {}", PathBuf::from(&path).display())
                    });
                }
            }
        }
    }
    if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    vacuum_into(&source, &database).await?;
    source.close_by_ref().await.ok();
    let mut done = report(config, file, &database, sealed);
    done.bytes = std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
    Ok(done)
}
