//! Signing keys between the database and the key ring, through [`Keys`]. The ring holds no
//! connection: these use-cases read the stored keys and hand them to it, and store the keys they
//! make. Also the master key a server or key command runs with, checked against the database.

use secrecy::zeroize::Zeroizing;

use crate::store::{DatabaseFile, Retirement, Sealing, Store, sqlite_file};
use crate::tokens::master::{DefaultKey, MasterKey, MasterKeyError, MasterKeySource};
use crate::tokens::stored::NewKey;
use crate::tokens::{Algorithm, KeyRing};

/// The signing keys of one database, sealed under one master key: what a server does with its
/// ring (load it, make sure a key signs) and what `porteiro keys` does without one (create,
/// retire, re-seal). A ring handed to a method must open its keys with the same master key.
pub struct Keys<'a> {
    store: &'a Store,
    master: &'a MasterKey,
}

impl<'a> Keys<'a> {
    pub fn new(store: &'a Store, master: &'a MasterKey) -> Self {
        Self { store, master }
    }

    /// The keys a server's ring opens: sealed under the ring's master key.
    pub fn of_ring(store: &'a Store, ring: &'a KeyRing) -> Self {
        Self::new(store, ring.master())
    }

    /// The master key a server or key command runs with: loaded from where the settings say (on
    /// SQLite, by default, `<database file>.key`, created at the first start), checked against
    /// the database's key-check value (set now if there is none), and with every key an older
    /// version left in clear text sealed under it. Errors the operator must fix are
    /// [`MasterKeyError`]s.
    pub async fn unlock(
        store: &Store,
        source: &MasterKeySource,
        database_url: &str,
    ) -> anyhow::Result<MasterKey> {
        let sealed = store.key_check().await?.is_some();
        let default = match sqlite_file(database_url) {
            None => DefaultKey::None,
            Some(DatabaseFile::Memory) => DefaultKey::Ephemeral,
            Some(DatabaseFile::Path(path)) => DefaultKey::BesideDatabase(path),
        };
        let master = MasterKey::load(source, default, sealed)?;
        let sealing = store
            .seal_keys(&master.check_value(), |kid, der| master.seal(kid, der))
            .await?;
        match sealing {
            Sealing::Mismatch => Err(MasterKeyError::Mismatch.into()),
            Sealing::Done(0) => Ok(master),
            Sealing::Done(n) => {
                tracing::info!(keys = n, "encrypted the signing keys stored in clear text");
                Ok(master)
            }
        }
    }

    /// Reloads `ring` from the database; a server does it every few seconds, so that a key
    /// another instance or a key command created or retired is seen within that time. An HS256
    /// ring reads nothing.
    pub async fn reload(&self, ring: &KeyRing) -> anyhow::Result<()> {
        if !ring.is_stored() {
            return Ok(());
        }
        ring.load(&self.store.list_keys().await?)
    }

    /// Loads the ring and makes sure a key of its algorithm signs now: on a fresh database (or
    /// after a change of algorithm) one is created that activates at once, since nothing can
    /// have cached a JWKS without it.
    pub async fn ensure_signing_key(&self, ring: &KeyRing, now: i64) -> anyhow::Result<()> {
        self.reload(ring).await?;
        if ring.signing_key(now).is_none() {
            self.create_and_reload(ring, now, now).await?;
        }
        Ok(())
    }

    /// Creates a key of `algorithm` that is published at once and signs from `activates_at`;
    /// servers have it at their next reload.
    pub async fn create(
        &self,
        algorithm: Algorithm,
        now: i64,
        activates_at: i64,
    ) -> anyhow::Result<NewKey> {
        let key = NewKey::generate(self.master, algorithm, now, activates_at)?;
        self.store.insert_key(&key).await?;
        Ok(key)
    }

    /// Creates a key of the ring's algorithm (see [`Keys::create`]) and reloads the ring: this
    /// instance has it at once.
    pub async fn create_and_reload(
        &self,
        ring: &KeyRing,
        now: i64,
        activates_at: i64,
    ) -> anyhow::Result<NewKey> {
        let key = self.create(ring.algorithm(), now, activates_at).await?;
        self.reload(ring).await?;
        Ok(key)
    }

    /// Withdraws a key at once: it leaves every ring at the next reload (so the JWKS, and every
    /// check of a token it signed). If it was the signing key, the newest other key of its
    /// algorithm signs from now, or, when there is none, a new key made now.
    pub async fn retire(&self, kid: &str, now: i64) -> anyhow::Result<Retirement> {
        self.store
            .retire_key(kid, now, |algorithm| {
                NewKey::generate_named(self.master, algorithm, now, now)
            })
            .await
    }

    /// Retires the key `kid` (see [`Keys::retire`]) and reloads the ring: from now on this
    /// instance refuses its tokens.
    pub async fn retire_and_reload(
        &self,
        ring: &KeyRing,
        kid: &str,
        now: i64,
    ) -> anyhow::Result<Retirement> {
        let retirement = self.retire(kid, now).await?;
        self.reload(ring).await?;
        Ok(retirement)
    }

    /// Re-seals every signing key under `new` and makes `new` the database's master key, in one
    /// transaction: servers started afterwards need `new`, and refuse this one. The number of
    /// keys.
    pub async fn rewrap(&self, new: &MasterKey) -> anyhow::Result<usize> {
        let current = self.master;
        let count = self
            .store
            .reseal_keys(&current.check_value(), &new.check_value(), |key| {
                let der = if key.sealed {
                    current.unseal(&key.kid, &key.private_key)?
                } else {
                    Zeroizing::new(key.private_key.clone())
                };
                new.seal(&key.kid, &der)
            })
            .await?;
        count.ok_or_else(|| MasterKeyError::Mismatch.into())
    }
}
