//! Which sessions have ended, known in memory so that checking a bearer token costs no database
//! round trip. Filled at start, added to on every local end, and refreshed by polling the
//! database at least every 500 ms, which gives the one-second guarantee across instances.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::store::Store;

/// How far back each poll looks beyond the previous one, to absorb clock skew between instances
/// and commits that land just after a poll.
const POLL_OVERLAP: i64 = 5;

pub struct EndedSessions {
    ended: RwLock<HashMap<String, i64>>,
    polled_at: AtomicI64,
    /// How long an ended session is remembered: the longest access-token lifetime, after which
    /// every token of it has expired anyway.
    keep: i64,
}

impl EndedSessions {
    pub fn new(keep: i64) -> Self {
        Self {
            ended: RwLock::new(HashMap::new()),
            polled_at: AtomicI64::new(i64::MIN),
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

    pub fn insert(&self, sid: String, ended_at: i64) {
        self.ended
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sid, ended_at);
    }

    /// Reads sessions ended since the last poll (all of the retention period on the first), and
    /// forgets those whose tokens have all expired.
    pub async fn poll(&self, store: &Store, now: i64) -> sqlx::Result<()> {
        let last = self.polled_at.load(Ordering::SeqCst);
        let since = if last == i64::MIN {
            now - self.keep
        } else {
            last - POLL_OVERLAP
        };
        let fresh = store.sessions_ended_since(since).await?;
        let mut ended = self.ended.write().unwrap_or_else(|e| e.into_inner());
        ended.extend(fresh);
        ended.retain(|_, at| *at + self.keep >= now);
        drop(ended);
        self.polled_at.store(now, Ordering::SeqCst);
        Ok(())
    }
}
