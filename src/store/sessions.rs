//! Sessions: one row per login, holding the refresh-token family's rotation state. Ending
//! anything is ending sessions, one `UPDATE`.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use crate::domain::{OpenSession, OrgId, SessionCursor, UserId};

/// Sessions deleted by one statement of [`Store::prune_sessions`]. Each deleted session touches
/// every index of the table at a random place (the session id's above all), so a statement costs
/// about a tenth of a millisecond per session on a table of millions — and a login waits for the
/// statement in progress (measured with `bench/large`: at 5,000 a statement held the writer for
/// seconds, at 1,000 logins still slowed to half their rate while a prune ran).
const PRUNE_CHUNK: i64 = 500;

/// What the admin API and the console show of an open session, and whose it is.
/// The role is a subquery by the membership's key, not a join: in the generic plan of a prepared
/// statement PostgreSQL joined a page of sessions to every membership of the organization, read
/// in full for each page (45 ms a page for an organization of 10,000 members, in `bench/large`).
const OPEN_SESSIONS: &str = "SELECT s.sid, s.kind, s.user_id, u.username, \
     (SELECT m.role FROM memberships m WHERE m.user_id = s.user_id AND m.org_id = s.org_id) \
     AS role, i.consumer_key, i.name AS integration_name, s.created_at, s.last_used_at, \
     s.client_addr \
     FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
     LEFT JOIN integrations i ON i.id = s.integration_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    User,
    Integration,
}

impl SessionKind {
    pub(super) fn as_str(self) -> &'static str {
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
pub(super) const ENTITLED: &str = "(CASE WHEN s.kind = 'user' THEN EXISTS (\
       SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id \
       WHERE u.id = s.user_id AND m.org_id = s.org_id AND u.active = 1) \
     ELSE EXISTS (SELECT 1 FROM integrations i WHERE i.id = s.integration_id \
       AND i.org_id = s.org_id AND i.revoked_at IS NULL) END)";

impl Store {
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

    /// Ends an integration's session that may have no row (a client-credentials token's): ends
    /// its row if there is one, else records it as ended. False when it had already ended.
    pub async fn end_integration_session(
        &self,
        sid: &str,
        integration: i64,
        org: OrgId,
        now: i64,
        reason: EndReason,
    ) -> sqlx::Result<bool> {
        if self.end_session(sid, now, reason).await? {
            return Ok(true);
        }
        let mut conn = self.writer().acquire().await?;
        self.insert_ended_marker(&mut conn, sid, integration, org.get(), now, reason)
            .await
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

    /// Open sessions of an organization, newest first, with who they belong to: the newest
    /// 500.
    pub async fn open_sessions(&self, org: OrgId, now: i64) -> sqlx::Result<Vec<OpenSession>> {
        self.open_sessions_page(org, now, None, 500).await
    }

    /// At most `limit` open sessions of an organization, newest first (by creation, then id),
    /// started before `before`: read in that order from the index on (organization, creation,
    /// id) of open sessions, so a page costs the same whatever the organization's size.
    pub async fn open_sessions_page(
        &self,
        org: OrgId,
        now: i64,
        before: Option<&SessionCursor>,
        limit: i64,
    ) -> sqlx::Result<Vec<OpenSession>> {
        let open = "s.org_id = $1 AND s.ended_at IS NULL AND s.current_exp > $2";
        let order = "ORDER BY s.created_at DESC, s.sid DESC";
        let query = match before {
            None => format!("{OPEN_SESSIONS} WHERE {open} {order} LIMIT $3"),
            Some(_) => format!(
                "{OPEN_SESSIONS} WHERE {open} AND (s.created_at, s.sid) < ($4, $5) {order} LIMIT $3"
            ),
        };
        let mut query = sqlx::query(&query).bind(org.get()).bind(now).bind(limit);
        if let Some(cursor) = before {
            query = query.bind(cursor.created_at).bind(cursor.sid.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(open_session_from_row).collect()
    }

    /// One open session of an organization, by id (its primary key: never a walk through the
    /// organization's sessions).
    pub async fn open_session(
        &self,
        org: OrgId,
        sid: &str,
        now: i64,
    ) -> sqlx::Result<Option<OpenSession>> {
        if !super::statements::may_be_stored(sid) {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "{OPEN_SESSIONS} WHERE s.sid = $3 AND s.org_id = $1 AND s.ended_at IS NULL \
             AND s.current_exp > $2"
        ))
        .bind(org.get())
        .bind(now)
        .bind(sid)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(open_session_from_row).transpose()
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
    /// All of them, however many: at a high token rate a minute's worth is over a million rows.
    /// But a few hundred per statement, oldest first, each followed by a pause as long as the
    /// statement took: each statement holds the single writer only briefly, the logins queued
    /// behind it pass between two of them, and a long prune takes at most half the writer's time.
    pub async fn prune_sessions(&self, cutoff: i64) -> sqlx::Result<u64> {
        let mut deleted = 0;
        // Every session that expired at or before `floor` is gone: each chunk starts after it,
        // so that on PostgreSQL, which keeps deleted rows until vacuum, a chunk does not step
        // over every session this prune has already deleted.
        let mut floor = i64::MIN;
        loop {
            let started = std::time::Instant::now();
            // The chunk as a range of expiries: the oldest chunk's last expiry, and every expired
            // session up to it — a few more than the chunk when sessions share that second.
            let upper: Option<i64> = sqlx::query_scalar(
                "SELECT max(current_exp) FROM (SELECT current_exp FROM sessions \
                 WHERE current_exp > $1 AND current_exp < $2 ORDER BY current_exp LIMIT $3) AS oldest",
            )
            .bind(floor)
            .bind(cutoff)
            .bind(PRUNE_CHUNK)
            .fetch_one(self.writer())
            .await?;
            let Some(upper) = upper else {
                return Ok(deleted);
            };
            let n = sqlx::query(
                "DELETE FROM sessions WHERE current_exp > $1 AND current_exp <= $2 AND current_exp < $3",
            )
            .bind(floor)
            .bind(upper)
            .bind(cutoff)
            .execute(self.writer())
            .await?
            .rows_affected();
            deleted += n;
            // Fewer than a chunk: that was the last of them.
            if n < PRUNE_CHUNK as u64 {
                return Ok(deleted);
            }
            floor = upper;
            tokio::time::sleep(started.elapsed()).await;
        }
    }
}

fn open_session_from_row(r: &AnyRow) -> sqlx::Result<OpenSession> {
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
        user_id: r.try_get("user_id")?,
        role: r.try_get("role")?,
    })
}
