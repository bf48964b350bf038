//! `/api/v1/admin/sessions` and `/api/v1/admin/activity`: open sessions, and the audit log.

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Admin, Result};
use crate::clock::format_rfc3339_millis;
use crate::domain::{AuditFilter, OpenSession};
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

/// The organization's open sessions.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sessions",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sessions.", body = Vec<SessionView>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn sessions(admin: Admin) -> Result<Json<Vec<SessionView>>> {
    let list = admin.sessions().await?;
    Ok(Json(list.iter().map(SessionView::from).collect()))
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
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 500, default 100)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events.", body = Vec<ActivityEvent>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn activity(
    admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ActivityEvent>>> {
    // Unknown or unreadable parameters are ignored: a filter can only narrow what is shown.
    let mut filter = AuditFilter {
        limit: 100,
        ..Default::default()
    };
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match &*name {
            "kind" if !value.is_empty() => filter.kind = Some(value.to_owned()),
            "who" if !value.is_empty() => filter.who = Some(value.to_lowercase()),
            "before" => filter.before_id = value.parse().ok(),
            "limit" => filter.limit = value.parse().unwrap_or(100),
            _ => {}
        }
    }
    let events = admin.activity(&filter).await?;
    Ok(Json(
        events
            .iter()
            .map(|(id, e)| ActivityEvent {
                id: *id,
                at: format_rfc3339_millis(e.at),
                kind: e.kind.clone(),
                actor: e.actor.clone(),
                subject: e.subject.clone(),
                client_address: e.client_addr.clone(),
            })
            .collect(),
    ))
}
