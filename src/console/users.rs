//! Users: the organization's members with role and status; adding one (a new user's generated
//! password is shown once, in the answer to the POST), changing a role, disabling or enabling an
//! account, and removing a member after a confirmation step.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;

use super::activity::PAGE_SIZE;
use super::error::{ConsoleError, Refusals, refusal};
use super::extract::{Admin, Form};
use super::i18n::Text;
use super::view::{self, Chrome, ConfirmPage, Frame, Notice, SecretPage};
use super::web::see_other;
use crate::auth::admin::AdminError;
use crate::domain::{Member, Role};

pub struct MemberRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub role_name: &'static str,
    pub active: bool,
    pub is_self: bool,
    /// Whether this administrator may change the membership at all.
    pub changeable: bool,
}

/// A role the administrator may give, for the role menus.
pub struct RoleChoice {
    pub value: &'static str,
    pub name: &'static str,
}

#[derive(Template)]
#[template(path = "users.html", config = "src/console/askama.toml")]
struct UsersPage {
    t: &'static Text,
    frame: Frame,
    chrome: Chrome,
    notice: Option<Notice>,
    rows: Vec<MemberRow>,
    roles: Vec<RoleChoice>,
    /// What was typed into the form to add a member, after a refusal.
    username: String,
    /// The link to the next page, when there is one.
    next: Option<String>,
    /// The link back to the first page, when not on it.
    start: Option<String>,
}

/// The first page of the list, as refusals show it.
async fn render(
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
    username: String,
) -> Result<Response, ConsoleError> {
    render_page(admin, status, notice, username, None).await
}

/// A page of the list (by user id), starting after the member `after`.
async fn render_page(
    admin: &Admin,
    status: StatusCode,
    notice: Option<Notice>,
    username: String,
    after: Option<i64>,
) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let chrome = Chrome::new(admin, "users").await?;
    let mut members = admin
        .members_page(after.unwrap_or(0), PAGE_SIZE as i64 + 1)
        .await?;
    let next = match members.get(PAGE_SIZE - 1) {
        Some(last) if members.len() > PAGE_SIZE => {
            Some(format!("/console/users?after={}", last.id))
        }
        _ => None,
    };
    members.truncate(PAGE_SIZE);
    let rows = members
        .iter()
        .map(|m| MemberRow {
            id: m.id,
            username: m.username.clone(),
            role: m.role.clone(),
            role_name: t.role_name(&m.role),
            active: m.active,
            is_self: m.id == admin.user.get(),
            changeable: admin.may_change(m).is_ok(),
        })
        .collect();
    let mut roles = vec![
        RoleChoice {
            value: "member",
            name: t.role_member,
        },
        RoleChoice {
            value: "admin",
            name: t.role_admin,
        },
    ];
    if admin.role == Role::Owner {
        roles.push(RoleChoice {
            value: "owner",
            name: t.role_owner,
        });
    }
    let page = UsersPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome,
        notice,
        rows,
        roles,
        username,
        next,
        start: after.map(|_| "/console/users".to_owned()),
    };
    Ok(view::render_with(status, &page))
}

fn refusals(t: &'static Text) -> Refusals {
    Refusals {
        invalid: t.invalid_username,
        not_found: t.member_not_found,
        duplicate: t.already_member,
        forbidden: t.cannot_change_member,
    }
}

/// The list again with the refusal of an action, keeping the username typed to add a member.
async fn refused(admin: &Admin, e: AdminError, words: Refusals, username: String) -> ConsoleError {
    let (status, text) = match refusal(e, words) {
        Ok(refused) => refused,
        Err(failure) => return failure,
    };
    match render(admin, status, Notice::error(text), username).await {
        Ok(page) => ConsoleError::refused(page),
        Err(failure) => failure,
    }
}

/// `GET /console/users?after=…`: a page of members by user id, after the member `after` (an
/// unreadable one shows the first page).
pub async fn page(
    admin: Admin,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    let notice = Notice::from_done(admin.t(), query.get("done").map(String::as_str));
    let after = query
        .get("after")
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|a| *a > 0);
    render_page(&admin, StatusCode::OK, notice, String::new(), after).await
}

/// `POST /console/users`: add an existing user, or create one and show its password once.
pub async fn add(Form(admin, fields): Form<Admin>) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let username = fields.get("username");
    let role = fields.get("role").parse::<Role>().unwrap_or(Role::Member);
    let (member, password) = match admin.add_member(&username, role).await {
        Ok((_, None)) => return Ok(see_other("/console/users?done=added")),
        Ok((member, Some(password))) => (member, password),
        Err(e) => {
            // A duplicate is either a member already, or an existing account that only the
            // operator may bring in: one message for it, whatever organizations it belongs to.
            let is_member = admin.member_named(&username).await?.is_some();
            let words = Refusals {
                forbidden: t.cannot_make_owner,
                duplicate: if is_member {
                    t.already_member
                } else {
                    t.not_addable
                },
                ..refusals(t)
            };
            return Err(refused(&admin, e, words, username).await);
        }
    };
    let page = SecretPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "users").await?,
        notice: None,
        title: t.user_created,
        facts: vec![
            (t.username, member.username.clone()),
            (t.role, t.role_name(&member.role).to_owned()),
        ],
        secret_label: t.password,
        secret: password.expose().to_owned(),
        warning: t.password_warning,
        back_href: "/console/users",
        back_label: t.password_copied_back,
    };
    Ok(view::render_with(StatusCode::CREATED, &page))
}

/// The member `id` of this organization, or the list with a "not a member" notice.
async fn member(admin: &Admin, id: &str) -> Result<Member, ConsoleError> {
    let found = match id.parse::<i64>() {
        Ok(id) => admin.member(id).await?,
        Err(_) => None,
    };
    match found {
        Some(m) => Ok(m),
        None => {
            let notice = Notice::error(admin.t().member_not_found);
            let page = render(admin, StatusCode::NOT_FOUND, notice, String::new()).await?;
            Err(ConsoleError::refused(page))
        }
    }
}

/// `POST /console/users/{id}/role`.
pub async fn change_role(
    Path(id): Path<String>,
    Form(admin, fields): Form<Admin>,
) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let target = member(&admin, &id).await?;
    let Ok(role) = fields.get("role").parse::<Role>() else {
        let notice = Notice::error(t.internal_error);
        let page = render(&admin, StatusCode::BAD_REQUEST, notice, String::new()).await?;
        return Err(ConsoleError::refused(page));
    };
    match admin.change_role(target.id, role).await {
        Ok(_) => Ok(see_other("/console/users?done=role")),
        Err(e) => {
            let forbidden = if admin.may_change(&target).is_ok() {
                t.cannot_make_owner
            } else {
                t.cannot_change_member
            };
            let words = Refusals {
                forbidden,
                ..refusals(t)
            };
            Err(refused(&admin, e, words, String::new()).await)
        }
    }
}

/// `POST /console/users/{id}/active`: `active=false` disables the account, `true` enables it.
pub async fn set_active(
    Path(id): Path<String>,
    Form(admin, fields): Form<Admin>,
) -> Result<Response, ConsoleError> {
    let t = admin.t();
    let target = member(&admin, &id).await?;
    let active = fields.get("active") == "true";
    match admin.set_member_active(target.id, active).await {
        Ok(()) if active => Ok(see_other("/console/users?done=enabled")),
        Ok(()) => Ok(see_other("/console/users?done=disabled")),
        Err(e) => {
            // Either a membership this administrator may not change, or an account shared with
            // other organizations, which only its removal from this one may touch.
            let forbidden = if admin.may_change(&target).is_ok() {
                t.belongs_elsewhere
            } else {
                t.cannot_change_member
            };
            let words = Refusals {
                forbidden,
                ..refusals(t)
            };
            Err(refused(&admin, e, words, String::new()).await)
        }
    }
}

/// `GET /console/users/{id}/remove`: the confirmation step.
pub async fn confirm_remove(
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let target = member(&admin, &id).await?;
    let t = admin.t();
    let page = ConfirmPage {
        t,
        frame: Frame::new(admin.visit()),
        chrome: Chrome::new(&admin, "users").await?,
        notice: None,
        title: t.confirm_remove_title,
        text: t.confirm_remove_text,
        facts: vec![
            (t.username, target.username.clone()),
            (t.role, t.role_name(&target.role).to_owned()),
        ],
        action: format!("/console/users/{}/remove", target.id),
        button: t.remove,
        cancel_href: "/console/users",
    };
    Ok(view::render(&page))
}

/// `POST /console/users/{id}/remove`.
pub async fn remove(
    Path(id): Path<String>,
    Form(admin, _): Form<Admin>,
) -> Result<Response, ConsoleError> {
    let target = member(&admin, &id).await?;
    match admin.remove_member(target.id).await {
        Ok(()) => Ok(see_other("/console/users?done=removed")),
        Err(e) => Err(refused(&admin, e, refusals(admin.t()), String::new()).await),
    }
}

/// `POST /console/users/{id}/sessions/end`: end every open session of a member.
pub async fn end_sessions(
    Path(id): Path<String>,
    Form(admin, _): Form<Admin>,
) -> Result<Response, ConsoleError> {
    let target = member(&admin, &id).await?;
    match admin.end_user_sessions(target.id).await {
        Ok(_) => Ok(see_other("/console/sessions?done=ended_all")),
        Err(e) => {
            let t = admin.t();
            let words = Refusals {
                forbidden: t.cannot_end_owner_sessions,
                ..refusals(t)
            };
            let (status, text) = refusal(e, words)?;
            let page = super::sessions::render(&admin, status, Notice::error(text)).await?;
            Err(ConsoleError::refused(page))
        }
    }
}
