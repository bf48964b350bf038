//! Sessions: the open sessions of the organization's users and integrations; ending one, or all
//! of a user's.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;

use super::activity::PAGE_SIZE;
use super::error::{ConsoleError, Refusals, refusal};
use super::extract::{Admin, Form};
use super::i18n::Text;
use super::view::{self, Chrome, Frame, Notice};
use super::web::see_other;
use crate::domain::{Role, SessionCursor};

pub struct SessionRow {
    pub sid: String,
    pub is_user: bool,
    pub who: String,
    /// The integration's name, under its consumer key.
    pub name: Option<String>,
    /// The member id of a user session, for "end all of this user's".
    pub user_id: Option<i64>,
    /// Whether this administrator may end it: an owner's sessions are for owners to end.
    pub can_end: bool,
    pub started: (String, String),
    pub last_used: (String, String),
    pub client_address: String,
}

#[derive(Template)]
#[template(path = "sessions.html", config = "src/console/askama.toml")]
struct SessionsPage {
    t: &'static Text,
    frame: Frame,
    chrome: Chrome,
    notice: Option<Notice>,
    rows: Vec<SessionRow>,
    /// The link to the next (older) page, when there is one.
    next: Option<String>,
    /// The link back to the newest sessions, when not on the first page.
    start: Option<String>,
}

/// The first page of the list (the newest sessions), as refusals show it.
pub async fn render(
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, ConsoleError> {
    render_page(admin, status, notice, None).await
}

/// A page of the list, newest first, of the sessions started before `before`.
async fn render_page(
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
    before: Option<SessionCursor>,
) -> Result<Response, ConsoleError> {
    let chrome = Chrome::new(admin, "sessions").await?;
    let mut sessions = admin
        .sessions_page(before.as_ref(), PAGE_SIZE as i64 + 1)
        .await?;
    let next = match sessions.get(PAGE_SIZE - 1) {
        Some(last) if sessions.len() > PAGE_SIZE => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("before", &SessionCursor::after(last).to_string())
                .finish();
            Some(format!("/console/sessions?{query}"))
        }
        _ => None,
    };
    sessions.truncate(PAGE_SIZE);
    let rows = sessions
        .into_iter()
        .map(|s| {
            let is_user = s.kind == "user";
            // A user session's member id and role, when its user is still a member here.
            let member_id = s.user_id.filter(|_| is_user && s.role.is_some());
            let owner = s.role.as_deref() == Some(Role::Owner.as_str());
            SessionRow {
                user_id: member_id,
                can_end: !owner || admin.role == Role::Owner,
                is_user,
                started: (view::utc(s.created_at), view::iso(s.created_at)),
                last_used: (view::utc(s.last_used_at), view::iso(s.last_used_at)),
                sid: s.sid,
                who: s.who,
                name: s.integration_name,
                client_address: s.client_addr,
            }
        })
        .collect();
    let page = SessionsPage {
        t: admin.t(),
        frame: Frame::new(admin.visit()),
        chrome,
        notice,
        rows,
        next,
        start: before.map(|_| "/console/sessions".to_owned()),
    };
    Ok(view::render_with(status, &page))
}

/// `GET /console/sessions?before=…`: a page of open sessions, newest first, started before the
/// cursor `before` (an unreadable one shows the first page).
pub async fn page(
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let notice = Notice::from_done(admin.t(), query.get("done").map(String::as_str));
    let before = query.get("before").and_then(|b| b.parse().ok());
    render_page(&admin, StatusCode::OK, notice, before).await
}

/// `POST /console/sessions/{sid}/end`.
pub async fn end(
    Path(sid): Path<String>,
    Form(admin, _): Form<Admin>,
) -> Result<Response, ConsoleError> {
    match admin.end_session(&sid).await {
        Ok(()) => Ok(see_other("/console/sessions?done=ended")),
        Err(e) => {
            let t = admin.t();
            let words = Refusals {
                invalid: t.session_not_found,
                not_found: t.session_not_found,
                duplicate: t.session_not_found,
                forbidden: t.cannot_end_owner_sessions,
            };
            let (status, text) = refusal(e, words)?;
            let page = render(&admin, status, Notice::error(text)).await?;
            Err(ConsoleError::refused(page))
        }
    }
}
