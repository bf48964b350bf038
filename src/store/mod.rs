//! The only place with SQL. One code path serves SQLite and PostgreSQL through sqlx's `Any`
//! driver: portable SQL with `$n` placeholders, `ON CONFLICT`, `RETURNING` and integer epoch
//! times. Dialect differences live in the migrations and in [`Store::connect`].
//!
//! This file holds the [`Store`] handle; how it connects is in `connect`, how it finds out that
//! the database can be used again in `health`, which errors say "try later" in `errors`, and the
//! helpers every statement shares in `statements`. The other files are one per table or concern.

mod access;
mod attempts;
mod audit;
mod connect;
mod console;
mod errors;
mod health;
mod imports;
mod integrations;
mod keys;
mod migrations;
mod orgs;
mod session_writer;
mod sessions;
mod statements;
mod users;

use std::sync::{Arc, Mutex};

use sqlx::AnyPool;

pub use access::AccessChange;
pub use attempts::{AttemptCount, Counter};
pub use connect::{DatabaseFile, OpenError, SqliteSynchronous, check_url, sqlite_file};
pub use console::ConsoleSession;
pub use errors::{WriteError, is_unavailable, unavailability, unavailability_in};
pub use imports::ImportedAccount;
pub use keys::{Retirement, Sealing, Successor};
pub use session_writer::{NewSession, Rotation, WriterConnection};
pub use sessions::{EndReason, SessionKind, SessionRecord};
use statements::values_placeholders;
pub(crate) use statements::{DeadlockRetry, one_row};
pub use users::{LoginRecord, UserRecord};

/// The signing keys the store reads and writes: the key ring's own types.
pub use crate::tokens::stored::{NewKey, StoredKey};

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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
    episode: Arc<Mutex<Option<health::Episode>>>,
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
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; safe to run from several processes at once (PostgreSQL takes
    /// an advisory lock; on SQLite a process that collides with another tries again).
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        migrations::run(&self.pool, self.backend).await
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
