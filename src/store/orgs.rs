//! Organizations.

use sqlx::Row;

use super::{Store, WriteError};
use crate::domain::{OrgId, Organization, Role, UserId, Username};

impl Store {
    pub async fn create_org(&self, name: &str, now: i64) -> Result<Organization, WriteError> {
        let row = sqlx::query(
            "INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(name)
        .bind(now)
        .fetch_all(self.writer())
        .await
        .and_then(super::one_row)
        .map_err(WriteError::from_sqlx)?;
        Ok(Organization {
            id: row.try_get("id")?,
            name: name.to_owned(),
        })
    }

    pub async fn list_orgs(&self) -> sqlx::Result<Vec<Organization>> {
        let rows = sqlx::query("SELECT id, name FROM organizations ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organization {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    pub async fn find_org(&self, org: OrgId) -> sqlx::Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
            .bind(org.get())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(Organization {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    pub async fn rename_org(&self, org: OrgId, name: &str) -> Result<(), WriteError> {
        sqlx::query("UPDATE organizations SET name = $2 WHERE id = $1")
            .bind(org.get())
            .bind(name)
            .execute(self.writer())
            .await
            .map_err(WriteError::from_sqlx)?;
        Ok(())
    }

    /// The organizations a user belongs to, with the role in each.
    pub async fn memberships_of(
        &self,
        user: crate::domain::UserId,
    ) -> sqlx::Result<Vec<(Organization, Role)>> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
             WHERE m.user_id = $1 ORDER BY o.id",
        )
        .bind(user.get())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok((
                    Organization {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                    },
                    role.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                ))
            })
            .collect()
    }

    pub async fn org_exists(&self, org: OrgId) -> sqlx::Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS found FROM organizations WHERE id = $1")
            .bind(org.get())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("found")? > 0)
    }

    /// Performs the first start when the database has no organization: creates the organization
    /// and its owner in one transaction guarded by a one-row claim, so that of several instances
    /// starting together on an empty database exactly one does it. `None` when there was nothing
    /// to do.
    pub async fn bootstrap(
        &self,
        org_name: &str,
        owner: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<(OrgId, UserId)>, WriteError> {
        let mut tx = self.writer().begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO bootstrap (id, created_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let orgs: i64 = sqlx::query("SELECT COUNT(*) AS orgs FROM organizations")
            .fetch_one(&mut *tx)
            .await?
            .try_get("orgs")?;
        if !claimed || orgs > 0 {
            return Ok(None);
        }
        let org: i64 = sqlx::query(
            "INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(org_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let user: i64 = sqlx::query(
            "INSERT INTO users (username, password_hash, active, created_at) VALUES ($1, $2, 1, $3) RETURNING id",
        )
        .bind(owner.as_str())
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(WriteError::from_sqlx)?
        .try_get("id")?;
        sqlx::query(
            "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user)
        .bind(org)
        .bind(Role::Owner.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((OrgId::from_db(org), UserId::from_db(user))))
    }
}
