//! Signing keys as the database holds them: private keys sealed under the master key, in the
//! order the database created them. The store reads and writes these; the key ring opens them.

use secrecy::zeroize::Zeroizing;

use super::Algorithm;
use super::keys::{generate_private_key, new_kid};
use super::master::MasterKey;

/// A signing key as the database holds it.
#[derive(Clone)]
pub struct StoredKey {
    /// The order of creation: a later key has a larger number.
    pub seq: i64,
    pub kid: String,
    pub algorithm: String,
    /// `nonce || ciphertext` under the master key when `sealed`; the PKCS#8 DER itself in a row
    /// an older version wrote, until the first start of this one seals it.
    pub private_key: Vec<u8>,
    pub sealed: bool,
    pub created_at: i64,
    pub activates_at: i64,
    /// When `keys retire` withdrew it.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("seq", &self.seq)
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"[redacted]")
            .field("sealed", &self.sealed)
            .finish()
    }
}

/// A key to insert: its private key already sealed.
pub struct NewKey {
    pub kid: String,
    pub algorithm: String,
    pub sealed_key: Vec<u8>,
    pub created_at: i64,
    pub activates_at: i64,
}

impl NewKey {
    /// A fresh key of `algorithm`, sealed under `master`, published from `now` and signing from
    /// `activates_at`.
    pub fn generate(
        master: &MasterKey,
        algorithm: Algorithm,
        now: i64,
        activates_at: i64,
    ) -> anyhow::Result<Self> {
        let kid = new_kid();
        let der = Zeroizing::new(generate_private_key(algorithm)?);
        Ok(Self {
            sealed_key: master.seal(&kid, &der)?,
            kid,
            algorithm: algorithm.as_str().to_owned(),
            created_at: now,
            activates_at,
        })
    }

    /// Like [`NewKey::generate`], for the algorithm a stored key names.
    pub fn generate_named(
        master: &MasterKey,
        algorithm: &str,
        now: i64,
        activates_at: i64,
    ) -> anyhow::Result<Self> {
        let algorithm: Algorithm = algorithm
            .parse()
            .map_err(|_| anyhow::anyhow!("a stored key has the unknown algorithm {algorithm}"))?;
        Self::generate(master, algorithm, now, activates_at)
    }
}
