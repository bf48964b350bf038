//! Integrations: machine clients of one organization.

use sqlx::Row;

use super::{Store, WriteError};
use crate::domain::{ConsumerKey, Integration, OrgId, Scopes};

const COLUMNS: &str =
    "id, org_id, consumer_key, secret_digest, name, scopes, created_at, last_used_at, revoked_at";

fn from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Integration> {
    Ok(Integration {
        id: r.try_get("id")?,
        org_id: OrgId::from_db(r.try_get("org_id")?),
        consumer_key: r.try_get("consumer_key")?,
        secret_digest: r.try_get("secret_digest")?,
        name: r.try_get("name")?,
        scopes: Scopes::from_db(&r.try_get::<String, _>("scopes")?),
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Store {
    pub async fn create_integration(
        &self,
        org: OrgId,
        key: &ConsumerKey,
        secret_digest: &str,
        name: &str,
        scopes: &Scopes,
        now: i64,
    ) -> Result<Integration, WriteError> {
        let row = sqlx::query(&format!(
            "INSERT INTO integrations (org_id, consumer_key, secret_digest, name, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(org.get())
        .bind(key.as_str())
        .bind(secret_digest)
        .bind(name)
        .bind(scopes.joined())
        .bind(now)
        .fetch_all(self.writer())
        .await
        .and_then(super::one_row)
        .map_err(WriteError::from_sqlx)?;
        Ok(from_row(&row)?)
    }

    pub async fn find_integration(&self, key: &ConsumerKey) -> sqlx::Result<Option<Integration>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE consumer_key = $1"
        ))
        .bind(key.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn list_integrations(&self, org: OrgId) -> sqlx::Result<Vec<Integration>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE org_id = $1 ORDER BY id"
        ))
        .bind(org.get())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn touch_integration(&self, id: i64, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE integrations SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
