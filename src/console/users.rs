//! Users: the organization's members with role and status; adding one (a new user's generated
//! password is shown once, in the answer to the POST), changing a role, disabling or enabling an
//! account, and removing a member after a confirmation step.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::i18n::Text;
use super::view::{self, Chrome, ConfirmPage, Frame, Notice, Refusals, SecretPage};
use super::web::{Posted, Signed, see_other};
use crate::auth::Auth;
use crate::auth::admin::AdminError;
use crate::auth::admin::OrgAdmin;
use crate::domain::Member as MemberRecord;
use crate::domain::Role;

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
}

async fn chrome(signed: &Signed, admin: &OrgAdmin) -> Result<Chrome, Response> {
    Chrome::new(signed, admin, "users")
        .await
        .map_err(|e| view::failed(&signed.visit, e))
}

async fn members(signed: &Signed, admin: &OrgAdmin) -> Result<Vec<MemberRecord>, Response> {
    admin
        .members()
        .await
        .map_err(|e| view::failed(&signed.visit, e))
}

async fn render(
    signed: &Signed,
    admin: &OrgAdmin,
    status: StatusCode,
    notice: Option<Notice>,
    username: String,
) -> Result<Response, Response> {
    let t = signed.t();
    let chrome = chrome(signed, admin).await?;
    let rows = members(signed, admin)
        .await?
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
        frame: Frame::new(&signed.visit),
        chrome,
        notice,
        rows,
        roles,
        username,
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

/// Renders the list with the refusal of an action, or the failure page.
async fn refused(
    signed: &Signed,
    admin: &OrgAdmin,
    e: AdminError,
    words: Refusals,
    username: String,
) -> Result<Response, Response> {
    let (status, text) = view::refusal(&signed.visit, e, words)?;
    render(signed, admin, status, Notice::error(text), username).await
}

/// `GET /console/users`.
pub async fn page(
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let admin = signed.admin(&auth).await?;
    let notice = Notice::from_done(signed.t(), query.get("done").map(String::as_str));
    render(&signed, &admin, StatusCode::OK, notice, String::new()).await
}

/// `POST /console/users`: add an existing user, or create one and show its password once.
pub async fn add(State(auth): State<Arc<Auth>>, posted: Posted) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    let username = posted.field("username");
    let role = posted.field("role").parse::<Role>().unwrap_or(Role::Member);
    match admin.add_member(&username, role).await {
        Ok((_, None)) => Ok(see_other("/console/users?done=added")),
        Ok((member, Some(password))) => {
            let page = SecretPage {
                t,
                frame: Frame::new(&signed.visit),
                chrome: chrome(signed, &admin).await?,
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
        Err(e) => {
            // A duplicate is either a member already, or an existing account that only the
            // operator may bring in: one message for it, whatever organizations it belongs to.
            let wanted = username.trim().to_lowercase();
            let is_member = members(signed, &admin)
                .await?
                .iter()
                .any(|m| m.username == wanted);
            let words = Refusals {
                forbidden: t.cannot_make_owner,
                duplicate: if is_member {
                    t.already_member
                } else {
                    t.not_addable
                },
                ..refusals(t)
            };
            refused(signed, &admin, e, words, username).await
        }
    }
}

/// The member `id` of this organization, or the list with a "not a member" notice.
async fn member(signed: &Signed, admin: &OrgAdmin, id: &str) -> Result<MemberRecord, Response> {
    let found = match id.parse::<i64>() {
        Ok(id) => members(signed, admin)
            .await?
            .into_iter()
            .find(|m| m.id == id),
        Err(_) => None,
    };
    match found {
        Some(m) => Ok(m),
        None => {
            let notice = Notice::error(signed.t().member_not_found);
            Err(render(signed, admin, StatusCode::NOT_FOUND, notice, String::new()).await?)
        }
    }
}

/// `POST /console/users/{id}/role`.
pub async fn change_role(
    State(auth): State<Arc<Auth>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    let target = member(signed, &admin, &id).await?;
    let Ok(role) = posted.field("role").parse::<Role>() else {
        let notice = Notice::error(t.internal_error);
        return render(
            signed,
            &admin,
            StatusCode::BAD_REQUEST,
            notice,
            String::new(),
        )
        .await;
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
            refused(signed, &admin, e, words, String::new()).await
        }
    }
}

/// `POST /console/users/{id}/active`: `active=false` disables the account, `true` enables it.
pub async fn set_active(
    State(auth): State<Arc<Auth>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let t = signed.t();
    let target = member(signed, &admin, &id).await?;
    let active = posted.field("active") == "true";
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
            refused(signed, &admin, e, words, String::new()).await
        }
    }
}

/// `GET /console/users/{id}/remove`: the confirmation step.
pub async fn confirm_remove(
    State(auth): State<Arc<Auth>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Response> {
    let admin = signed.admin(&auth).await?;
    let target = member(&signed, &admin, &id).await?;
    let t = signed.t();
    let page = ConfirmPage {
        t,
        frame: Frame::new(&signed.visit),
        chrome: chrome(&signed, &admin).await?,
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
    State(auth): State<Arc<Auth>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let target = member(signed, &admin, &id).await?;
    match admin.remove_member(target.id).await {
        Ok(()) => Ok(see_other("/console/users?done=removed")),
        Err(e) => refused(signed, &admin, e, refusals(signed.t()), String::new()).await,
    }
}

/// `POST /console/users/{id}/sessions/end`: end every open session of a member.
pub async fn end_sessions(
    State(auth): State<Arc<Auth>>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, Response> {
    let signed = &posted.signed;
    let admin = signed.admin(&auth).await?;
    let target = member(signed, &admin, &id).await?;
    match admin.end_user_sessions(target.id).await {
        Ok(_) => Ok(see_other("/console/sessions?done=ended_all")),
        Err(e) => {
            let t = signed.t();
            let words = Refusals {
                forbidden: t.cannot_end_owner_sessions,
                ..refusals(t)
            };
            let (status, text) = view::refusal(&signed.visit, e, words)?;
            super::sessions::render(signed, &admin, status, Notice::error(text)).await
        }
    }
}
