//! Console sign-ins: a browser's cookie token (stored as a digest), its organization, and its
//! CSRF token.

use sqlx::Row;

use super::{Backend, Store};
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
    /// Opens a console session, unless, since `credential` (the password hash just checked) was
    /// read, the user changed password, was disabled, or stopped being an owner or admin of
    /// `org`: a sign-in racing such a change never leaves a console session behind. The guard is
    /// the one of the API's session insert (see `WriterConnection::insert_sessions`), in the
    /// same statement; `false` when nothing was inserted.
    pub async fn insert_console_session(
        &self,
        token_digest: &str,
        user: UserId,
        org: OrgId,
        csrf_token: &str,
        credential: &str,
        now: i64,
    ) -> sqlx::Result<bool> {
        // On PostgreSQL a statement reads what was committed when it began: `FOR SHARE` makes it
        // wait for a change of the user's row or membership in progress and check them as the
        // change left them, and a change that comes after waits for this insert, so its end of
        // console sessions sees the new one.
        let lock = match self.backend() {
            Backend::Postgres => " FOR SHARE",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "INSERT INTO console_sessions (token_digest, user_id, org_id, csrf_token, created_at, last_seen_at) \
             SELECT $1, $2, $3, $4, $5, $5 WHERE EXISTS (\
               SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.id = $2 \
               AND m.org_id = $3 AND m.role IN ('owner', 'admin') AND u.active = 1 \
               AND u.password_hash = $6{lock})"
        );
        let inserted = sqlx::query(&sql)
            .bind(token_digest)
            .bind(user.get())
            .bind(org.get())
            .bind(csrf_token)
            .bind(now)
            .bind(credential)
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(inserted == 1)
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
                user_id: UserId::from_db(r.try_get("user_id")?),
                org_id: OrgId::from_db(r.try_get("org_id")?),
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
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
