//! The key ring: every signing key of the configured algorithm, loaded from the database at
//! start and reloaded every few seconds, so every instance signs and verifies alike. Keys are
//! ordered by creation (the sequence the database assigns): of the keys whose activation time
//! has passed, the latest signs. A retired key leaves the ring. The ring does no I/O: whoever
//! owns it reads the stored keys and hands them to [`KeyRing::load`].

use std::sync::{Arc, RwLock};

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use super::Algorithm;
use super::keys::SigningKey;
use super::master::MasterKey;
use super::stored::StoredKey;

pub struct KeyRing {
    algorithm: Algorithm,
    /// How long a superseded key stays published: the longest token lifetime plus a margin for
    /// instances that have not yet reloaded.
    retain: i64,
    /// Opens the sealed private keys.
    master: MasterKey,
    /// In the order of creation.
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
        master: MasterKey,
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
            master,
            keys: RwLock::new(Arc::new(keys)),
        }
    }

    fn snapshot(&self) -> Arc<Vec<Arc<SigningKey>>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether the ring's keys are the database's: for every algorithm but HS256, whose one key
    /// is the configured secret and is never stored.
    pub fn is_stored(&self) -> bool {
        self.algorithm != Algorithm::HS256
    }

    /// Replaces the ring's keys by those of `stored` (every stored key, in the order of
    /// creation) of its algorithm that are not retired, opening only keys it has not seen
    /// before. A key that cannot be opened is left out and reported once the rest is loaded, so
    /// that one damaged row does not keep this instance from seeing a retirement. An HS256 ring
    /// keeps its one key.
    pub fn load(&self, stored: &[StoredKey]) -> anyhow::Result<()> {
        if !self.is_stored() {
            return Ok(());
        }
        let current = self.snapshot();
        let mut keys = Vec::with_capacity(stored.len());
        let mut failure = None;
        for row in stored
            .iter()
            .filter(|k| k.algorithm == self.algorithm.as_str() && k.retired_at.is_none())
        {
            let known = current
                .iter()
                .find(|k| k.kid == row.kid && k.activates_at == row.activates_at);
            match known {
                Some(known) => keys.push(known.clone()),
                None => match self.open(row) {
                    Ok(key) => keys.push(Arc::new(key)),
                    Err(e) => failure = failure.or(Some(e)),
                },
            }
        }
        for gone in current
            .iter()
            .filter(|k| !keys.iter().any(|n| n.kid == k.kid))
        {
            gone.withdraw();
        }
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        failure.map_or(Ok(()), Err)
    }

    fn open(&self, row: &StoredKey) -> anyhow::Result<SigningKey> {
        let der = if row.sealed {
            self.master.unseal(&row.kid, &row.private_key)?
        } else {
            // Written by an older version since this one started; the next start seals it.
            Zeroizing::new(row.private_key.clone())
        };
        Ok(SigningKey::from_pkcs8(
            &row.kid,
            self.algorithm,
            &der,
            row.seq,
            row.activates_at,
        )?)
    }

    /// The algorithm of every key in the ring.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The master key the ring opens its keys with.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The latest key whose activation time has passed.
    pub fn signing_key(&self, now: i64) -> Option<Arc<SigningKey>> {
        self.snapshot()
            .iter()
            .rev()
            .find(|k| k.activates_at <= now)
            .cloned()
    }

    /// The published key with this kid.
    pub fn verifying_key(&self, kid: &str, now: i64) -> Option<Arc<SigningKey>> {
        let keys = self.snapshot();
        let i = keys.iter().position(|k| k.kid == kid)?;
        self.is_published(&keys, i, now).then(|| keys[i].clone())
    }

    /// Keys that verify: every key that signs now or will, and every superseded key until the
    /// last token it can have signed has expired.
    pub fn published(&self, now: i64) -> Vec<Arc<SigningKey>> {
        let keys = self.snapshot();
        (0..keys.len())
            .filter(|&i| self.is_published(&keys, i, now))
            .map(|i| keys[i].clone())
            .collect()
    }

    /// A key stops signing when a later key activates (or, for a later key that activated
    /// first, at its own activation: it never signs); it stays published for `retain` after.
    fn is_published(&self, keys: &[Arc<SigningKey>], i: usize, now: i64) -> bool {
        let key = &keys[i];
        let superseded_at = keys[i + 1..]
            .iter()
            .filter(|later| later.activates_at <= now)
            .map(|later| later.activates_at.max(key.activates_at))
            .min();
        superseded_at.is_none_or(|at| at + self.retain >= now)
    }
}
