//! Signing keys. Private keys are stored sealed (encrypted under the master key, which the
//! database never holds) and are opened only in the key ring. The database assigns each key a
//! sequence number on creation: that, not a timestamp, is the order of keys.

use sqlx::Row;

use super::{Backend, Store};
use crate::tokens::stored::{NewKey, StoredKey};

/// What [`Store::seal_keys`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Sealing {
    /// The keys are sealed under the master key of the check value given; this many were
    /// sealed just now.
    Done(usize),
    /// The database's check value is another master key's.
    Mismatch,
}

/// What [`Store::retire_key`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Retirement {
    Unknown,
    /// It was retired before, at this time; nothing changed.
    AlreadyRetired(i64),
    Retired {
        algorithm: String,
        /// When the retired key was the signing key: the key that signs instead.
        successor: Option<Successor>,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Successor {
    /// The newest other key, active already.
    Active(String),
    /// The newest other key, which was to activate later and activates now.
    Activated(String),
    /// A key created now, there being no other.
    Created(String),
}

const COLUMNS: &str =
    "seq, kid, algorithm, private_key, sealed, created_at, activates_at, retired_at";

fn stored_key(r: &sqlx::any::AnyRow) -> sqlx::Result<StoredKey> {
    Ok(StoredKey {
        seq: r.try_get("seq")?,
        kid: r.try_get("kid")?,
        algorithm: r.try_get("algorithm")?,
        private_key: r.try_get("private_key")?,
        sealed: r.try_get::<i64, _>("sealed")? != 0,
        created_at: r.try_get("created_at")?,
        activates_at: r.try_get("activates_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

/// The id of the one row of `key_check`.
const CHECK_ROW: i64 = 1;

impl Store {
    /// Inserts a key; the database gives it the next sequence number, which is returned.
    pub async fn insert_key(&self, key: &NewKey) -> sqlx::Result<i64> {
        insert_key(self.writer(), key).await
    }

    /// Every key, retired ones too, in the order of creation.
    pub async fn list_keys(&self) -> sqlx::Result<Vec<StoredKey>> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys ORDER BY seq");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(stored_key).collect()
    }

    /// The key-check value of the master key the keys are sealed under, if one was set.
    pub async fn key_check(&self) -> sqlx::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT check_value FROM key_check WHERE id = $1")
            .bind(CHECK_ROW)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| r.try_get("check_value")).transpose()
    }

    /// Checks the database's key-check value against `check` (setting it if there is none) and
    /// seals, with `seal(kid, der)`, every key still in clear text, in one transaction. Of
    /// several processes starting at once, one sets the check value and seals; the others wait
    /// for it and find nothing left to do.
    pub async fn seal_keys(
        &self,
        check: &[u8],
        seal: impl Fn(&str, &[u8]) -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<Sealing> {
        // Every start and key command comes here; most find nothing to do, and need no write.
        let clear: i64 = sqlx::query("SELECT COUNT(*) AS clear FROM signing_keys WHERE sealed = 0")
            .fetch_one(self.pool())
            .await?
            .try_get("clear")?;
        match self.key_check().await? {
            Some(stored) if stored != check => return Ok(Sealing::Mismatch),
            Some(_) if clear == 0 => return Ok(Sealing::Done(0)),
            _ => {}
        }
        let mut tx = self.writer().begin().await?;
        // A write first: it takes SQLite's write lock at once, and on PostgreSQL a concurrent
        // insert of the same row waits for this transaction.
        let claimed = sqlx::query(
            "INSERT INTO key_check (id, check_value) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(CHECK_ROW)
        .bind(check)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            let sealed: i64 =
                sqlx::query("SELECT COUNT(*) AS sealed FROM signing_keys WHERE sealed = 1")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("sealed")?;
            anyhow::ensure!(
                sealed == 0,
                "the database holds encrypted signing keys but no key-check value: the key_check table was emptied"
            );
        } else {
            let stored: Vec<u8> = sqlx::query("SELECT check_value FROM key_check WHERE id = $1")
                .bind(CHECK_ROW)
                .fetch_one(&mut *tx)
                .await?
                .try_get("check_value")?;
            if stored != check {
                return Ok(Sealing::Mismatch);
            }
        }
        let rows = sqlx::query("SELECT kid, private_key FROM signing_keys WHERE sealed = 0")
            .fetch_all(&mut *tx)
            .await?;
        let mut count = 0;
        for row in rows {
            let kid: String = row.try_get("kid")?;
            let der = secrecy::zeroize::Zeroizing::new(row.try_get::<Vec<u8>, _>("private_key")?);
            count += sqlx::query(
                "UPDATE signing_keys SET private_key = $1, sealed = 1 WHERE kid = $2 AND sealed = 0",
            )
            .bind(seal(&kid, &der)?)
            .bind(&kid)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
        tx.commit().await?;
        if count > 0 {
            self.erase_free_space().await?;
        }
        Ok(Sealing::Done(count))
    }

    /// Rewrites the database so that the clear-text keys just sealed are nowhere in its files:
    /// on SQLite, pages that held them would otherwise linger in the free list and in the
    /// write-ahead log; on PostgreSQL, as dead row versions until they are reused.
    async fn erase_free_space(&self) -> sqlx::Result<()> {
        let sql = match self.backend() {
            Backend::Sqlite => "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            Backend::Postgres => "VACUUM FULL signing_keys",
        };
        sqlx::raw_sql(sql).execute(self.writer()).await?;
        Ok(())
    }

    /// Re-seals every key with `reseal` and replaces the check value `old` by `new`, in one
    /// transaction: the number of keys, or `None` (and nothing changed) when the database's
    /// check value is not `old`.
    pub async fn reseal_keys(
        &self,
        old: &[u8],
        new: &[u8],
        reseal: impl Fn(&StoredKey) -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<Option<usize>> {
        let mut tx = self.writer().begin().await?;
        let swapped =
            sqlx::query("UPDATE key_check SET check_value = $1 WHERE id = $2 AND check_value = $3")
                .bind(new)
                .bind(CHECK_ROW)
                .bind(old)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !swapped {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM signing_keys ORDER BY seq");
        let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
        for row in &rows {
            let key = stored_key(row)?;
            sqlx::query("UPDATE signing_keys SET private_key = $1, sealed = 1 WHERE seq = $2")
                .bind(reseal(&key)?)
                .bind(key.seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(rows.len()))
    }

    /// Withdraws the key `kid` at `now`. When it was the key that signed, the newest other key of
    /// its algorithm signs instead (activated now if it was to activate later), or, if there is
    /// none, a key made by `new_key` and activating now. One transaction, serialized with every
    /// other retirement and re-sealing.
    pub async fn retire_key(
        &self,
        kid: &str,
        now: i64,
        new_key: impl FnOnce(&str) -> anyhow::Result<NewKey>,
    ) -> anyhow::Result<Retirement> {
        let mut tx = self.writer().begin().await?;
        // A write first, on a row every key command locks: SQLite's write lock, or PostgreSQL's
        // row lock, so that two retirements at once cannot each pick the other's key to sign.
        sqlx::query("UPDATE key_check SET check_value = check_value WHERE id = $1")
            .bind(CHECK_ROW)
            .execute(&mut *tx)
            .await?;
        let retired = sqlx::query(
            "UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL \
             RETURNING seq, algorithm, activates_at",
        )
        .bind(now)
        .bind(kid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(retired) = retired else {
            let before: Option<Option<i64>> =
                sqlx::query("SELECT retired_at FROM signing_keys WHERE kid = $1")
                    .bind(kid)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.try_get("retired_at"))
                    .transpose()?;
            return Ok(match before {
                Some(Some(at)) => Retirement::AlreadyRetired(at),
                _ => Retirement::Unknown,
            });
        };
        let (seq, algorithm, activates_at): (i64, String, i64) = (
            retired.try_get("seq")?,
            retired.try_get("algorithm")?,
            retired.try_get("activates_at")?,
        );
        let others: Vec<(i64, String, i64)> = sqlx::query(
            "SELECT seq, kid, activates_at FROM signing_keys \
             WHERE algorithm = $1 AND retired_at IS NULL ORDER BY seq",
        )
        .bind(&algorithm)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("seq")?,
                r.try_get("kid")?,
                r.try_get("activates_at")?,
            ))
        })
        .collect::<sqlx::Result<_>>()?;
        let was_signing = activates_at <= now
            && !others
                .iter()
                .any(|(later, _, activates)| *later > seq && *activates <= now);
        let successor = match (was_signing, others.last()) {
            (false, _) => None,
            (true, Some((_, kid, activates))) if *activates <= now => {
                Some(Successor::Active(kid.clone()))
            }
            (true, Some((newest, kid, _))) => {
                sqlx::query("UPDATE signing_keys SET activates_at = $1 WHERE seq = $2")
                    .bind(now)
                    .bind(newest)
                    .execute(&mut *tx)
                    .await?;
                Some(Successor::Activated(kid.clone()))
            }
            (true, None) => {
                let key = new_key(&algorithm)?;
                insert_key(&mut *tx, &key).await?;
                Some(Successor::Created(key.kid))
            }
        };
        tx.commit().await?;
        Ok(Retirement::Retired {
            algorithm,
            successor,
        })
    }
}

async fn insert_key<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    key: &NewKey,
) -> sqlx::Result<i64> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, sealed, created_at, activates_at) \
         VALUES ($1, $2, $3, 1, $4, $5) RETURNING seq",
    )
    .bind(&key.kid)
    .bind(&key.algorithm)
    .bind(&key.sealed_key)
    .bind(key.created_at)
    .bind(key.activates_at)
    .fetch_all(executor)
    .await
    .and_then(super::one_row)?
    .try_get("seq")
}
