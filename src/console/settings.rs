//! Settings: the organization's name (owners rename it) and its id.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;

use super::error::{ConsoleError, Refusals, refusal};
use super::extract::{Admin, Form};
use super::i18n::Text;
use super::view::{self, Chrome, Frame, Notice};
use super::web::see_other;
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
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
    typed: Option<String>,
) -> Result<Response, ConsoleError> {
    let chrome = Chrome::new(admin, "settings").await?;
    let t = admin.t();
    let page = SettingsPage {
        t,
        frame: Frame::new(admin.visit()),
        can_rename: admin.role == Role::Owner,
        name: typed.unwrap_or_else(|| chrome.org_name.clone()),
        role: t.role_name(admin.role.as_str()),
        org_id_help: t.org_id_help.replace("{id}", &chrome.org_id.to_string()),
        chrome,
        notice,
    };
    Ok(view::render_with(status, &page))
}

/// `GET /console/settings`.
pub async fn page(
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let notice = Notice::from_done(admin.t(), query.get("done").map(String::as_str));
    render(&admin, StatusCode::OK, notice, None).await
}

/// `POST /console/settings`: rename the organization.
pub async fn rename(Form(admin, fields): Form<Admin>) -> Result<Response, ConsoleError> {
    let name = fields.get("name");
    match admin.rename(&name).await {
        Ok(_) => Ok(see_other("/console/settings?done=renamed")),
        Err(e) => {
            let t = admin.t();
            let words = Refusals {
                invalid: t.invalid_org_name,
                not_found: t.not_found,
                duplicate: t.org_name_taken,
                forbidden: t.only_owners_rename,
            };
            let (status, text) = refusal(e, words)?;
            let page = render(&admin, status, Notice::error(text), Some(name)).await?;
            Err(ConsoleError::refused(page))
        }
    }
}
