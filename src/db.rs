//! Database access shared by every service: connecting (with SQLite's pragmas),
//! write transactions that behave the same on SQLite and PostgreSQL, and the cursor
//! pagination every list uses.

use std::time::Duration;

use std::sync::Arc;

use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, QueryFilter, QueryOrder,
    QueryResult, QuerySelect, Select, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The connection pool plus the knowledge of which backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// Where writes go. On SQLite one connection of its own, used by one writer at a
    /// time (the lock below): SQLite drops a connection's whole page cache when it
    /// starts a transaction after another connection wrote, so writes that hop
    /// between the pool's connections re-read their b-tree pages from the file each
    /// time (measured: a third of a core under client_credentials load went to the
    /// audit writer's reads and cache resets). On PostgreSQL the same pool.
    writes: DatabaseConnection,
    /// SQLite has one writer at a time. Queueing this process's writers here wakes
    /// each as soon as the previous commits, instead of SQLite's sleep-and-retry
    /// busy handler (which sleeps up to 100 ms per try).
    writer: Option<Arc<Mutex<()>>>,
    /// Statements executed through this pool (tests assert query counts with it).
    statements: Arc<std::sync::atomic::AtomicU64>,
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let conn = Self::pool(url, max_connections, &statements).await?;
        let sqlite = conn.get_database_backend() == DatabaseBackend::Sqlite;
        let writes = if sqlite {
            Self::pool(url, 1, &statements).await?
        } else {
            conn.clone()
        };
        Ok(Self {
            conn,
            writes,
            writer: sqlite.then(|| Arc::new(Mutex::new(()))),
            statements,
        })
    }

    async fn pool(
        url: &str,
        max_connections: u32,
        statements: &Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<DatabaseConnection, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections.max(1))
            .min_connections(1)
            // Bounded waits: a database that is down answers 503 within seconds.
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let mut conn = Database::connect(options).await?;
        let counter = statements.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            crate::services::observe::db_query(info.elapsed);
        });
        Ok(conn)
    }

    /// How many statements have run through this pool so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections open in the pool, and of those the idle ones.
    /// On SQLite both pools: the readers' and the one write connection.
    pub fn pool_usage(&self) -> (u32, usize) {
        if self.is_sqlite() {
            let (reads, writes) = (
                self.conn.get_sqlite_connection_pool(),
                self.writes.get_sqlite_connection_pool(),
            );
            (
                reads.size() + writes.size(),
                reads.num_idle() + writes.num_idle(),
            )
        } else {
            let pool = self.conn.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    pub fn is_sqlite(&self) -> bool {
        self.backend() == DatabaseBackend::Sqlite
    }

    /// Starts a transaction that will write. On SQLite it queues on this process's
    /// writer lock and then takes SQLite's write lock up front (`BEGIN IMMEDIATE`),
    /// so that concurrent writers never fail with "database is locked" when a read
    /// upgrades to a write (other processes still wait on the busy timeout).
    pub async fn begin_write(&self) -> Result<WriteTxn> {
        let (lock, writes) = self.writer().await;
        let txn = writes
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(WriteTxn { txn, _lock: lock })
    }

    /// The writer lock and the write connection, for one statement that writes
    /// outside a transaction (a single statement is atomic by itself: no
    /// `BEGIN`/`COMMIT` round trips). On SQLite it queues on this process's writers
    /// like [`Db::begin_write`]; a statement that starts without a transaction waits
    /// on the busy timeout for other processes.
    pub async fn writer(&self) -> (Option<OwnedMutexGuard<()>>, &DatabaseConnection) {
        let lock = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        (lock, &self.writes)
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// A write transaction (see [`Db::begin_write`]). Dropping it without `commit`
/// rolls back, like any transaction.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _lock: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Default and maximum page sizes (docs/src/api-conventions.md).
pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// A validated page request: how many, after which id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn first() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }

    /// Parses `limit` and `cursor` as given by a client; absurd values are a 400.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::invalid_field(
                        "limit",
                        format!("must be an integer between 1 and {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let after = match cursor {
            None | Some("") => None,
            Some(text) => Some(decode_cursor(text)?),
        };
        Ok(Self { limit, after })
    }

    /// From GraphQL's `first` / `after`.
    pub fn from_graphql(first: Option<i32>, after: Option<String>) -> Result<Self> {
        let limit = first.map(|n| n.to_string());
        Self::parse(limit.as_deref(), after.as_deref())
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    crate::crypto::b64url(id.as_bytes())
}

pub fn decode_cursor(text: &str) -> Result<Uuid> {
    crate::crypto::b64url_decode(text)
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| Error::invalid_field("cursor", "is not a cursor returned by this API"))
}

/// One page of results and the cursor of the next page, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Keyset pagination over a time-ordered (v7) uuid primary key: ascending order is
/// creation order, identical on both databases.
pub async fn paginate<E, C>(
    conn: &C,
    select: Select<E>,
    id: E::Column,
    page: PageRequest,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = page.after {
        select = select.filter(id.gt(after));
    }
    let mut items = select
        .order_by_asc(id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if items.len() as u64 > page.limit {
        items.truncate(page.limit as usize);
        items.last().map(|m| encode_cursor(id_of(m)))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The same, newest first (audit log, deliveries).
pub async fn paginate_desc<E, C>(
    conn: &C,
    select: Select<E>,
    id: E::Column,
    page: PageRequest,
    id_of: impl Fn(&E::Model) -> Uuid,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = page.after {
        select = select.filter(id.lt(after));
    }
    let mut items = select
        .order_by_desc(id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if items.len() as u64 > page.limit {
        items.truncate(page.limit as usize);
        items.last().map(|m| encode_cursor(id_of(m)))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// A time-ordered (v7) id for something that happened at `at` (audit entries: their
/// id order is their time order, also under a test clock).
pub fn new_id_at(at: chrono::DateTime<chrono::Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    let random = crate::crypto::random_bytes(10)
        .ok()
        .and_then(|b| <[u8; 10]>::try_from(b).ok())
        .unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

/// The smallest v7 id of the millisecond that contains `at`: ids made at or after
/// `at` are not smaller, so a time range becomes a range of ids (the primary key's
/// order) that an index serves.
pub fn first_id_at(at: chrono::DateTime<chrono::Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under sustained writes through the write connection the WAL stays small:
    /// SQLite's automatic checkpoint, run by the commit that crosses 1,000 pages
    /// while no other writer of this process can append, copies the whole WAL, and
    /// the next write starts it over. (A checkpoint task racing the writers, tried
    /// instead, never completed under load and let the WAL grow to 900 MiB in 30 s.)
    #[tokio::test]
    async fn the_wal_stays_small_under_sustained_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()), 2)
            .await
            .unwrap();
        let (_lock, writes) = db.writer().await;
        writes
            .execute_unprepared("CREATE TABLE t (x BLOB)")
            .await
            .unwrap();
        // About 24 MiB of pages, six times the automatic checkpoint's threshold.
        for _ in 0..3000 {
            writes
                .execute_unprepared("INSERT INTO t VALUES (randomblob(8000))")
                .await
                .unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len();
        assert!(wal < 8 << 20, "the WAL grew to {wal} bytes");
    }

    #[test]
    fn ids_at_a_time_sort_after_the_first_id_of_their_millisecond() {
        let at = chrono::Utc::now();
        for _ in 0..100 {
            let id = new_id_at(at);
            assert!(id >= first_id_at(at));
            assert!(id < first_id_at(at + chrono::Duration::milliseconds(1)));
        }
        assert!(new_id_at(at + chrono::Duration::milliseconds(5)) > new_id_at(at));
    }

    #[test]
    fn page_parsing() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::parse(Some("200"), None).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "abc", "1e9", "99999999999999999999999"] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(PageRequest::parse(None, Some("not-a-cursor")).is_err());
        let id = new_id();
        assert_eq!(
            PageRequest::parse(None, Some(&encode_cursor(id)))
                .unwrap()
                .after,
            Some(id)
        );
    }
}
