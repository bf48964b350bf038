//! Sessions: the open sessions of the organization's users and integrations; ending one, or all
//! of a user's.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::Text;
use super::view::{self, Chrome, Frame, Notice, Refusals};
use super::web::{Posted, Signed, see_other};
use crate::auth::Auth;
use crate::auth::admin::OrgAdmin;
use crate::domain::Role;

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
}

pub async fn render(
    signed: &Signed,
    admin: &OrgAdmin,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, Response> {
    let failed = |e| view::failed(&signed.visit, e);
    let chrome = Chrome::new(signed, admin, "sessions")
        .await
        .map_err(failed)?;
    let members = admin.members().await.map_err(failed)?;
    let rows = admin
        .sessions()
        .await
        .map_err(failed)?
        .into_iter()
        .map(|s| {
            let is_user = s.kind == "user";
            let member = members.iter().find(|m| is_user && m.username == s.who);
            let owner = member.is_some_and(|m| m.role == Role::Owner.as_str());
            SessionRow {
                user_id: member.map(|m| m.id),
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
        t: signed.t(),
        frame: Frame::new(&signed.visit),
        chrome,
        notice,
        rows,
    };
    Ok(view::render_with(status, &page))
}

/// `GET /console/sessions`.
pub async fn page(
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let admin = signed.admin(&auth).await?;
    let notice = Notice::from_done(signed.t(), query.get("done").map(String::as_str));
    render(&signed, &admin, StatusCode::OK, notice).await
}

/// `POST /console/sessions/{sid}/end`.
pub async fn end(
    State(auth): State<Arc<Auth>>,
    Path(sid): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    match admin.end_session(&sid).await {
        Ok(()) => Ok(see_other("/console/sessions?done=ended")),
        Err(e) => {
            let t = signed.t();
            let words = Refusals {
                invalid: t.session_not_found,
                not_found: t.session_not_found,
                duplicate: t.session_not_found,
                forbidden: t.cannot_end_owner_sessions,
            };
            let (status, text) = view::refusal(&signed.visit, e, words)?;
            render(signed, &admin, status, Notice::error(text)).await
        }
    }
}
