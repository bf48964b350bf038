//! Opening the store: the URL of each backend, the pools (readers, the single SQLite writer, the
//! background tasks' connections) and the options each connection starts with.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

use super::{Backend, Store};
use crate::files;

/// A PostgreSQL connection idle for this long is tested before it is used again (see
/// [`Store::open`]); a database restart takes longer than that.
const UNTESTED_IDLE: Duration = Duration::from_secs(1);

/// A reading SQLite connection unused for this long is closed (sqlx checks at this interval, so
/// it goes within twice this). Each one is a thread of its own with a page cache of up to 2 MiB: the
/// connections a load opened would otherwise keep that memory for sqlx's default of ten minutes
/// once it has passed. Opening one again costs a thread, a file open and four pragmas, well
/// under a millisecond; a connection in use at least every few seconds is never closed.
const SQLITE_READER_IDLE: Duration = Duration::from_secs(5);

/// How hard SQLite works to keep a commit: its `synchronous` pragma in WAL mode. Both keep every
/// commit across a crash of the process; they differ when the machine loses power or the kernel
/// fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// The log is synced at checkpoints only: a power loss may take the last commits with it,
    /// answers already sent included (a rotation whose new token the client holds).
    #[default]
    Normal,
    /// The log is synced at every commit, before the answer: a commit that was answered survives a
    /// power loss, at the cost of one `fsync` per write transaction.
    Full,
}

impl SqliteSynchronous {
    /// The pragma's value, as SQLite reads it back: 1 for NORMAL, 2 for FULL.
    pub fn pragma_value(self) -> i64 {
        match self {
            SqliteSynchronous::Normal => 1,
            SqliteSynchronous::Full => 2,
        }
    }
}

/// What a pool of [`Store::open`] is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Read,
    Write,
    Background,
}

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
        (app.state().auth.store().clone(), dir)
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
