//! The key ring: every signing key of the configured algorithm, loaded from the database at
//! start and reloaded every few seconds, so every instance signs and verifies alike.

use std::sync::{Arc, RwLock};

use secrecy::{ExposeSecret, SecretString};

use super::keys::{SigningKey, generate_private_key, new_kid};
use crate::config::Algorithm;
use crate::store::{Store, StoredKey};

pub struct KeyRing {
    algorithm: Algorithm,
    /// How long a superseded key stays published: the longest token lifetime plus a margin for
    /// instances that have not yet reloaded.
    retain: i64,
    keys: RwLock<Arc<Vec<Arc<SigningKey>>>>,
}

/// Seconds an instance may lag behind a key change (it reloads every 5 s) plus clock skew.
const RELOAD_MARGIN: i64 = 60;

impl KeyRing {
    /// An empty ring for an asymmetric algorithm, or the one-key ring of HS256.
    pub fn new(
        algorithm: Algorithm,
        longest_lifetime: i64,
        hs256_secret: Option<&SecretString>,
    ) -> Self {
        let keys = match (algorithm, hs256_secret) {
            (Algorithm::HS256, Some(secret)) => vec![Arc::new(SigningKey::hs256(
                secret.expose_secret().as_bytes(),
            ))],
            _ => Vec::new(),
        };
        Self {
            algorithm,
            retain: longest_lifetime + RELOAD_MARGIN,
            keys: RwLock::new(Arc::new(keys)),
        }
    }

    fn snapshot(&self) -> Arc<Vec<Arc<SigningKey>>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads the ring from the database, parsing only keys it has not seen before.
    pub async fn reload(&self, store: &Store) -> anyhow::Result<()> {
        if self.algorithm == Algorithm::HS256 {
            return Ok(());
        }
        let stored = store.list_keys().await?;
        let current = self.snapshot();
        let mut keys = Vec::with_capacity(stored.len());
        for row in stored
            .iter()
            .filter(|k| k.algorithm == self.algorithm.as_str())
        {
            match current.iter().find(|k| k.kid == row.kid) {
                Some(known) => keys.push(known.clone()),
                None => keys.push(Arc::new(SigningKey::from_pkcs8(
                    &row.kid,
                    self.algorithm,
                    &row.private_key,
                    row.activates_at,
                )?)),
            }
        }
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(())
    }

    /// Makes sure a key of the configured algorithm signs now: on a fresh database (or after a
    /// change of algorithm) one is created that activates at once, since nothing can have cached
    /// a JWKS without it.
    pub async fn ensure_signing_key(&self, store: &Store, now: i64) -> anyhow::Result<()> {
        self.reload(store).await?;
        if self.signing_key(now).is_none() {
            create_key(store, self.algorithm, now, now).await?;
            self.reload(store).await?;
        }
        Ok(())
    }

    /// The newest key whose activation time has passed.
    pub fn signing_key(&self, now: i64) -> Option<Arc<SigningKey>> {
        self.snapshot()
            .iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .cloned()
    }

    /// The published key with this kid.
    pub fn verifying_key(&self, kid: &str, now: i64) -> Option<Arc<SigningKey>> {
        self.published(now).into_iter().find(|k| k.kid == kid)
    }

    /// Keys that verify: every key that signs now or will, and every superseded key until the
    /// last token it can have signed has expired.
    pub fn published(&self, now: i64) -> Vec<Arc<SigningKey>> {
        let keys = self.snapshot();
        keys.iter()
            .enumerate()
            .filter(|(i, key)| {
                let superseded_at = keys[i + 1..]
                    .iter()
                    .filter(|later| {
                        later.activates_at <= now && later.activates_at >= key.activates_at
                    })
                    .map(|later| later.activates_at)
                    .min();
                superseded_at.is_none_or(|at| at + self.retain >= now)
            })
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// Creates a key that is published at once and signs from `activates_at`.
pub async fn create_key(
    store: &Store,
    algorithm: Algorithm,
    now: i64,
    activates_at: i64,
) -> anyhow::Result<StoredKey> {
    let key = StoredKey {
        kid: new_kid(),
        algorithm: algorithm.as_str().to_owned(),
        private_key: generate_private_key(algorithm)?,
        created_at: now,
        activates_at,
    };
    store.insert_key(&key).await?;
    Ok(key)
}
