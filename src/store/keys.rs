//! Signing keys. Private keys are stored as PKCS#8 DER and leave this module only towards the
//! in-memory key ring.

use sqlx::Row;

use super::Store;

#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub algorithm: String,
    pub private_key: Vec<u8>,
    pub created_at: i64,
    pub activates_at: i64,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

impl Store {
    pub async fn insert_key(&self, key: &StoredKey) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, activates_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(key.created_at)
        .bind(key.activates_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Every key, oldest activation first.
    pub async fn list_keys(&self) -> sqlx::Result<Vec<StoredKey>> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key, created_at, activates_at FROM signing_keys \
             ORDER BY activates_at, created_at, kid",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: r.try_get(0)?,
                    algorithm: r.try_get(1)?,
                    private_key: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    activates_at: r.try_get(4)?,
                })
            })
            .collect()
    }
}
