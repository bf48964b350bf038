//! Users and their memberships in organizations.

use sqlx::Row;

use super::{Store, WriteError};
use crate::domain::{Member, OrgId, Role, UserId, Username};

/// What a login needs to know about a username in one organization.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user_id: UserId,
    pub password_hash: String,
    pub active: bool,
    /// `None` when the user is not a member of the organization.
    pub role: Option<Role>,
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub active: bool,
}

fn role_of(s: &str) -> sqlx::Result<Role> {
    s.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Store {
    /// Creates a user and its first membership in one transaction.
    pub async fn create_user(
        &self,
        username: &Username,
        password_hash: &str,
        org: OrgId,
        role: Role,
        now: i64,
    ) -> Result<UserId, WriteError> {
        let mut tx = self.writer().begin().await?;
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, active, created_at) VALUES ($1, $2, 1, $3) RETURNING id",
        )
        .bind(username.as_str())
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(WriteError::from_sqlx)?;
        let id: i64 = row.try_get("id")?;
        sqlx::query(
            "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(org.get())
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(UserId::from_db(id))
    }

    pub async fn find_user(&self, username: &Username) -> sqlx::Result<Option<UserRecord>> {
        let row = sqlx::query("SELECT id, username, active FROM users WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(UserRecord {
                id: UserId::from_db(r.try_get("id")?),
                username: r.try_get("username")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .transpose()
    }

    /// The credentials of `username`, and their role in `org` when one is given (no organization
    /// has id 0, so without one the role is `None`).
    pub async fn find_login(
        &self,
        username: &Username,
        org: Option<OrgId>,
    ) -> sqlx::Result<Option<LoginRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.password_hash, u.active, m.role FROM users u \
             LEFT JOIN memberships m ON m.user_id = u.id AND m.org_id = $2 WHERE u.username = $1",
        )
        .bind(username.as_str())
        .bind(org.map_or(0, OrgId::get))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(LoginRecord {
                user_id: UserId::from_db(r.try_get("id")?),
                password_hash: r.try_get("password_hash")?,
                active: r.try_get::<i64, _>("active")? != 0,
                role: r
                    .try_get::<Option<String>, _>("role")?
                    .as_deref()
                    .map(role_of)
                    .transpose()?,
            })
        })
        .transpose()
    }

    /// The member as the token's organization sees it, if still an active member.
    pub async fn active_member(&self, user: UserId, org: OrgId) -> sqlx::Result<Option<Member>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, m.org_id, m.role, u.active FROM users u \
             JOIN memberships m ON m.user_id = u.id WHERE u.id = $1 AND m.org_id = $2 AND u.active = 1",
        )
        .bind(user.get())
        .bind(org.get())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Every member of an organization: the operator's full listing (`porteiro user list`).
    /// Request paths read [`Store::members_page`] instead.
    pub async fn list_members(&self, org: OrgId) -> sqlx::Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, m.org_id, m.role, u.active FROM users u \
             JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 ORDER BY u.id",
        )
        .bind(org.get())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// At most `limit` members of an organization with a user id above `after`, by user id:
    /// read in that order from the index on (organization, user), so a page costs the same
    /// whatever the organization's size.
    pub async fn members_page(
        &self,
        org: OrgId,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.id, u.username, m.org_id, m.role, u.active FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND m.user_id > $2 \
             ORDER BY m.user_id LIMIT $3",
        )
        .bind(org.get())
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// The member `user` of an organization, active or not (one row, by key).
    pub async fn member(&self, org: OrgId, user: UserId) -> sqlx::Result<Option<Member>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, m.org_id, m.role, u.active FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.user_id = $1 AND m.org_id = $2",
        )
        .bind(user.get())
        .bind(org.get())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// The member of an organization named `username`, active or not (one row, by key).
    pub async fn member_named(
        &self,
        org: OrgId,
        username: &Username,
    ) -> sqlx::Result<Option<Member>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, m.org_id, m.role, u.active FROM users u \
             JOIN memberships m ON m.user_id = u.id WHERE u.username = $1 AND m.org_id = $2",
        )
        .bind(username.as_str())
        .bind(org.get())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Adds a membership or changes its role.
    pub async fn grant(&self, user: UserId, org: OrgId, role: Role, now: i64) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user.get())
        .bind(org.get())
        .bind(role.as_str())
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn set_user_active(&self, user: UserId, active: bool) -> sqlx::Result<()> {
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(user.get())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Replaces a hash with a stronger one of the same password, unless it changed meanwhile.
    pub async fn upgrade_password_hash(
        &self,
        user: UserId,
        old: &str,
        new: &str,
    ) -> sqlx::Result<bool> {
        let done =
            sqlx::query("UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
                .bind(user.get())
                .bind(old)
                .bind(new)
                .execute(self.writer())
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn member_from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<Member> {
    Ok(Member {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        org_id: r.try_get("org_id")?,
        role: r.try_get("role")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}
