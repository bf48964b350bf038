//! Who a bearer token belongs to, remembered for a moment: a resource server calls
//! `/api/v1/me` with the same token again and again, and the answer cannot change in ways that
//! matter within a second — a session that ends is refused at once by the ended-sessions check,
//! which runs before this; only a renamed user or a changed role shows up to a second late.

use std::collections::HashMap;
use std::sync::RwLock;

use super::Identity;

/// How long a looked-up identity is reused.
const FRESH_FOR_SECONDS: i64 = 1;
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct RecentIdentities {
    entries: RwLock<HashMap<String, (i64, Identity)>>,
}

impl RecentIdentities {
    pub fn get(&self, sid: &str, now: i64) -> Option<Identity> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(sid)
            .filter(|(at, _)| now - at < FRESH_FOR_SECONDS)
            .map(|(_, identity)| identity.clone())
    }

    pub fn insert(&self, sid: &str, identity: &Identity, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| now - *at < FRESH_FOR_SECONDS);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(sid.to_owned(), (now, identity.clone()));
    }
}
