//! Sessions: one row per login, holding the refresh-token family's rotation state. Ending
//! anything is ending sessions, one `UPDATE`.

use std::collections::HashSet;

use sqlx::Row;

use super::{Backend, DeadlockRetry, Store, values_placeholders};
use crate::domain::{OrgId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    User,
    Integration,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::User => "user",
            SessionKind::Integration => "integration",
        }
    }
}

/// Why a session ended; kept on the row for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    RefreshReuse,
    UserDisabled,
    PasswordChanged,
    LeftOrganization,
    IntegrationRevoked,
    SecretRotated,
    ClientRevoked,
    EndedByAdmin,
}

impl EndReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::RefreshReuse => "refresh_reuse",
            EndReason::UserDisabled => "user_disabled",
            EndReason::PasswordChanged => "password_changed",
            EndReason::LeftOrganization => "left_organization",
            EndReason::IntegrationRevoked => "integration_revoked",
            EndReason::SecretRotated => "secret_rotated",
            EndReason::ClientRevoked => "client_revoked",
            EndReason::EndedByAdmin => "ended_by_admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub sid: String,
    pub kind: SessionKind,
    pub user_id: Option<UserId>,
    pub integration_id: Option<i64>,
    pub org_id: OrgId,
    pub client_addr: String,
    pub now: i64,
    pub refresh_jti_digest: String,
    pub refresh_exp: i64,
    /// The credential just checked: the user's password hash or the integration's secret digest.
    /// The session is only created while it is still current and the subject still entitled.
    pub credential: String,
}

/// The values of one [`NewSession`] in an insert, in the order of `VALUES`.
const NEW_SESSION_VALUES: usize = 10;

/// One refresh-token rotation: consume the token whose jti digest is `presented` and make
/// `next` the session's current one.
#[derive(Debug)]
pub struct Rotation {
    pub sid: String,
    pub presented: String,
    pub next: String,
    pub next_exp: i64,
    pub now: i64,
    /// The same instant in milliseconds: the grace window of a retry is measured from it.
    pub now_ms: i64,
}

/// The values of one [`Rotation`] in an update, in the order of `VALUES`.
const ROTATION_VALUES: usize = 6;

/// One batch of the session writer: a statement of many rows.
#[derive(Clone, Copy)]
enum Batch<'a> {
    Insert(&'a [NewSession]),
    Rotate(&'a [Rotation]),
}

/// The writer connection, held across several statements (see [`Store::session_writer`]).
pub struct WriterConnection {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    backend: Backend,
}

impl WriterConnection {
    /// Creates sessions, each unless, since its credential was checked, the user was disabled,
    /// left the organization or changed password, or the integration was revoked or rotated — so
    /// a login racing such a change never leaves a live session behind. One statement for the
    /// whole batch; returns which of `batch` were created, in its order.
    pub async fn insert_sessions(&mut self, batch: &[NewSession]) -> sqlx::Result<Vec<bool>> {
        self.perform(Batch::Insert(batch)).await
    }

    /// Performs rotations, each only if its session is open, its subject still entitled and the
    /// presented token still the current one; returns which of `rotations` happened, in its
    /// order. One statement for the whole batch, so of several requests presenting one token —
    /// in this batch or racing from another — exactly one rotates it: within the batch, only
    /// the first rotation of a session is attempted.
    pub async fn rotate_refresh(&mut self, rotations: &[Rotation]) -> sqlx::Result<Vec<bool>> {
        self.perform(Batch::Rotate(rotations)).await
    }

    /// Performs one batch, again when PostgreSQL ended its statement to break a deadlock. A
    /// rotation batch locks several sessions, and a change that ends sessions by subject (a
    /// disabled user, a rotated secret) or another instance's batch may lock some of the same
    /// ones in another order; PostgreSQL then ends one of the two after a second. A batch is one
    /// statement, undone as a whole when it is ended, so it can be performed again: its requests
    /// should not fail for it.
    async fn perform(&mut self, batch: Batch<'_>) -> sqlx::Result<Vec<bool>> {
        let mut retry = DeadlockRetry::new("a session batch");
        loop {
            let outcome = match batch {
                Batch::Insert(sessions) => self.insert_once(sessions).await,
                Batch::Rotate(rotations) => self.rotate_once(rotations).await,
            };
            match outcome {
                Err(e) if retry.again(&e) => retry.pause().await,
                outcome => return outcome,
            }
        }
    }

    async fn insert_once(&mut self, batch: &[NewSession]) -> sqlx::Result<Vec<bool>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        // `VALUES` names its columns column1, column2, … in SQLite and in PostgreSQL alike:
        // sid, kind, user_id, integration_id, org_id, client_addr, now, jti digest, exp, credential.
        //
        // On SQLite this statement and every change of access go through the one writer
        // connection, so they cannot interleave. On PostgreSQL a statement reads what was committed
        // when it began: a change committed after that but before this insert would end the
        // subject's sessions without seeing this one. `FOR SHARE` makes the statement wait for a
        // change in progress and then check the subject's row as the change left it; and a change
        // that comes after waits for this insert, so its end of sessions sees the new one.
        let lock = match self.backend {
            Backend::Postgres => " FOR SHARE",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "INSERT INTO sessions (sid, kind, user_id, integration_id, org_id, client_addr, created_at, \
             last_used_at, current_jti_digest, current_exp) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, \
             v.column7, v.column8, v.column9 FROM (VALUES {}) AS v \
             WHERE CASE WHEN v.column2 = 'user' THEN EXISTS (\
               SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.id = v.column3 \
               AND m.org_id = v.column5 AND u.active = 1 AND u.password_hash = v.column10{lock}) \
             ELSE EXISTS (SELECT 1 FROM integrations i WHERE i.id = v.column4 \
               AND i.org_id = v.column5 AND i.revoked_at IS NULL AND i.secret_digest = v.column10{lock}) END",
            values_placeholders(self.backend, batch.len(), NEW_SESSION_VALUES)
        );
        let mut query = sqlx::query(&sql);
        for s in batch {
            query = query
                .bind(s.sid.as_str())
                .bind(s.kind.as_str())
                .bind(s.user_id.map(UserId::get))
                .bind(s.integration_id)
                .bind(s.org_id.get())
                .bind(s.client_addr.as_str())
                .bind(s.now)
                .bind(s.refresh_jti_digest.as_str())
                .bind(s.refresh_exp)
                .bind(s.credential.as_str());
        }
        let inserted = query.execute(&mut *self.conn).await?.rows_affected();
        if inserted == batch.len() as u64 {
            return Ok(vec![true; batch.len()]);
        }
        // Some subject lost its access meanwhile (rare): find out whose sessions exist. Their
        // ids are fresh and unique, so an existing row is one this statement wrote.
        let sql = format!(
            "SELECT sid FROM sessions WHERE sid IN (VALUES {})",
            values_placeholders(self.backend, batch.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for s in batch {
            query = query.bind(s.sid.as_str());
        }
        let found: HashSet<String> = query
            .fetch_all(&mut *self.conn)
            .await?
            .iter()
            .map(|row| row.try_get("sid"))
            .collect::<sqlx::Result<_>>()?;
        Ok(batch.iter().map(|s| found.contains(&s.sid)).collect())
    }

    async fn rotate_once(&mut self, rotations: &[Rotation]) -> sqlx::Result<Vec<bool>> {
        let mut seen = HashSet::new();
        let first: Vec<bool> = rotations
            .iter()
            .map(|r| seen.insert(r.sid.as_str()))
            .collect();
        let attempted: Vec<&Rotation> = rotations
            .iter()
            .zip(&first)
            .filter_map(|(r, first)| first.then_some(r))
            .collect();
        if attempted.is_empty() {
            return Ok(Vec::new());
        }
        // sid, presented digest, next digest, next exp, now, now in milliseconds.
        let sql = format!(
            "UPDATE sessions AS s SET previous_jti_digest = s.current_jti_digest, \
             current_jti_digest = v.column3, current_exp = v.column4, rotated_at_ms = v.column6, \
             last_used_at = v.column5 FROM (VALUES {}) AS v \
             WHERE s.sid = v.column1 AND s.current_jti_digest = v.column2 AND s.ended_at IS NULL \
             AND {ENTITLED} RETURNING sid",
            values_placeholders(self.backend, attempted.len(), ROTATION_VALUES)
        );
        let mut query = sqlx::query(&sql);
        for r in &attempted {
            query = query
                .bind(r.sid.as_str())
                .bind(r.presented.as_str())
                .bind(r.next.as_str())
                .bind(r.next_exp)
                .bind(r.now)
                .bind(r.now_ms);
        }
        let rotated: HashSet<String> = query
            .fetch_all(&mut *self.conn)
            .await?
            .iter()
            .map(|row| row.try_get("sid"))
            .collect::<sqlx::Result<_>>()?;
        Ok(rotations
            .iter()
            .zip(first)
            .map(|(r, first)| first && rotated.contains(&r.sid))
            .collect())
    }
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub current_jti_digest: String,
    pub current_exp: i64,
    pub previous_jti_digest: Option<String>,
    /// When the refresh token was last rotated, in milliseconds.
    pub rotated_at_ms: Option<i64>,
    pub last_used_at: i64,
    pub ended: bool,
    /// Whether its subject is still entitled: an active member of the session's organization,
    /// or an unrevoked integration of it. Every change that takes that away also ends the
    /// subject's sessions; this is the second lock on the same door.
    pub entitled: bool,
}

/// True while the session `s`'s subject may still have tokens of its organization.
const ENTITLED: &str = "(CASE WHEN s.kind = 'user' THEN EXISTS (\
       SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id \
       WHERE u.id = s.user_id AND m.org_id = s.org_id AND u.active = 1) \
     ELSE EXISTS (SELECT 1 FROM integrations i WHERE i.id = s.integration_id \
       AND i.org_id = s.org_id AND i.revoked_at IS NULL) END)";

impl Store {
    /// The connection that session inserts run on, held by the session writer for a burst of
    /// batches (see [`crate::auth::writes`]).
    pub async fn session_writer(&self) -> sqlx::Result<WriterConnection> {
        Ok(WriterConnection {
            conn: self.writer().acquire().await?,
            backend: self.backend,
        })
    }

    pub async fn find_session(&self, sid: &str) -> sqlx::Result<Option<SessionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT s.current_jti_digest, s.current_exp, s.previous_jti_digest, s.rotated_at_ms, \
             s.ended_at, s.last_used_at, \
             CAST((CASE WHEN {ENTITLED} THEN 1 ELSE 0 END) AS BIGINT) AS entitled \
             FROM sessions s WHERE s.sid = $1"
        ))
        .bind(sid)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SessionRecord {
                current_jti_digest: r.try_get("current_jti_digest")?,
                current_exp: r.try_get("current_exp")?,
                previous_jti_digest: r.try_get("previous_jti_digest")?,
                rotated_at_ms: r.try_get("rotated_at_ms")?,
                ended: r.try_get::<Option<i64>, _>("ended_at")?.is_some(),
                last_used_at: r.try_get("last_used_at")?,
                entitled: r.try_get::<i64, _>("entitled")? == 1,
            })
        })
        .transpose()
    }

    pub async fn touch_session(&self, sid: &str, now: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE sid = $1")
            .bind(sid)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Ends one session; false when it had already ended (or never existed).
    pub async fn end_session(&self, sid: &str, now: i64, reason: EndReason) -> sqlx::Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE sessions SET ended_at = $2, ended_ms = {}, end_reason = $3 \
             WHERE sid = $1 AND ended_at IS NULL",
            self.backend.now_ms_sql()
        ))
        .bind(sid)
        .bind(now)
        .bind(reason.as_str())
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every open session of a user, in one organization or in all; returns their ids.
    pub async fn end_user_sessions(
        &self,
        user: UserId,
        org: Option<OrgId>,
        now: i64,
        reason: EndReason,
    ) -> sqlx::Result<Vec<String>> {
        let rows = sqlx::query(&format!(
            "UPDATE sessions SET ended_at = $3, ended_ms = {}, end_reason = $4 \
             WHERE user_id = $1 AND ($2 = 0 OR org_id = $2) AND ended_at IS NULL RETURNING sid",
            self.backend.now_ms_sql()
        ))
        .bind(user.get())
        .bind(org.map_or(0, OrgId::get))
        .bind(now)
        .bind(reason.as_str())
        .fetch_all(self.writer())
        .await?;
        rows.iter().map(|r| r.try_get("sid")).collect()
    }

    /// The database's clock, in milliseconds: the cursor of [`Store::sessions_ended_since`].
    pub async fn database_now_ms(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar(&format!("SELECT {}", self.backend.now_ms_sql()))
            .fetch_one(self.pool())
            .await
    }

    /// Ids of the sessions ended at or after `since_ms` by the database's clock.
    pub async fn sessions_ended_since(&self, since_ms: i64) -> sqlx::Result<Vec<String>> {
        let rows = sqlx::query("SELECT sid FROM sessions WHERE ended_ms >= $1")
            .bind(since_ms)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| r.try_get("sid")).collect()
    }

    /// Open sessions of an organization, newest first, with who they belong to.
    pub async fn open_sessions(&self, org: OrgId, now: i64) -> sqlx::Result<Vec<OpenSession>> {
        self.open_sessions_matching(org, now, "").await
    }

    /// One open session of an organization, by id.
    pub async fn open_session(
        &self,
        org: OrgId,
        sid: &str,
        now: i64,
    ) -> sqlx::Result<Option<OpenSession>> {
        Ok(self.open_sessions_matching(org, now, sid).await?.pop())
    }

    async fn open_sessions_matching(
        &self,
        org: OrgId,
        now: i64,
        sid: &str,
    ) -> sqlx::Result<Vec<OpenSession>> {
        let rows = sqlx::query(
            "SELECT s.sid, s.kind, u.username, i.consumer_key, i.name AS integration_name, s.created_at, \
             s.last_used_at, s.client_addr \
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id LEFT JOIN integrations i ON i.id = s.integration_id \
             WHERE s.org_id = $1 AND s.ended_at IS NULL AND s.current_exp > $2 AND ($3 = '' OR s.sid = $3) \
             ORDER BY s.created_at DESC LIMIT 500",
        )
        .bind(org.get())
        .bind(now)
        .bind(sid)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let who: Option<String> = if kind == "user" {
                    r.try_get("username")?
                } else {
                    r.try_get("consumer_key")?
                };
                Ok(OpenSession {
                    sid: r.try_get("sid")?,
                    kind,
                    who: who.unwrap_or_default(),
                    integration_name: r.try_get("integration_name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    client_addr: r.try_get("client_addr")?,
                })
            })
            .collect()
    }

    /// Ends a session of an organization; false when there was no such open session.
    pub async fn end_org_session(
        &self,
        org: OrgId,
        sid: &str,
        now: i64,
        reason: EndReason,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(&format!(
            "UPDATE sessions SET ended_at = $3, ended_ms = {}, end_reason = $4 \
             WHERE sid = $2 AND org_id = $1 AND ended_at IS NULL",
            self.backend.now_ms_sql()
        ))
        .bind(org.get())
        .bind(sid)
        .bind(now)
        .bind(reason.as_str())
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes sessions every token of which has expired by `cutoff`: their refresh tokens
    /// expired then, and no access token outlives its refresh token by more than its lifetime.
    pub async fn prune_sessions(&self, cutoff: i64) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE current_exp < $1")
            .bind(cutoff)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}

/// An open session as an administrator sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenSession {
    pub sid: String,
    /// `user` or `integration`.
    pub kind: String,
    /// The username or the consumer key.
    pub who: String,
    pub integration_name: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub client_addr: String,
}
