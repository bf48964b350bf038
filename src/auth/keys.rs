//! Signing keys between the database and the key ring. The ring holds no connection: these
//! use-cases read the stored keys and hand them to it, and store the keys it makes. Also the
//! master key a server or key command runs with, checked against the database.

use secrecy::zeroize::Zeroizing;

use crate::config::{Algorithm, MasterKeySource};
use crate::store::{DatabaseFile, Retirement, Sealing, Store, sqlite_file};
use crate::tokens::KeyRing;
use crate::tokens::master::{DefaultKey, MasterKey, MasterKeyError};
use crate::tokens::stored::NewKey;

/// Reloads `ring` from the database; a server does it every few seconds, so that a key another
/// instance or a key command created or retired is seen within that time. An HS256 ring reads
/// nothing.
pub async fn reload_keys(ring: &KeyRing, store: &Store) -> anyhow::Result<()> {
    if !ring.is_stored() {
        return Ok(());
    }
    ring.load(&store.list_keys().await?)
}

/// Loads the ring and makes sure a key of its algorithm signs now: on a fresh database (or after
/// a change of algorithm) one is created that activates at once, since nothing can have cached a
/// JWKS without it.
pub async fn ensure_signing_key(ring: &KeyRing, store: &Store, now: i64) -> anyhow::Result<()> {
    reload_keys(ring, store).await?;
    if ring.signing_key(now).is_none() {
        create_key(ring, store, now, now).await?;
    }
    Ok(())
}

/// Creates a key of the ring's algorithm that is published at once and signs from
/// `activates_at`, and reloads the ring.
pub async fn create_key(
    ring: &KeyRing,
    store: &Store,
    now: i64,
    activates_at: i64,
) -> anyhow::Result<NewKey> {
    let key = ring.new_key(now, activates_at)?;
    store.insert_key(&key).await?;
    reload_keys(ring, store).await?;
    Ok(key)
}

/// Retires the key `kid` (see [`retire_stored_key`]) and reloads the ring: from now on this
/// instance refuses its tokens.
pub async fn retire_key(
    ring: &KeyRing,
    store: &Store,
    kid: &str,
    now: i64,
) -> anyhow::Result<Retirement> {
    let retirement = retire_stored_key(store, ring.master(), kid, now).await?;
    reload_keys(ring, store).await?;
    Ok(retirement)
}

/// Creates a key that is published at once and signs from `activates_at`, its private key
/// sealed under `master`; servers have it at their next reload.
pub async fn create_stored_key(
    store: &Store,
    master: &MasterKey,
    algorithm: Algorithm,
    now: i64,
    activates_at: i64,
) -> anyhow::Result<NewKey> {
    let key = NewKey::generate(master, algorithm, now, activates_at)?;
    store.insert_key(&key).await?;
    Ok(key)
}

/// Withdraws a key at once: it leaves every ring at the next reload (so the JWKS, and every
/// check of a token it signed). If it was the signing key, the newest other key of its
/// algorithm signs from now, or, when there is none, a new key made now, sealed under `master`.
pub async fn retire_stored_key(
    store: &Store,
    master: &MasterKey,
    kid: &str,
    now: i64,
) -> anyhow::Result<Retirement> {
    store
        .retire_key(kid, now, |algorithm| {
            NewKey::generate_named(master, algorithm, now, now)
        })
        .await
}

/// The master key a server or key command runs with: loaded from where the settings say (on
/// SQLite, by default, `<database file>.key`, created at the first start), checked against the
/// database's key-check value (set now if there is none), and with every key an older version
/// left in clear text sealed under it. Errors the operator must fix are [`MasterKeyError`]s.
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

/// Re-seals every signing key under `new` and makes `new` the database's master key, in one
/// transaction: servers started afterwards need `new`, and refuse `current`. The number of keys.
pub async fn rewrap(store: &Store, current: &MasterKey, new: &MasterKey) -> anyhow::Result<usize> {
    let count = store
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
