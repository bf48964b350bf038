//! Changes that take access away, each made together with the end of the sessions it concerns,
//! in one transaction: a change is never made without its sessions ending (whatever interrupts
//! the request), nor sessions ended for a change that did not happen.

use sqlx::Row;

use super::{DeadlockRetry, EndReason, Store};
use crate::domain::{OrgId, Role, SecretGeneration, UserId};

#[derive(Debug, Clone, Copy)]
pub enum AccessChange<'a> {
    RemoveMembership {
        user: UserId,
        org: OrgId,
    },
    Disable {
        user: UserId,
    },
    /// Replaces the password; with `join`, first adds the user to that organization with that
    /// role (the operator's `user grant --reset-password`), in the same transaction.
    SetPassword {
        user: UserId,
        hash: &'a str,
        join: Option<(OrgId, Role)>,
    },
    RevokeIntegration {
        id: i64,
    },
    SetSecret {
        id: i64,
        digest: &'a str,
    },
}

impl Store {
    /// Makes `change` and ends its sessions. `None` when the change matched nothing (not a member,
    /// already revoked, no such user); otherwise the ids of the sessions that ended.
    ///
    /// Ending the sessions locks each of them, and the session writer's rotation batch locks
    /// several too, maybe in another order: on PostgreSQL the two can deadlock, and the database
    /// then ends one of them. When that is this change, it was undone as a whole and is made again
    /// (see [`DeadlockRetry`]), so the administrator does not see an error for it.
    pub async fn change_access(
        &self,
        change: AccessChange<'_>,
        now: i64,
    ) -> sqlx::Result<Option<Vec<String>>> {
        let mut retry = DeadlockRetry::new("a change of access");
        loop {
            match self.change_access_once(change, now).await {
                Err(e) if retry.again(&e) => retry.pause().await,
                outcome => return outcome,
            }
        }
    }

    async fn change_access_once(
        &self,
        change: AccessChange<'_>,
        now: i64,
    ) -> sqlx::Result<Option<Vec<String>>> {
        use AccessChange::*;
        let mut tx = self.writer().begin().await?;
        // An integration's tokens without a session row end with the secret they were issued
        // under: its generation, read before the change replaces it. Read by a write that
        // changes nothing, which takes the writer's lock first on SQLite (a read first could not
        // become a write while another connection writes) and locks the row on PostgreSQL.
        let generation = match change {
            RevokeIntegration { id } | SetSecret { id, .. } => {
                let row = sqlx::query(
                    "UPDATE integrations SET secret_digest = secret_digest \
                     WHERE id = $1 AND revoked_at IS NULL \
                     RETURNING consumer_key, secret_digest, org_id",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let (key, digest): (String, String) =
                    (row.try_get("consumer_key")?, row.try_get("secret_digest")?);
                let marker = SecretGeneration {
                    consumer_key: &key,
                    secret_digest: &digest,
                }
                .marker();
                Some((id, row.try_get::<i64, _>("org_id")?, marker))
            }
            _ => None,
        };
        let changed = match change {
            RemoveMembership { user, org } => {
                sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND org_id = $2")
                    .bind(user.get())
                    .bind(org.get())
                    .execute(&mut *tx)
                    .await?
            }
            Disable { user } => {
                sqlx::query("UPDATE users SET active = 0 WHERE id = $1")
                    .bind(user.get())
                    .execute(&mut *tx)
                    .await?
            }
            SetPassword { user, hash, join } => {
                if let Some((org, role)) = join {
                    sqlx::query(
                        "INSERT INTO memberships (user_id, org_id, role, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
                    )
                    .bind(user.get())
                    .bind(org.get())
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?
            }
            RevokeIntegration { id } => {
                sqlx::query(
                    "UPDATE integrations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
            }
            SetSecret { id, digest } => sqlx::query(
                "UPDATE integrations SET secret_digest = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(digest)
            .execute(&mut *tx)
            .await?,
        };
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
        let (filter, subject, org, reason) = match change {
            RemoveMembership { user, org } => (
                "user_id = $1 AND org_id = $2",
                user.get(),
                org.get(),
                EndReason::LeftOrganization,
            ),
            Disable { user } => (
                "user_id = $1 AND $2 = 0",
                user.get(),
                0,
                EndReason::UserDisabled,
            ),
            SetPassword { user, .. } => (
                "user_id = $1 AND $2 = 0",
                user.get(),
                0,
                EndReason::PasswordChanged,
            ),
            RevokeIntegration { id } => (
                "integration_id = $1 AND $2 = 0",
                id,
                0,
                EndReason::IntegrationRevoked,
            ),
            SetSecret { id, .. } => (
                "integration_id = $1 AND $2 = 0",
                id,
                0,
                EndReason::SecretRotated,
            ),
        };
        let rows = sqlx::query(&format!(
            "UPDATE sessions SET ended_at = $3, ended_ms = {}, end_reason = $4 \
             WHERE {filter} AND ended_at IS NULL RETURNING sid",
            self.backend.now_ms_sql()
        ))
        .bind(subject)
        .bind(org)
        .bind(now)
        .bind(reason.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut ended = rows
            .iter()
            .map(|r| r.try_get("sid"))
            .collect::<sqlx::Result<Vec<String>>>()?;
        if let Some((integration, org, marker)) = generation {
            self.insert_ended_marker(&mut tx, &marker, integration, org, now, reason)
                .await?;
            ended.push(marker);
        }
        if let Disable { user } | SetPassword { user, .. } = change {
            sqlx::query(
                "UPDATE console_sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL",
            )
            .bind(user.get())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(ended))
    }

    /// Records an ended session that had no row: a generation's marker, or a client-credentials
    /// token revoked by its client. It expires at once, so that it is pruned (and forgotten by
    /// every instance) one access-token lifetime later, when every token it ends has expired.
    /// False when it was already recorded.
    pub(super) async fn insert_ended_marker(
        &self,
        conn: &mut sqlx::AnyConnection,
        sid: &str,
        integration: i64,
        org: i64,
        now: i64,
        reason: EndReason,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(&format!(
            "INSERT INTO sessions (sid, kind, integration_id, org_id, client_addr, created_at, \
             last_used_at, current_jti_digest, current_exp, ended_at, ended_ms, end_reason) \
             VALUES ($1, 'integration', $2, $3, '', $4, $4, '', $4, $4, {}, $5) \
             ON CONFLICT (sid) DO NOTHING",
            self.backend.now_ms_sql()
        ))
        .bind(sid)
        .bind(integration)
        .bind(org)
        .bind(now)
        .bind(reason.as_str())
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
