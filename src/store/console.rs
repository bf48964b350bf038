//! Console sign-ins: a browser's cookie token (stored as a digest), its organization, and its
//! CSRF token.

use sqlx::Row;

use super::Store;
use crate::domain::{OrgId, UserId};

#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Store {
    pub async fn insert_console_session(
        &self,
        token_digest: &str,
        user: UserId,
        org: OrgId,
        csrf_token: &str,
        now: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_digest, user_id, org_id, csrf_token, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(token_digest)
        .bind(user.get())
        .bind(org.get())
        .bind(csrf_token)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The open console session with this token digest.
    pub async fn find_console_session(
        &self,
        token_digest: &str,
    ) -> sqlx::Result<Option<ConsoleSession>> {
        let row = sqlx::query(
            "SELECT user_id, org_id, csrf_token, created_at, last_seen_at FROM console_sessions \
             WHERE token_digest = $1 AND ended_at IS NULL",
        )
        .bind(token_digest)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ConsoleSession {
                user_id: UserId::from_db(r.try_get(0)?),
                org_id: OrgId::from_db(r.try_get(1)?),
                csrf_token: r.try_get(2)?,
                created_at: r.try_get(3)?,
                last_seen_at: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Marks a console session as seen now, or moves it to another organization.
    pub async fn touch_console_session(
        &self,
        token_digest: &str,
        org: OrgId,
        now: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2, org_id = $3 WHERE token_digest = $1",
        )
        .bind(token_digest)
        .bind(now)
        .bind(org.get())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn end_console_session(&self, token_digest: &str, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE console_sessions SET ended_at = $2 WHERE token_digest = $1 AND ended_at IS NULL")
            .bind(token_digest)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
