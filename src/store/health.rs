//! Whether the database can be used: the episodes during which it said "try later", noted by
//! whoever met one, and ended by a probe that finds the database usable again.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use sqlx::Connection;

use super::{Backend, Store};
use crate::outage::Unavailable;

/// A time during which the database said "try later": its first cause and when it came.
#[derive(Debug, Clone, Copy)]
pub(super) struct Episode {
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

impl Store {
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
}
