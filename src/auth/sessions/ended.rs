//! Which sessions have ended, known in memory so that checking a bearer token costs no database
//! round trip. Filled at start, added to on every local end, and refreshed by polling the
//! database at least every 500 ms, which gives the one-second guarantee across instances.
//!
//! The polls follow the database's clock alone: each end is stamped by the database
//! (`sessions.ended_ms`) and each poll's cursor is read from the same clock, so an end written by
//! a machine whose clock is behind — a command-line host, another instance — is still found.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::store::Store;

/// How far back each poll looks before the previous poll's cursor, in milliseconds: an end
/// stamped just before that cursor by a transaction that committed just after the poll read is
/// found by the next poll.
const POLL_OVERLAP_MS: i64 = 5_000;

pub struct EndedSessions {
    /// Each ended session with when this instance learned of it, by its own clock.
    ended: RwLock<HashMap<String, i64>>,
    /// The database's clock when the last poll began; `i64::MIN` before the first poll.
    cursor_ms: AtomicI64,
    /// How long an ended session is remembered: the longest access-token lifetime, after which
    /// every token of it has expired anyway.
    keep: i64,
}

impl EndedSessions {
    pub fn new(keep: i64) -> Self {
        Self {
            ended: RwLock::new(HashMap::new()),
            cursor_ms: AtomicI64::new(i64::MIN),
            keep,
        }
    }

    pub fn contains(&self, sid: &str) -> bool {
        self.ended
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(sid)
    }

    pub fn len(&self) -> usize {
        self.ended.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remembers a session ended here, `now` being this instance's clock.
    pub fn insert(&self, sid: String, now: i64) {
        self.ended
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(sid)
            .or_insert(now);
    }

    /// Reads sessions ended since the last poll (all of the retention period on the first), and
    /// forgets those this instance has known of for longer than every token of theirs lives.
    /// `now` is this instance's clock, used only for forgetting.
    pub async fn poll(&self, store: &Store, now: i64) -> sqlx::Result<()> {
        let cursor = store.database_now_ms().await?;
        let last = self.cursor_ms.load(Ordering::SeqCst);
        let since = if last == i64::MIN {
            cursor.saturating_sub(self.keep.saturating_mul(1000))
        } else {
            last - POLL_OVERLAP_MS
        };
        let fresh = store.sessions_ended_since(since).await?;
        let mut ended = self.ended.write().unwrap_or_else(|e| e.into_inner());
        for sid in fresh {
            ended.entry(sid).or_insert(now);
        }
        ended.retain(|_, learned| *learned + self.keep >= now);
        drop(ended);
        self.cursor_ms.store(cursor, Ordering::SeqCst);
        Ok(())
    }
}
