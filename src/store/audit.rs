//! The audit log: one row per event, read newest first per organization.

use sqlx::Row;

use super::{Store, values_placeholders};
use crate::domain::{AuditEvent, AuditFilter, OrgId};

/// Events deleted by one statement of [`Store::prune_audit_events`]: the deletes go through the
/// single writer, so they are cut short enough for logins to pass between them.
const PRUNE_CHUNK: i64 = 5_000;

impl Store {
    /// Deletes events older than `cutoff`, oldest first, a chunk per statement until none is
    /// left: a cap per call would fall behind a log that grows faster than the cap each minute.
    /// Events are numbered in the order they were written, so each statement looks only at the
    /// oldest few thousand — never a scan of the whole log, which an index on `at` alone would
    /// avoid at the price of one more index to update on every login. Returns how many were
    /// deleted.
    pub async fn prune_audit_events(&self, cutoff: i64) -> sqlx::Result<u64> {
        let mut deleted = 0;
        loop {
            // The oldest ids as a range computed first: with `id IN (…)` PostgreSQL joined the
            // subquery to a scan of the whole table.
            let n = sqlx::query(
                "DELETE FROM audit_events WHERE at < $1 AND id <= \
                 (SELECT max(id) FROM (SELECT id FROM audit_events ORDER BY id LIMIT $2) AS oldest)",
            )
            .bind(cutoff)
            .bind(PRUNE_CHUNK)
            .execute(self.writer())
            .await?
            .rows_affected();
            deleted += n;
            if n == 0 {
                return Ok(deleted);
            }
        }
    }

    /// Writes several events in one statement.
    pub async fn insert_audit_events(&self, events: &[AuditEvent]) -> sqlx::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO audit_events (org_id, at, kind, actor, subject, client_addr, detail) VALUES {}",
            values_placeholders(self.backend, events.len(), 7)
        );
        // Batches come in every size up to 500: kept in the connection's statement cache, they
        // would evict the statements that are used all the time (the session writer's).
        let mut query = sqlx::query(&sql).persistent(false);
        for e in events {
            query = query
                .bind(e.org_id)
                .bind(e.at)
                .bind(&e.kind)
                .bind(&e.actor)
                .bind(&e.subject)
                .bind(&e.client_addr)
                .bind(&e.detail);
        }
        query.execute(self.writer()).await?;
        Ok(())
    }

    /// Events of an organization, newest first, with their ids.
    pub async fn audit_events(
        &self,
        org: OrgId,
        filter: &AuditFilter,
    ) -> sqlx::Result<Vec<(i64, AuditEvent)>> {
        let texts = [&filter.kind, &filter.who];
        if !texts
            .iter()
            .all(|t| t.as_deref().is_none_or(super::statements::may_be_stored))
        {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, org_id, at, kind, actor, subject, client_addr, detail FROM audit_events \
             WHERE org_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR actor = $3 OR subject = $3) \
             AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(org.get())
        .bind(filter.kind.clone().unwrap_or_default())
        .bind(filter.who.clone().unwrap_or_default())
        .bind(filter.before_id.unwrap_or(0))
        .bind(filter.limit.clamp(1, 501))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    AuditEvent {
                        org_id: r.try_get("org_id")?,
                        at: r.try_get("at")?,
                        kind: r.try_get("kind")?,
                        actor: r.try_get("actor")?,
                        subject: r.try_get("subject")?,
                        client_addr: r.try_get("client_addr")?,
                        detail: r.try_get("detail")?,
                    },
                ))
            })
            .collect()
    }
}
