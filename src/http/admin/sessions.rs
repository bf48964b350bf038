//! `/api/v1/admin/sessions` and `/api/v1/admin/activity`: open sessions, and the audit log.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::pages::PageQuery;
use super::{Admin, ApiError, Result};
use crate::clock::format_rfc3339_millis;
use crate::domain::{AuditEvent, AuditFilter, OpenSession, SessionCursor};
use crate::http::openapi::schemas::Detail;
use crate::http::openapi::{BearerRefused, NotAnAdmin, Unavailable};

/// An open session.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    sid: String,
    /// `user` or `integration`.
    #[serde(rename = "type")]
    kind: String,
    /// The username or the consumer key.
    who: String,
    #[schema(required)]
    integration_name: Option<String>,
    started: String,
    last_used: String,
    client_address: String,
}

impl From<&OpenSession> for SessionView {
    fn from(s: &OpenSession) -> Self {
        SessionView {
            sid: s.sid.clone(),
            kind: s.kind.clone(),
            who: s.who.clone(),
            integration_name: s.integration_name.clone(),
            started: format_rfc3339_millis(s.created_at),
            last_used: format_rfc3339_millis(s.last_used_at),
            client_address: s.client_addr.clone(),
        }
    }
}

/// One audit event, newest first.
#[derive(Serialize, ToSchema)]
pub struct ActivityEvent {
    id: i64,
    at: String,
    kind: String,
    #[schema(required)]
    actor: Option<String>,
    #[schema(required)]
    subject: Option<String>,
    #[schema(required)]
    client_address: Option<String>,
}

/// The organization's open sessions, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sessions",
    tag = "admin",
    params(
        ("before" = Option<String>, Query, description = "Only sessions older than this cursor (`<created_at>.<sid>`): the `before` of the `Link` to the next page."),
        ("limit" = Option<i64>, Query, description = "At most this many (default 100; above 500 reads 500)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of sessions.", body = Vec<SessionView>,
            headers(("Link" = String, description = "`</api/v1/admin/sessions?limit=N&before=CURSOR>; rel=\"next\"` when there is a next page (RFC 8288)."))),
        (status = 400, description = "`{\"detail\": \"invalid limit\"}` (or `before`): not a positive integer, or not a cursor of this list.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn sessions(admin: Admin, RawQuery(query): RawQuery) -> Result<Response> {
    let page = PageQuery::parse(query.as_deref())?;
    let before = match page.before.as_deref() {
        None => None,
        Some(before) => Some(
            before
                .parse::<SessionCursor>()
                .map_err(|()| ApiError::BadPageParameter("before"))?,
        ),
    };
    let list = admin.sessions_page(before.as_ref(), page.limit + 1).await?;
    let cursor = ("before", |s: &OpenSession| {
        SessionCursor::after(s).to_string()
    });
    let view = |s: &OpenSession| SessionView::from(s);
    Ok(page.answer(list, "/api/v1/admin/sessions", cursor, view))
}

/// End one session.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sessions/{sid}",
    tag = "admin",
    params(("sid" = String, Path, description = "The session id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Ended."),
        (status = 404, description = "No such open session in this organization.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn end_session(admin: Admin, Path(sid): Path<String>) -> Result<StatusCode> {
    admin.end_session(&sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/activity",
    tag = "admin",
    params(
        ("kind" = Option<String>, Query, description = "Only this kind of event."),
        ("who" = Option<String>, Query, description = "Only events whose actor or subject is this."),
        ("before" = Option<i64>, Query, description = "Only events older than this id."),
        ("limit" = Option<i64>, Query, description = "At most this many (default 100; above 500 reads 500)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events.", body = Vec<ActivityEvent>,
            headers(("Link" = String, description = "`</api/v1/admin/activity?limit=N&before=ID>; rel=\"next\"` (with the same `kind` and `who`) when there is a next page (RFC 8288)."))),
        (status = 400, description = "`{\"detail\": \"invalid limit\"}` (or `before`): not a positive integer.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn activity(admin: Admin, RawQuery(query): RawQuery) -> Result<Response> {
    // A malformed page (`limit`, `before`) is refused, as for every list; unknown parameters
    // are ignored, and an unknown kind or user only narrows what is shown.
    let page = PageQuery::parse(query.as_deref())?;
    let before_id = match page.before.as_deref() {
        None => None,
        Some(before) => match before.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => return Err(ApiError::BadPageParameter("before")),
        },
    };
    let mut filter = AuditFilter {
        limit: page.limit + 1,
        before_id,
        ..Default::default()
    };
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match &*name {
            "kind" if !value.is_empty() => filter.kind = Some(value.to_owned()),
            "who" if !value.is_empty() => filter.who = Some(value.to_lowercase()),
            _ => {}
        }
    }
    let events = admin.activity(&filter).await?;
    let filters: Vec<(&str, &str)> = [("kind", &filter.kind), ("who", &filter.who)]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect();
    let cursor = ("before", |(id, _): &(i64, AuditEvent)| id.to_string());
    let view = |(id, e): &(i64, AuditEvent)| ActivityEvent {
        id: *id,
        at: format_rfc3339_millis(e.at),
        kind: e.kind.clone(),
        actor: e.actor.clone(),
        subject: e.subject.clone(),
        client_address: e.client_addr.clone(),
    };
    Ok(page.answer_filtered(events, "/api/v1/admin/activity", &filters, cursor, view))
}
