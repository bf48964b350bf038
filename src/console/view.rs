//! What every page shares: the frame (language, switcher), the signed-in chrome (navigation,
//! organization switcher), notices, dates, rendering, and the page with one message.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::extract::Admin;
use super::i18n::Text;
use super::web::Visit;
use crate::auth::admin::AdminError;
use crate::domain::Role;
use crate::i18n::Lang;

/// One entry of the language switcher.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// What the outermost template needs on every page.
pub struct Frame {
    pub lang: Lang,
    pub langs: Vec<LangLink>,
}

impl Frame {
    pub fn new(visit: &Visit) -> Self {
        let next: String = form_urlencoded::byte_serialize(visit.here.as_bytes()).collect();
        Frame {
            lang: visit.lang,
            langs: Lang::ALL
                .into_iter()
                .map(|l| LangLink {
                    code: l.code(),
                    name: l.name(),
                    href: format!("/console/lang?to={}&next={next}", l.code()),
                    current: l == visit.lang,
                })
                .collect(),
        }
    }
}

/// The organization switcher's entries.
pub struct OrgChoice {
    pub id: i64,
    pub name: String,
    pub current: bool,
}

/// The signed-in layout: who, where, and the navigation.
pub struct Chrome {
    pub username: String,
    pub org_id: i64,
    pub org_name: String,
    pub orgs: Vec<OrgChoice>,
    pub csrf: String,
    /// The current section, for `aria-current`.
    pub section: &'static str,
}

impl Chrome {
    pub async fn new(admin: &Admin, section: &'static str) -> Result<Self, AdminError> {
        let org = admin.organization().await?;
        let orgs = admin
            .organizations()
            .await?
            .into_iter()
            .filter(|(_, role)| *role != Role::Member)
            .map(|(o, _)| OrgChoice {
                current: o.id == org.id,
                id: o.id,
                name: o.name,
            })
            .collect();
        Ok(Chrome {
            username: admin.username.clone(),
            org_id: org.id,
            org_name: org.name,
            orgs,
            csrf: admin.signed.user.csrf_token.clone(),
            section,
        })
    }
}

/// A message at the top of a page: the outcome of the last action.
pub struct Notice {
    pub error: bool,
    pub text: String,
}

impl Notice {
    pub fn done(text: &str) -> Option<Notice> {
        Some(Notice {
            error: false,
            text: text.to_owned(),
        })
    }

    pub fn error(text: &str) -> Option<Notice> {
        Some(Notice {
            error: true,
            text: text.to_owned(),
        })
    }

    /// The notice a post-redirect-get carries as `?done=…`; only known keys show anything.
    pub fn from_done(t: &Text, key: Option<&str>) -> Option<Notice> {
        let text = match key? {
            "renamed" => t.renamed,
            "revoked" => t.integration_revoked,
            "added" => t.member_added,
            "role" => t.role_changed,
            "removed" => t.member_removed,
            "disabled" => t.user_disabled,
            "enabled" => t.user_enabled,
            "ended" => t.session_ended,
            "ended_all" => t.user_sessions_ended,
            _ => return None,
        };
        Notice::done(text)
    }
}

/// Epoch seconds as `2026-01-30 20:30:59 UTC`.
pub fn utc(epoch_seconds: i64) -> String {
    let iso = crate::clock::format_rfc3339_millis(epoch_seconds);
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

/// Epoch seconds as the `datetime` attribute of `<time>`.
pub fn iso(epoch_seconds: i64) -> String {
    crate::clock::format_rfc3339_millis(epoch_seconds)
}

/// Renders a page (the console's middleware marks every page `no-store`).
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a console page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn render_with<T: Template>(status: StatusCode, template: &T) -> Response {
    let mut response = render(template);
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}

/// A page that shows a secret once. It is the answer to a POST and is never stored.
#[derive(Template)]
#[template(path = "secret.html", config = "src/console/askama.toml")]
pub struct SecretPage {
    pub t: &'static Text,
    pub frame: Frame,
    pub chrome: Chrome,
    pub notice: Option<Notice>,
    pub title: &'static str,
    /// Label and value of what the secret belongs to.
    pub facts: Vec<(&'static str, String)>,
    pub secret_label: &'static str,
    pub secret: String,
    pub warning: &'static str,
    pub back_href: &'static str,
    pub back_label: &'static str,
}

/// A confirmation step before something that cannot be undone.
#[derive(Template)]
#[template(path = "confirm.html", config = "src/console/askama.toml")]
pub struct ConfirmPage {
    pub t: &'static Text,
    pub frame: Frame,
    pub chrome: Chrome,
    pub notice: Option<Notice>,
    pub title: &'static str,
    pub text: &'static str,
    pub facts: Vec<(&'static str, String)>,
    pub action: String,
    pub button: &'static str,
    pub cancel_href: &'static str,
}

#[derive(Template)]
#[template(path = "message.html", config = "src/console/askama.toml")]
struct MessagePage<'a> {
    t: &'static Text,
    frame: Frame,
    title: &'a str,
    message: &'a str,
}

/// A page with one message and a way back into the console.
pub fn message(visit: &Visit, status: StatusCode, title: &str, text: &str) -> Response {
    render_with(
        status,
        &MessagePage {
            t: visit.t(),
            frame: Frame::new(visit),
            title,
            message: text,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_shown_in_utc_to_the_second() {
        assert_eq!(utc(1_769_805_059), "2026-01-30 20:30:59 UTC");
        assert_eq!(iso(1_769_805_059), "2026-01-30T20:30:59.000Z");
    }

    #[test]
    fn only_known_outcomes_become_notices() {
        let t = crate::console::i18n::text(Lang::En);
        assert_eq!(
            Notice::from_done(t, Some("renamed")).unwrap().text,
            t.renamed
        );
        assert!(Notice::from_done(t, Some("<script>")).is_none());
        assert!(Notice::from_done(t, None).is_none());
    }
}
