//! Why the database cannot be used for now: the vocabulary of an outage, shared by every layer
//! that meets one. The store finds the cause (it alone reads the database's errors, see
//! `store::unavailability`); `auth` carries it in its errors; each surface answers 503 and marks
//! the answer with it; and the route table's middleware hands it back to the store, which keeps
//! the instance unready until the database recovers. It lives outside those layers, in no
//! module of theirs, because it travels down as well as up.

/// Why the database cannot be used for now: an error that says "try later", as opposed to a
/// query that failed. Requests that meet one answer 503 with `Retry-After`, and the store keeps
/// the instance unready until a write succeeds again (see `Store::note_unavailable`).
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
    pub fn is_connection(self) -> bool {
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
