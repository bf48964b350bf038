//! Tokens already verified, by digest: a client presents the same access token many times, and
//! checking its signature again would cost more than everything else a bearer check does.
//! Only the exact bytes of a token that verified map to its claims, so a hit proves what the
//! signature proved; an entry is dropped when the token expires. A hit also holds the key that
//! verified the token, so that once that key is retired the token is refused like any other it
//! signed: one atomic load per hit.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Claims;
use super::keys::SigningKey;

/// Enough for the tokens in active use; when full, expired entries go, and if none has expired
/// the cache starts over (a miss only costs one signature check).
const CAPACITY: usize = 50_000;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<[u8; 32], Entry>>,
}

struct Entry {
    claims: Claims,
    /// The key that verified the token.
    key: Arc<SigningKey>,
}

fn digest(token: &str) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(d.as_ref());
    key
}

impl VerifiedTokens {
    /// The claims of a token verified before, still unexpired at `now` (with `leeway`), whose
    /// key has not been withdrawn since.
    pub fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Claims> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&digest(token))
            .filter(|e| e.claims.exp.saturating_add(leeway) > now && !e.key.is_withdrawn())
            .map(|e| e.claims.clone())
    }

    /// Remembers that `token`, with these claims, verified with `key`.
    pub fn insert(&self, token: &str, claims: &Claims, key: Arc<SigningKey>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| e.claims.exp > now);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let claims = claims.clone();
        entries.insert(digest(token), Entry { claims, key });
    }
}
