//! Accounts brought in from another system (`porteiro user import`): inserted in batches, each
//! batch one transaction, never over an account that exists.

use sqlx::Row;

use super::Store;
use crate::domain::{OrgId, Role, Username};

/// An account to create as it was elsewhere: its password hash is kept as it is.
#[derive(Debug, Clone)]
pub struct ImportedAccount {
    pub username: Username,
    pub password_hash: String,
    pub active: bool,
    /// Its memberships; the first is the one it is created with.
    pub memberships: Vec<(OrgId, Role)>,
}

impl Store {
    /// Creates every account of `batch` whose username is free, with its memberships, in one
    /// transaction; rolled back instead of committed when `commit` is false (a dry run, which
    /// then learns all the same which accounts exist). Returns, for each account, whether it
    /// was created.
    pub async fn insert_imported_accounts(
        &self,
        batch: &[ImportedAccount],
        now: i64,
        commit: bool,
    ) -> sqlx::Result<Vec<bool>> {
        let mut tx = self.writer().begin().await?;
        let mut created = Vec::with_capacity(batch.len());
        for account in batch {
            let row = sqlx::query(
                "INSERT INTO users (username, password_hash, active, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING id",
            )
            .bind(account.username.as_str())
            .bind(&account.password_hash)
            .bind(i64::from(account.active))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                created.push(false);
                continue;
            };
            let id: i64 = row.try_get("id")?;
            for (org, role) in &account.memberships {
                sqlx::query(
                    "INSERT INTO memberships (user_id, org_id, role, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, org_id) DO NOTHING",
                )
                .bind(id)
                .bind(org.get())
                .bind(role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            created.push(true);
        }
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(created)
    }
}
