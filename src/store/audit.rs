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
        // Every event up to `floor` has been looked at: each chunk starts after it. PostgreSQL
        // keeps deleted rows (and their index entries) until vacuum, so a chunk that started
        // from the smallest id would step over every row this prune has deleted so far, and a
        // prune of millions of events would slow down chunk by chunk until it fell behind.
        let mut floor = 0_i64;
        loop {
            let upper: Option<i64> = sqlx::query_scalar(
                "SELECT max(id) FROM (SELECT id FROM audit_events WHERE id > $1 \
                 ORDER BY id LIMIT $2) AS oldest",
            )
            .bind(floor)
            .bind(PRUNE_CHUNK)
            .fetch_one(self.writer())
            .await?;
            let Some(upper) = upper else {
                return Ok(deleted);
            };
            let n = sqlx::query("DELETE FROM audit_events WHERE id > $1 AND id <= $2 AND at < $3")
                .bind(floor)
                .bind(upper)
                .bind(cutoff)
                .execute(self.writer())
                .await?
                .rows_affected();
            deleted += n;
            // Events are numbered in the order they were written: a chunk not all old enough
            // reached the events still kept.
            if n < PRUNE_CHUNK as u64 {
                return Ok(deleted);
            }
            floor = upper;
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
