//! Settings: the organization's name (owners rename it) and its id.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::Text;
use super::view::{self, Chrome, Frame, Notice, Refusals};
use super::web::{Posted, Signed, see_other};
use crate::auth::Auth;
use crate::auth::admin::OrgAdmin;
use crate::domain::Role;

#[derive(Template)]
#[template(path = "settings.html", config = "src/console/askama.toml")]
struct SettingsPage {
    t: &'static Text,
    frame: Frame,
    chrome: Chrome,
    notice: Option<Notice>,
    can_rename: bool,
    /// The name in the form: as typed after a refused rename, else the current one.
    name: String,
    role: &'static str,
    org_id_help: String,
}

async fn render(
    signed: &Signed,
    admin: &OrgAdmin,
    status: StatusCode,
    notice: Option<Notice>,
    typed: Option<String>,
) -> Response {
    let chrome = match Chrome::new(signed, admin, "settings").await {
        Ok(chrome) => chrome,
        Err(e) => return view::failed(&signed.visit, e),
    };
    let t = signed.t();
    let page = SettingsPage {
        t,
        frame: Frame::new(&signed.visit),
        can_rename: admin.role == Role::Owner,
        name: typed.unwrap_or_else(|| chrome.org_name.clone()),
        role: t.role_name(admin.role.as_str()),
        org_id_help: t.org_id_help.replace("{id}", &chrome.org_id.to_string()),
        chrome,
        notice,
    };
    view::render_with(status, &page)
}

/// `GET /console/settings`.
pub async fn page(
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let admin = signed.admin(&auth).await?;
    let notice = Notice::from_done(signed.t(), query.get("done").map(String::as_str));
    Ok(render(&signed, &admin, StatusCode::OK, notice, None).await)
}

/// `POST /console/settings`: rename the organization.
pub async fn rename(State(auth): State<Arc<Auth>>, posted: Posted) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let name = posted.field("name");
    match admin.rename(&name).await {
        Ok(_) => Ok(see_other("/console/settings?done=renamed")),
        Err(e) => {
            let t = signed.t();
            let words = Refusals {
                invalid: t.invalid_org_name,
                not_found: t.not_found,
                duplicate: t.org_name_taken,
                forbidden: t.only_owners_rename,
            };
            let (status, text) = view::refusal(&signed.visit, e, words)?;
            Ok(render(signed, &admin, status, Notice::error(text), Some(name)).await)
        }
    }
}
