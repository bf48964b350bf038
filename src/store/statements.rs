//! Helpers that statements share: reading the row a write returned, whether a text can be in a
//! row, the placeholders of a statement of many rows, and the retry of a statement that PostgreSQL ended in a deadlock.

use std::time::Duration;

use super::Backend;

/// The one row that a writing statement with `RETURNING` answered. Such a statement is read with
/// `fetch_all`, never `fetch_one`: outside a transaction SQLite commits when the statement runs
/// to its end, and `fetch_one` stops at the first row, leaving the commit to the statement's
/// reset, whose error sqlx drops. On a full disk the write was then rolled back but answered as
/// done (an integration created with 201 that did not exist).
pub(crate) fn one_row(rows: Vec<sqlx::any::AnyRow>) -> sqlx::Result<sqlx::any::AnyRow> {
    rows.into_iter().next().ok_or(sqlx::Error::RowNotFound)
}

/// Whether a text can be in a row at all: PostgreSQL refuses a NUL byte in text (an error, not
/// a row that does not match), so a lookup by such a text matches nothing without asking, on
/// both databases alike.
pub(super) fn may_be_stored(text: &str) -> bool {
    !text.contains('\0')
}

/// `($1, $2, …), ($k+1, …)`: the placeholders of `rows` rows of `width` values each, for a
/// statement that writes or matches many rows at once and has no other parameters; values are
/// bound row by row, in order.
///
/// On SQLite the placeholders are anonymous (`?`): SQLite finds a numbered parameter's name by a
/// linear search, so binding n numbered parameters costs n² steps (and preparing them n²
/// string comparisons), which showed up as a tenth of the single writer thread's time in a
/// profile of token minting.
pub(super) fn values_placeholders(backend: Backend, rows: usize, width: usize) -> String {
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
}
