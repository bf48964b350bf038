//! Which database errors say "try later" (the database cannot be used for now) and which one is
//! a unique violation, on SQLite and PostgreSQL alike.

use crate::outage::Unavailable;

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

/// What a write that must be unique ran into.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("already exists")]
    Duplicate,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl WriteError {
    pub(super) fn from_sqlx(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => WriteError::Duplicate,
            _ => WriteError::Database(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
