//! Records remembered for a moment, so that the hot paths do not read the database for every
//! request: who a bearer token belongs to (a resource server calls `/api/v1/me` with the same
//! token again and again) and an integration's record (a client asks for a token, or
//! introspects one, many times a second).
//!
//! Nothing that matters waits on these: a session that ends is refused at once by the
//! ended-sessions check, which runs before the identity is looked up, and a session is only
//! created or rotated while the database says its subject is entitled. What may show up to a
//! second late on another instance is a renamed user, a changed role or scope, and a revoked
//! integration's right to introspect or revoke (it can no longer get tokens).

use std::collections::HashMap;
use std::sync::RwLock;

/// How long a looked-up record is reused.
const FRESH_FOR_SECONDS: i64 = 1;
const CAPACITY: usize = 50_000;

pub struct Recent<V> {
    entries: RwLock<HashMap<String, (i64, V)>>,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self {
            entries: RwLock::default(),
        }
    }
}

impl<V: Clone> Recent<V> {
    pub fn get(&self, key: &str, now: i64) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| now - at < FRESH_FOR_SECONDS)
            .map(|(_, value)| value.clone())
    }

    pub fn insert(&self, key: &str, value: &V, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| now - *at < FRESH_FOR_SECONDS);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (now, value.clone()));
    }

    /// Forgets everything: after a change made here, this instance sees it at once.
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
