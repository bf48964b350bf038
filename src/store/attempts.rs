//! Failed-login counters, checked and bumped in one atomic statement so that neither parallel
//! requests nor several instances get more attempts than the limit.

use sqlx::Row;

use super::Store;

/// The state of one counter right after an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted in the current window, this one included.
    pub failures: i64,
    pub locked_until: Option<i64>,
}

impl Store {
    /// Counts one attempt against `key` before its credential is checked. A window that has
    /// passed, or a lock that has expired, starts afresh. The attempt that reaches `limit` sets
    /// the lock; it is still checked, and a success clears the lock again.
    pub async fn count_attempt(
        &self,
        key: &str,
        now: i64,
        limit: i64,
        window: i64,
        lock_for: i64,
    ) -> sqlx::Result<AttemptCount> {
        // `stale`: the old row no longer counts — its lock expired, or its window passed unlocked.
        const STALE: &str = "((login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $2) \
             OR (login_attempts.locked_until IS NULL AND login_attempts.window_start + $4 <= $2))";
        let sql = format!(
            "INSERT INTO login_attempts (key, window_start, failures, locked_until) \
             VALUES ($1, $2, 1, CASE WHEN 1 >= $3 THEN $2 + $5 ELSE NULL END) \
             ON CONFLICT (key) DO UPDATE SET \
               window_start = CASE WHEN {STALE} THEN $2 ELSE login_attempts.window_start END, \
               locked_until = CASE \
                 WHEN {STALE} THEN (CASE WHEN 1 >= $3 THEN $2 + $5 ELSE NULL END) \
                 WHEN login_attempts.locked_until IS NULL AND login_attempts.failures + 1 >= $3 THEN $2 + $5 \
                 ELSE login_attempts.locked_until END, \
               failures = CASE WHEN {STALE} THEN 1 ELSE login_attempts.failures + 1 END \
             RETURNING failures, locked_until"
        );
        let row = sqlx::query(&sql)
            .bind(key)
            .bind(now)
            .bind(limit)
            .bind(window)
            .bind(lock_for)
            .fetch_one(self.writer())
            .await?;
        Ok(AttemptCount {
            failures: row.try_get(0)?,
            locked_until: row.try_get(1)?,
        })
    }

    /// Forgets a counter (an account after a successful login).
    pub async fn clear_attempts(&self, key: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM login_attempts WHERE key = $1")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Takes back one counted attempt that turned out to be a success (an address counter), and
    /// the lock it may have set.
    pub async fn uncount_attempt(&self, key: &str, limit: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE login_attempts SET failures = failures - 1, \
             locked_until = CASE WHEN failures - 1 >= $2 THEN locked_until ELSE NULL END \
             WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .bind(limit)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Deletes counters that no longer count: window passed and no lock in force.
    pub async fn prune_attempts(&self, now: i64, window: i64) -> sqlx::Result<u64> {
        let done = sqlx::query(
            "DELETE FROM login_attempts WHERE window_start + $2 <= $1 \
             AND (locked_until IS NULL OR locked_until <= $1)",
        )
        .bind(now)
        .bind(window)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// Reads two counters without counting anything: `(failures, locked_until)` of each, in order.
    pub async fn peek_attempts(&self, keys: [&str; 2]) -> sqlx::Result<[Option<AttemptCount>; 2]> {
        let rows = sqlx::query(
            "SELECT key, failures, locked_until FROM login_attempts WHERE key = $1 OR key = $2",
        )
        .bind(keys[0])
        .bind(keys[1])
        .fetch_all(self.pool())
        .await?;
        let mut found = [None, None];
        for row in rows {
            let key: String = row.try_get(0)?;
            let count = AttemptCount {
                failures: row.try_get(1)?,
                locked_until: row.try_get(2)?,
            };
            if let Some(i) = keys.iter().position(|k| *k == key) {
                found[i] = Some(count);
            }
        }
        Ok(found)
    }
}
