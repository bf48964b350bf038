//! Activity: the organization's audit log, newest first, filtered by kind and by user or
//! integration, a page at a time (`before` is the id of the last event seen).

use std::collections::HashMap;

use askama::Template;
use axum::extract::Query;
use axum::response::Response;

use super::error::ConsoleError;
use super::extract::Admin;
use super::i18n::Text;
use super::view::{self, Chrome, Frame, Notice};
use crate::auth::audit::Kind;
use crate::domain::AuditFilter;

/// Rows on a page of the console's lists.
pub(super) const PAGE_SIZE: usize = 50;

pub struct EventRow {
    pub at: (String, String),
    pub kind: String,
    pub name: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub client_address: Option<String>,
}

pub struct KindChoice {
    pub value: &'static str,
    pub name: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "activity.html", config = "src/console/askama.toml")]
struct ActivityPage {
    t: &'static Text,
    frame: Frame,
    chrome: Chrome,
    notice: Option<Notice>,
    rows: Vec<EventRow>,
    kinds: Vec<KindChoice>,
    who: String,
    filtered: bool,
    /// The link to the next (older) page, when there is one.
    older: Option<String>,
    /// The link back to the newest events, when not on the first page.
    newest: Option<String>,
}

/// `GET /console/activity?kind=…&who=…&before=…`.
pub async fn page(
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let kind = query
        .get("kind")
        .and_then(|k| Kind::parse(k))
        .map(Kind::as_str);
    let who = query.get("who").map_or("", |w| w.trim()).to_owned();
    let before = query
        .get("before")
        .and_then(|b| b.parse::<i64>().ok())
        .filter(|b| *b > 0);
    let filter = AuditFilter {
        kind: kind.map(str::to_owned),
        who: (!who.is_empty()).then(|| who.clone()),
        before_id: before,
        limit: PAGE_SIZE as i64 + 1,
    };
    let mut events = admin.activity(&filter).await?;
    let more = events.len() > PAGE_SIZE;
    events.truncate(PAGE_SIZE);
    let link = |before: Option<i64>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(kind) = kind {
            query.append_pair("kind", kind);
        }
        if !who.is_empty() {
            query.append_pair("who", &who);
        }
        if let Some(before) = before {
            query.append_pair("before", &before.to_string());
        }
        format!("/console/activity?{}", query.finish())
    };
    let older = match events.last() {
        Some((id, _)) if more => Some(link(Some(*id))),
        _ => None,
    };
    let newest = before.map(|_| link(None));
    let rows = events
        .into_iter()
        .map(|(_, e)| EventRow {
            at: (view::utc(e.at), view::iso(e.at)),
            name: t.event_name(&e.kind).to_owned(),
            kind: e.kind,
            actor: e.actor,
            subject: e.subject,
            client_address: e.client_addr,
        })
        .collect();
    let page = ActivityPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "activity").await?,
        notice: None,
        rows,
        kinds: Kind::ALL
            .into_iter()
            .enumerate()
            .map(|(i, k)| KindChoice {
                value: k.as_str(),
                name: t.events[i],
                selected: Some(k.as_str()) == kind,
            })
            .collect(),
        filtered: kind.is_some() || !who.is_empty(),
        who,
        older,
        newest,
    };
    Ok(view::render(&page))
}
