//! The only place with SQL. One code path serves SQLite and PostgreSQL through sqlx's `Any`
//! driver: portable SQL with `$n` placeholders, `ON CONFLICT`, `RETURNING` and integer epoch
//! times. Dialect differences live in the migrations and in [`Store::connect`].

mod access;
mod attempts;
mod audit;
mod console;
pub mod files;
mod integrations;
mod keys;
mod migrations;
mod orgs;
mod sessions;
mod users;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use crate::config::SqliteSynchronous;

pub use access::AccessChange;
pub use attempts::{AttemptCount, Counter};
pub use audit::{AuditEvent, AuditFilter};
pub use console::ConsoleSession;
pub use integrations::IntegrationRecord;
pub use keys::{NewKey, Retirement, Sealing, StoredKey, Successor};
pub use orgs::Organization;
pub use sessions::{
    EndReason, NewSession, OpenSession, Rotation, SessionKind, SessionRecord, WriterConnection,
};
pub use users::{LoginRecord, MemberRecord, UserRecord};

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A PostgreSQL connection idle for this long is tested before it is used again (see
/// [`Store::open`]); a database restart takes longer than that.
const UNTESTED_IDLE: Duration = Duration::from_secs(1);

/// A reading SQLite connection unused for this long is closed (sqlx checks at this interval, so
/// it goes within twice this). Each one is a thread of its own with a page cache of up to 2 MiB: the
/// connections a load opened would otherwise keep that memory for sqlx's default of ten minutes
/// once it has passed. Opening one again costs a thread, a file open and four pragmas, well
/// under a millisecond; a connection in use at least every few seconds is never closed.
const SQLITE_READER_IDLE: Duration = Duration::from_secs(5);

/// What a pool of [`Store::open`] is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Read,
    Write,
    Background,
}

/// A handle on the database, cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where writes go. On SQLite, one connection: writers then queue in the pool, without
    /// blocking a thread, instead of colliding on SQLite's write lock and sleeping in its busy
    /// handler. On PostgreSQL, the same pool as reads.
    writer: AnyPool,
    /// What the server's periodic tasks read with (see [`Store::background`]). On SQLite, two
    /// connections of their own — so that the poll of ended sessions never waits for a long
    /// checkpoint — and the reading connections a load opened are left unused and closed once it
    /// has passed; on PostgreSQL, the same pool as reads.
    background: AnyPool,
    backend: Backend,
    /// The episode under way, if any, during which the database cannot be used (see
    /// [`Store::note_unavailable`]); shared by every clone.
    episode: Arc<Mutex<Option<Episode>>>,
}

/// A time during which the database said "try later": its first cause and when it came.
#[derive(Debug, Clone, Copy)]
struct Episode {
    cause: Unavailable,
    since: Instant,
    /// When [`Store::recover`] last tried a probe write.
    probed: Option<Instant>,
}

/// Probe writes of one episode are this far apart at least, however often `/readyz` is asked
/// (a database that could not be reached is pinged instead, every time).
const PROBE_EVERY: Duration = Duration::from_millis(900);

/// The size of the value the probe of [`Store::recover`] writes: room for many batches of
/// sessions. A probe that rewrote one existing row, or found room for one more page, would
/// succeed on a disk that is still full (a full disk lets a small write through now and then,
/// as SQLite reuses its log), and the instance would flap between ready and not.
const PROBE_BYTES: usize = 256 * 1024;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("there is no database at {0}")]
    Missing(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OpenError {
    fn from(e: sqlx::Error) -> Self {
        OpenError::Other(e.into())
    }
}

/// What a write that must be unique ran into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("already exists")]
    Duplicate,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError {
    fn from_sqlx(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => WriteError::Duplicate,
            _ => WriteError::Database(e),
        }
    }
}

impl Backend {
    /// The database's own clock, in milliseconds since the Unix epoch, as an SQL expression:
    /// what orders the ends of sessions, whatever the clocks of the machines that end them.
    /// PostgreSQL's `clock_timestamp()` is the time of the statement, not of its transaction's
    /// start, so a long transaction does not write a time far behind its commit.
    pub(crate) fn now_ms_sql(self) -> &'static str {
        match self {
            Backend::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }
}

impl Store {
    /// Opens a pool on `url` (`sqlite://FILE` creates the file; `postgres://…`) and applies the
    /// migrations. Connecting does not wait for the database: a database that is down makes
    /// requests fail quickly, and service resumes when it is back. `synchronous` is SQLite's
    /// durability (see [`SqliteSynchronous`]); PostgreSQL ignores it.
    pub async fn connect(
        url: &str,
        pool_size: u32,
        connect_timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> anyhow::Result<Self> {
        Self::open(url, true, pool_size, connect_timeout, synchronous)
            .await
            .map_err(|e| match e {
                OpenError::Missing(path) => anyhow::anyhow!("there is no database at {path}"),
                OpenError::Other(e) => e,
            })
    }

    /// Like [`Store::connect`], but without `create` a missing SQLite file is an error instead
    /// of a new, empty database.
    pub async fn open(
        url: &str,
        create: bool,
        pool_size: u32,
        connect_timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, OpenError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalize_url(url)?;
        if let Some(DatabaseFile::Path(path)) = sqlite_file(&url) {
            if !path.exists() {
                if !create {
                    return Err(OpenError::Missing(path.display().to_string()));
                }
                files::create_private(&path).map_err(|e| {
                    anyhow::anyhow!("cannot create the database file {}: {e}", path.display())
                })?;
            }
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.clone().into_os_string();
                name.push(suffix);
                files::restrict_to_owner(std::path::Path::new(&name));
            }
        }
        let options: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()?
            .disable_statement_logging();
        let pool_options = |size: u32, role: Role| {
            let options = AnyPoolOptions::new()
                .max_connections(size)
                .acquire_timeout(connect_timeout)
                .test_before_acquire(false);
            // A SQLite connection is a file handle that cannot go stale; pinging it before every
            // statement would double the hops to its worker thread. A PostgreSQL connection can
            // die with its server, so one that sat unused for a while is tested before use. One
            // that was in use moments ago is not: the pool already pings every connection when
            // it comes back, and a test before each use too would make every query three round
            // trips instead of two.
            let options = match backend {
                Backend::Sqlite if role == Role::Read => options.idle_timeout(SQLITE_READER_IDLE),
                Backend::Sqlite => options,
                Backend::Postgres => options.before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= UNTESTED_IDLE {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }),
            };
            options.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets admin commands write while the server reads. In WAL mode
                        // NORMAL keeps every commit across a crash of the process but syncs the
                        // log only at checkpoints, so a power loss may undo the last commits;
                        // FULL syncs it at every commit, before the answer goes out.
                        conn.execute(match synchronous {
                            SqliteSynchronous::Normal => "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            SqliteSynchronous::Full => "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        })
                        .await?;
                        if role == Role::Write {
                            // The server copies the log into the database from another
                            // connection (`Store::checkpoint`), so the writer need not stop for
                            // it after every thousand pages. Under a steady stream of writes,
                            // though, only a checkpoint by the writer itself, between two of its
                            // transactions, catches up completely and lets the log start over:
                            // it does that at 10,000 pages (40 MB), when little is left to copy.
                            conn.execute("PRAGMA wal_autocheckpoint = 10000;").await?;
                        }
                    }
                    Ok(())
                })
            })
        };
        let pool = pool_options(pool_size, Role::Read).connect_lazy_with(options.clone());
        let (writer, background) = match backend {
            Backend::Sqlite => (
                pool_options(1, Role::Write).connect_lazy_with(options.clone()),
                pool_options(2, Role::Background).connect_lazy_with(options),
            ),
            Backend::Postgres => (pool.clone(), pool.clone()),
        };
        let store = Store {
            pool,
            writer,
            background,
            backend,
            episode: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; safe to run from several processes at once (PostgreSQL takes
    /// an advisory lock; on SQLite a process that collides with another tries again).
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        migrations::run(&self.pool, self.backend).await
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Records a "try later" error that a request or a task met. The first of an episode starts
    /// it, with one line at error level; the next ones change nothing. While it lasts,
    /// `/readyz` answers 503; it ends when [`Store::recover`] finds the database writable.
    pub fn note_unavailable(&self, cause: Unavailable) {
        let mut episode = self.episode.lock().unwrap_or_else(PoisonError::into_inner);
        if episode.is_none() {
            *episode = Some(Episode {
                cause,
                since: Instant::now(),
                probed: None,
            });
            drop(episode);
            tracing::error!(
                %cause,
                "the database cannot be used: {cause}; requests that need it answer 503 until it recovers"
            );
        }
    }

    /// The cause of the episode under way, if the database is known not to be usable.
    pub fn trouble(&self) -> Option<Unavailable> {
        self.episode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|e| e.cause)
    }

    /// Whether the database can be used now: it answers a query, and no episode is under way
    /// (or one was, and a probe write just ended it).
    pub async fn ready(&self) -> bool {
        if self.trouble().is_some() {
            self.recover().await
        } else {
            self.ping().await
        }
    }

    /// During an episode, tries a small write, and ends the episode (with one line in the log)
    /// when it succeeds; true when no episode is under way afterwards. The server calls it every
    /// second and on `/readyz`: a condition such as a full disk ends when an operator frees
    /// space, with nobody to tell the server, and an instance that load balancers took out of
    /// service sees no request that could find out.
    pub async fn recover(&self) -> bool {
        let cause = {
            let mut episode = self.episode.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(episode) = episode.as_mut() else {
                return true;
            };
            if !episode.cause.is_connection()
                && episode.probed.is_some_and(|at| at.elapsed() < PROBE_EVERY)
            {
                return false;
            }
            episode.probed = Some(Instant::now());
            episode.cause
        };
        // On a task of its own: a caller that stops waiting (`/readyz` has a deadline) must not
        // cut the probe short, which would leave the writer connection with `secure_delete` on.
        let store = self.clone();
        tokio::spawn(async move { store.try_to_end(cause).await })
            .await
            .unwrap_or(false)
    }

    /// Ends the episode if the database is usable again.
    async fn try_to_end(&self, cause: Unavailable) -> bool {
        // A database that could not be reached is back when it answers; one that could not
        // write (a full or read-only disk) when a write succeeds.
        let usable = if cause.is_connection() {
            self.ping().await
        } else {
            self.probe().await.is_ok()
        };
        if !usable {
            return false;
        }
        let ended = self
            .episode
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(Episode { cause, since, .. }) = ended {
            tracing::info!(
                %cause,
                lasted_s = since.elapsed().as_secs(),
                "the database can be used again; it could not because {cause}"
            );
        }
        true
    }

    /// Writes a row of [`PROBE_BYTES`] into the audit log and deletes it, in one transaction:
    /// nobody ever sees it, but the database had to find room for it and commit; on SQLite, then
    /// checkpoints. On SQLite with `secure_delete` for the probe's length: without it, pages
    /// freed in the transaction that took them are not written at all, and the probe would
    /// commit in less room than it claims.
    async fn probe(&self) -> sqlx::Result<()> {
        let mut conn = self.writer.acquire().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA secure_delete = 1")
                .execute(&mut *conn)
                .await?;
        }
        let mut outcome = Self::probe_on(&mut conn).await;
        if self.backend == Backend::Sqlite
            && sqlx::query("PRAGMA secure_delete = 0")
                .execute(&mut *conn)
                .await
                .is_err()
        {
            // Not left on for every write of the server: a fresh connection has it off.
            conn.close_on_drop();
        }
        drop(conn);
        if outcome.is_ok() && self.backend == Backend::Sqlite {
            // On a full disk SQLite may still commit into room its log already holds, after a
            // checkpoint let the log start over; only copying the log into the database, which
            // must grow by the probe's pages, shows that the disk has room again.
            outcome = self.checkpoint().await;
        }
        outcome
    }

    async fn probe_on(conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
        let mut tx = conn.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_events (at, kind, detail) VALUES (0, 'probe', $1) RETURNING id",
        )
        .bind("p".repeat(PROBE_BYTES))
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM audit_events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Copies what SQLite's write-ahead log holds into the database file, as far as no reader
    /// still needs it (`PASSIVE`: it waits for nobody), from a background connection, not the
    /// writer. Done a few times a second so that the single writer connection does not have to:
    /// in a profile of token minting, checkpoints (with their `fsync`) took a quarter of the
    /// writer's time. SQLite only.
    pub async fn checkpoint(&self) -> sqlx::Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.background)
            .await?;
        Ok(())
    }

    /// The same database for a periodic task: its reads take a background connection, so that
    /// a task that runs every fraction of a second does not keep every reading connection in use
    /// (the pool hands out the connection that waited longest). Writes still go to the writer.
    pub fn background(&self) -> Store {
        Store {
            pool: self.background.clone(),
            ..self.clone()
        }
    }

    /// Closes every connection, letting SQLite checkpoint its WAL.
    pub async fn close(&self) {
        self.writer.close().await;
        self.background.close().await;
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }
}

/// The one row that a writing statement with `RETURNING` answered. Such a statement is read with
/// `fetch_all`, never `fetch_one`: outside a transaction SQLite commits when the statement runs
/// to its end, and `fetch_one` stops at the first row, leaving the commit to the statement's
/// reset, whose error sqlx drops. On a full disk the write was then rolled back but answered as
/// done (an integration created with 201 that did not exist).
pub(crate) fn one_row(rows: Vec<sqlx::any::AnyRow>) -> sqlx::Result<sqlx::any::AnyRow> {
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

/// `($1, $2, …), ($k+1, …)`: the placeholders of `rows` rows of `width` values each, for a
/// statement that writes or matches many rows at once and has no other parameters; values are
/// bound row by row, in order.
///
/// On SQLite the placeholders are anonymous (`?`): SQLite finds a numbered parameter's name by a
/// linear search, so binding n numbered parameters costs n² steps (and preparing them n²
/// string comparisons), which showed up as a tenth of the single writer thread's time in a
/// profile of token minting.
fn values_placeholders(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 6);
    for i in 0..rows {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for k in 1..=width {
            if k > 1 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(i * width + k).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// The file path of a `sqlite://PATH?…` URL.
fn sqlite_path(url: &str) -> String {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split('?').next().unwrap_or_default().to_owned()
}

/// Where a SQLite database keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseFile {
    Path(std::path::PathBuf),
    /// An in-memory database: nothing on disk.
    Memory,
}

/// The file of a `sqlite:` URL; `None` for PostgreSQL.
pub fn sqlite_file(url: &str) -> Option<DatabaseFile> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let path = sqlite_path(url);
    let query = url.split_once('?').map_or("", |(_, q)| q);
    if path.is_empty() || path.starts_with(":memory:") || query.contains("mode=memory") {
        return Some(DatabaseFile::Memory);
    }
    Some(DatabaseFile::Path(path.into()))
}

/// Whether a database URL names a backend Porteiro supports.
pub fn check_url(url: &str) -> anyhow::Result<()> {
    normalize_url(url).map(|_| ())
}

fn normalize_url(url: &str) -> anyhow::Result<(String, Backend)> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        // sqlx opens an existing file only, unless told to create it.
        let url = if rest.contains("mode=") {
            url.to_owned()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok((url, Backend::Sqlite))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((url.to_owned(), Backend::Postgres))
    } else {
        anyhow::bail!("--database must be a sqlite:// or postgres:// URL")
    }
}

/// Why the database cannot be used for now: an error that says "try later", as opposed to a
/// query that failed. Requests that meet one answer 503 with `Retry-After`, and the store keeps
/// the instance unready until a write succeeds again (see [`Store::note_unavailable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// No connection: refused, broken, timed out, or the pool is closed.
    Unreachable,
    /// SQLite `SQLITE_FULL`; PostgreSQL 53100.
    DiskFull,
    /// SQLite `SQLITE_READONLY` and its extended codes.
    ReadOnly,
    /// SQLite `SQLITE_BUSY` or `SQLITE_LOCKED` beyond the busy timeout.
    Locked,
    /// SQLite `SQLITE_IOERR` and its extended codes.
    Io,
    /// SQLite `SQLITE_CANTOPEN`.
    CantOpen,
    /// SQLite `SQLITE_NOMEM`; PostgreSQL 53200.
    OutOfMemory,
    /// PostgreSQL 53300.
    TooManyConnections,
    /// PostgreSQL class 53, other than the above.
    Resources,
    /// PostgreSQL 57P01, 57P02, 57P03: shut down by an administrator, after a crash, or not
    /// accepting connections yet.
    ShuttingDown,
}

impl Unavailable {
    /// Whether the cause is the connection to the database (unreachable, shutting down, too
    /// many connections), not what the database can do once reached.
    fn is_connection(self) -> bool {
        matches!(
            self,
            Unavailable::Unreachable | Unavailable::ShuttingDown | Unavailable::TooManyConnections
        )
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unavailable::Unreachable => "the database is unreachable",
            Unavailable::DiskFull => "the database disk is full",
            Unavailable::ReadOnly => "the database is read-only",
            Unavailable::Locked => "the database stayed locked beyond the busy timeout",
            Unavailable::Io => "the database file could not be read or written (I/O error)",
            Unavailable::CantOpen => "the database file cannot be opened",
            Unavailable::OutOfMemory => "the database is out of memory",
            Unavailable::TooManyConnections => "the database has too many connections",
            Unavailable::Resources => "the database lacks resources",
            Unavailable::ShuttingDown => "the database is shutting down or starting up",
        })
    }
}

/// Whether an error means the database cannot be used for now (as opposed to a query that
/// failed): see [`unavailability`].
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    unavailability(e).is_some()
}

/// Why `e` says "try later", if it does.
pub fn unavailability(e: &sqlx::Error) -> Option<Unavailable> {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Some(Unavailable::Unreachable),
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_unavailability(db.code()?.parse().ok()?)
            } else {
                sqlstate_unavailability(&db.code()?)
            }
        }
        _ => None,
    }
}

/// The "try later" cases among SQLite's (extended) result codes: the primary code is the low
/// byte.
fn sqlite_unavailability(code: i32) -> Option<Unavailable> {
    match code & 0xff {
        5 | 6 => Some(Unavailable::Locked),
        7 => Some(Unavailable::OutOfMemory),
        8 => Some(Unavailable::ReadOnly),
        10 => Some(Unavailable::Io),
        13 => Some(Unavailable::DiskFull),
        14 => Some(Unavailable::CantOpen),
        _ => None,
    }
}

/// The "try later" cases among PostgreSQL's SQLSTATEs: class 08 (connection exception), class
/// 53 (insufficient resources) and the operator intervention codes 57P01–57P03.
fn sqlstate_unavailability(code: &str) -> Option<Unavailable> {
    match code {
        "53100" => Some(Unavailable::DiskFull),
        "53200" => Some(Unavailable::OutOfMemory),
        "53300" => Some(Unavailable::TooManyConnections),
        "57P01" | "57P02" | "57P03" => Some(Unavailable::ShuttingDown),
        _ if code.starts_with("53") => Some(Unavailable::Resources),
        _ if code.starts_with("08") => Some(Unavailable::Unreachable),
        _ => None,
    }
}

/// The "try later" cause anywhere in an error's chain.
pub fn unavailability_in(e: &anyhow::Error) -> Option<Unavailable> {
    e.chain()
        .find_map(|cause| cause.downcast_ref::<sqlx::Error>().and_then(unavailability))
}

/// Counts the attempts at a statement or transaction that PostgreSQL may end to break a
/// deadlock (SQLSTATE 40P01). Such a statement was undone as a whole, so it may be performed
/// again: up to three attempts in all, each retry with a warning in the log.
pub(crate) struct DeadlockRetry {
    what: &'static str,
    attempt: usize,
}

impl DeadlockRetry {
    const ATTEMPTS: usize = 3;

    /// `what` names the work in the warning.
    pub(crate) fn new(what: &'static str) -> Self {
        Self { what, attempt: 1 }
    }

    /// Whether the attempt that failed with `e` is to be made again.
    pub(crate) fn again(&mut self, e: &sqlx::Error) -> bool {
        let deadlock =
            matches!(e.as_database_error(), Some(db) if db.code().as_deref() == Some("40P01"));
        if !deadlock || self.attempt >= Self::ATTEMPTS {
            return false;
        }
        tracing::warn!(
            attempt = self.attempt,
            "{} deadlocked with another transaction; trying again",
            self.what
        );
        self.attempt += 1;
        true
    }

    /// Waits a moment before the next attempt: 10 to 20 ms times the attempts made so far. The
    /// transaction the deadlock was with is waiting for a lock the ended attempt held; an
    /// attempt made again at once can take that lock back before the other transaction is
    /// scheduled (a busy machine), and deadlock with it once more.
    pub(crate) async fn pause(&self) {
        let mut jitter = [0u8; 1];
        let _ = aws_lc_rs::rand::fill(&mut jitter);
        let millis = (10 + u64::from(jitter[0]) % 11) * (self.attempt as u64 - 1);
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_are_opened_in_create_mode() {
        assert_eq!(
            normalize_url("sqlite://porteiro.db").unwrap().0,
            "sqlite://porteiro.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite://x.db?mode=ro").unwrap().0,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
        assert!(normalize_url("mysql://x").is_err());
    }

    #[test]
    fn postgres_connection_shutdown_and_resource_errors_say_try_later() {
        for (code, cause) in [
            ("08000", Unavailable::Unreachable),
            ("08003", Unavailable::Unreachable),
            ("08006", Unavailable::Unreachable),
            ("08P01", Unavailable::Unreachable),
            ("57P01", Unavailable::ShuttingDown),
            ("57P02", Unavailable::ShuttingDown),
            ("57P03", Unavailable::ShuttingDown),
            ("53000", Unavailable::Resources),
            ("53100", Unavailable::DiskFull),
            ("53200", Unavailable::OutOfMemory),
            ("53300", Unavailable::TooManyConnections),
            ("53400", Unavailable::Resources),
        ] {
            assert_eq!(sqlstate_unavailability(code), Some(cause), "{code}");
        }
        // A unique violation, a deadlock, a syntax error, a cancelled statement: the query
        // failed, the database did not.
        for code in ["23505", "40P01", "42601", "57014", "22001"] {
            assert_eq!(sqlstate_unavailability(code), None, "{code}");
        }
    }

    #[test]
    fn sqlite_full_readonly_busy_io_and_cantopen_errors_say_try_later() {
        for (code, cause) in [
            (13, Unavailable::DiskFull),
            (8, Unavailable::ReadOnly),
            (264, Unavailable::ReadOnly),  // SQLITE_READONLY_RECOVERY
            (520, Unavailable::ReadOnly),  // SQLITE_READONLY_CANTLOCK
            (1032, Unavailable::ReadOnly), // SQLITE_READONLY_DBMOVED
            (5, Unavailable::Locked),
            (517, Unavailable::Locked), // SQLITE_BUSY_SNAPSHOT
            (6, Unavailable::Locked),
            (10, Unavailable::Io),
            (778, Unavailable::Io),  // SQLITE_IOERR_WRITE
            (1290, Unavailable::Io), // SQLITE_IOERR_FSYNC
            (14, Unavailable::CantOpen),
            (7, Unavailable::OutOfMemory),
        ] {
            assert_eq!(sqlite_unavailability(code), Some(cause), "{code}");
        }
        // SQLITE_ERROR, SQLITE_CONSTRAINT_UNIQUE, SQLITE_CORRUPT, SQLITE_MISMATCH.
        for code in [1, 2067, 11, 20] {
            assert_eq!(sqlite_unavailability(code), None, "{code}");
        }
    }

    #[test]
    fn connection_failures_say_try_later_and_the_cause_is_found_in_a_chain() {
        assert_eq!(
            unavailability(&sqlx::Error::PoolTimedOut),
            Some(Unavailable::Unreachable)
        );
        assert_eq!(unavailability(&sqlx::Error::RowNotFound), None);
        let chained = anyhow::Error::from(sqlx::Error::PoolClosed).context("reading keys");
        assert_eq!(unavailability_in(&chained), Some(Unavailable::Unreachable));
        assert_eq!(unavailability_in(&anyhow::anyhow!("other")), None);
    }

    #[test]
    fn multi_row_placeholders_are_numbered_on_postgres_only() {
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(
            values_placeholders(Backend::Sqlite, 2, 3),
            "(?, ?, ?), (?, ?, ?)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 1, 1), "(?)");
    }

    /// `PRAGMA synchronous` on each of the store's pools (reads, the writer, the background).
    async fn synchronous_of_every_pool(store: &Store) -> Vec<i64> {
        let mut values = Vec::new();
        for pool in [&store.pool, &store.writer, &store.background] {
            let (value,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                .fetch_one(pool)
                .await
                .unwrap();
            values.push(value);
        }
        values
    }

    /// The server as `serve` builds it from its settings, on a fresh SQLite file.
    async fn server_store(synchronous: Option<&str>) -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--listen".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--database".to_owned(),
            format!("sqlite://{}/porteiro.db", dir.path().display()),
        ];
        if let Some(value) = synchronous {
            args.extend(["--sqlite-synchronous".to_owned(), value.to_owned()]);
        }
        let settings = crate::config::Settings::from_flags(args).unwrap();
        let clock: crate::clock::SharedClock = std::sync::Arc::new(crate::clock::SystemClock);
        let app = crate::app::Application::build(settings, clock)
            .await
            .unwrap();
        (app.state().auth.store.clone(), dir)
    }

    #[tokio::test]
    async fn the_server_syncs_sqlite_at_every_commit_with_sqlite_synchronous_full() {
        let (store, _dir) = server_store(Some("full")).await;
        assert_eq!(synchronous_of_every_pool(&store).await, [2, 2, 2]);
    }

    #[tokio::test]
    async fn the_server_runs_sqlite_with_synchronous_normal_by_default() {
        let (store, _dir) = server_store(None).await;
        assert_eq!(synchronous_of_every_pool(&store).await, [1, 1, 1]);
    }
}
