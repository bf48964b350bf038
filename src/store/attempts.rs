//! Failed-login counters, checked and bumped in one atomic statement so that neither parallel
//! requests nor several instances get more attempts than the limit.

use sqlx::Row;

use super::{DeadlockRetry, Store};

/// The state of one counter right after an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted in the current window, this one included.
    pub failures: i64,
    pub locked_until: Option<i64>,
}

/// One counter an attempt touches, with its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter<'a> {
    pub key: &'a str,
    pub limit: i64,
}

impl Store {
    /// Counts one attempt against every counter in one statement, before its credential is
    /// checked; the counts are returned in the order given. A window that has passed, or a lock
    /// that has expired, starts afresh. The attempt that reaches a counter's limit sets its lock;
    /// it is still checked, and a success clears the lock again.
    pub async fn count_attempts(
        &self,
        counters: &[Counter<'_>],
        now: i64,
        window: i64,
        lock_for: i64,
    ) -> sqlx::Result<Vec<AttemptCount>> {
        if counters.is_empty() {
            return Ok(Vec::new());
        }
        // On PostgreSQL the statement locks its rows in the order of its VALUES: every attempt
        // takes them in the order of their keys, so two attempts never wait for each other in a
        // circle.
        let mut sorted = counters.to_vec();
        sorted.sort_by_key(|c| c.key);
        sorted.dedup_by_key(|c| c.key);
        let mut retry = DeadlockRetry::new("a count of login attempts");
        let rows = loop {
            match self
                .count_attempts_once(&sorted, now, window, lock_for)
                .await
            {
                Err(e) if retry.again(&e) => retry.pause().await,
                outcome => break outcome?,
            }
        };
        counters
            .iter()
            .map(|c| {
                rows.iter()
                    .find(|(key, _)| key == c.key)
                    .map(|(_, count)| *count)
                    .ok_or(sqlx::Error::RowNotFound)
            })
            .collect()
    }

    async fn count_attempts_once(
        &self,
        counters: &[Counter<'_>],
        now: i64,
        window: i64,
        lock_for: i64,
    ) -> sqlx::Result<Vec<(String, AttemptCount)>> {
        // $1 now, $2 window, $3 lock_for; then each counter's key and limit.
        let key = |i: usize| format!("${}", 4 + 2 * i);
        let limit = |i: usize| format!("${}", 5 + 2 * i);
        let values: Vec<String> = (0..counters.len())
            .map(|i| {
                format!(
                    "({}, $1, 1, CASE WHEN 1 >= {} THEN $1 + $3 ELSE NULL END)",
                    key(i),
                    limit(i)
                )
            })
            .collect();
        let cases: String = (0..counters.len())
            .map(|i| format!(" WHEN {} THEN {}", key(i), limit(i)))
            .collect();
        let row_limit = format!("(CASE login_attempts.key{cases} END)");
        // `stale`: the old row no longer counts — its lock expired, or its window passed unlocked.
        const STALE: &str = "((login_attempts.locked_until IS NOT NULL AND login_attempts.locked_until <= $1) \
             OR (login_attempts.locked_until IS NULL AND login_attempts.window_start + $2 <= $1))";
        let sql = format!(
            "INSERT INTO login_attempts (key, window_start, failures, locked_until) \
             VALUES {values} \
             ON CONFLICT (key) DO UPDATE SET \
               window_start = CASE WHEN {STALE} THEN $1 ELSE login_attempts.window_start END, \
               locked_until = CASE \
                 WHEN {STALE} THEN (CASE WHEN 1 >= {row_limit} THEN $1 + $3 ELSE NULL END) \
                 WHEN login_attempts.locked_until IS NULL AND login_attempts.failures + 1 >= {row_limit} THEN $1 + $3 \
                 ELSE login_attempts.locked_until END, \
               failures = CASE WHEN {STALE} THEN 1 ELSE login_attempts.failures + 1 END \
             RETURNING key, failures, locked_until",
            values = values.join(", "),
        );
        let mut query = sqlx::query(&sql).bind(now).bind(window).bind(lock_for);
        for c in counters {
            query = query.bind(c.key).bind(c.limit);
        }
        let rows = query.fetch_all(self.writer()).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("key")?,
                    AttemptCount {
                        failures: row.try_get("failures")?,
                        locked_until: row.try_get("locked_until")?,
                    },
                ))
            })
            .collect()
    }

    /// Forgets counters (an account's after a successful login).
    pub async fn clear_attempts(&self, keys: &[&str]) -> sqlx::Result<()> {
        // One row per statement: nothing to deadlock on with a concurrent count.
        for key in keys {
            sqlx::query("DELETE FROM login_attempts WHERE key = $1")
                .bind(key)
                .execute(self.writer())
                .await?;
        }
        Ok(())
    }

    /// Takes back one counted attempt that turned out to be no failure (a success, or a refusal
    /// by another counter), and the lock it may have set.
    pub async fn uncount_attempts(&self, counters: &[Counter<'_>]) -> sqlx::Result<()> {
        for c in counters {
            sqlx::query(
                "UPDATE login_attempts SET failures = failures - 1, \
                 locked_until = CASE WHEN failures - 1 >= $2 THEN locked_until ELSE NULL END \
                 WHERE key = $1 AND failures > 0",
            )
            .bind(c.key)
            .bind(c.limit)
            .execute(self.writer())
            .await?;
        }
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

    /// Reads counters without counting anything, in one statement: `None` for a counter that has
    /// no row, in the order given.
    pub async fn peek_attempts(&self, keys: &[&str]) -> sqlx::Result<Vec<Option<AttemptCount>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=keys.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT key, failures, locked_until FROM login_attempts WHERE key IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for key in keys {
            query = query.bind(*key);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut found = vec![None; keys.len()];
        for row in rows {
            let key: String = row.try_get("key")?;
            let count = AttemptCount {
                failures: row.try_get("failures")?,
                locked_until: row.try_get("locked_until")?,
            };
            for (i, k) in keys.iter().enumerate() {
                if *k == key {
                    found[i] = Some(count);
                }
            }
        }
        Ok(found)
    }
}
