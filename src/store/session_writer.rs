//! The session writer's connection: it creates sessions and rotates refresh tokens in batches,
//! one statement of many rows each, so that a burst of logins or refreshes costs a few round
//! trips to the single writer instead of one each (see [`crate::auth::sessions::writes`]).

use std::collections::HashSet;

use sqlx::Row;

use super::sessions::ENTITLED;
use super::{Backend, DeadlockRetry, SessionKind, Store, values_placeholders};
use crate::domain::{OrgId, UserId};

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

impl Store {
    /// The connection that session inserts run on, held by the session writer for a burst of
    /// batches (see [`crate::auth::sessions::writes`]).
    pub async fn session_writer(&self) -> sqlx::Result<WriterConnection> {
        Ok(WriterConnection {
            conn: self.writer().acquire().await?,
            backend: self.backend,
        })
    }
}
