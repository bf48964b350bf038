//! `/api/v1/admin/users`: the organization's members.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::pages::PageQuery;
use super::{Admin, ApiError, Result, parse, user_id};
use crate::auth::admin::AdminError;
use crate::domain::{Member, Role};
use crate::http::errors::no_store;
use crate::http::openapi::admin::{CreatedMember, MemberView};
use crate::http::openapi::schemas::Detail;
use crate::http::openapi::{BearerRefused, NotAnAdmin, Unavailable};
use crate::views;

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct Ended {
    ended: usize,
}

/// The organization's members by user id, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    params(
        ("after" = Option<i64>, Query, description = "Only members whose user id is greater than this: the `after` of the `Link` to the next page."),
        ("limit" = Option<i64>, Query, description = "At most this many (default 100; above 500 reads 500)."),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of members.", body = Vec<MemberView>,
            headers(("Link" = String, description = "`</api/v1/admin/users?limit=N&after=ID>; rel=\"next\"` when there is a next page (RFC 8288)."))),
        (status = 400, description = "`{\"detail\": \"invalid limit\"}` (or `after`): not a positive integer.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn users(admin: Admin, RawQuery(query): RawQuery) -> Result<Response> {
    let page = PageQuery::parse(query.as_deref())?;
    let after = match page.after.as_deref() {
        None => 0,
        Some(after) => after
            .parse::<i64>()
            .map_err(|_| ApiError::BadPageParameter("after"))?,
    };
    let list = admin.members_page(after, page.limit + 1).await?;
    let cursor = ("after", |m: &Member| m.id.to_string());
    Ok(page.answer(list, "/api/v1/admin/users", cursor, views::member))
}

/// `{"username", "role"}`; the role defaults to `member`.
#[derive(Deserialize, ToSchema)]
struct NewMember {
    username: String,
    #[serde(default = "member_role")]
    role: String,
}

fn member_role() -> String {
    "member".into()
}

fn role(s: &str) -> Result<Role, AdminError> {
    s.parse().map_err(AdminError::Malformed)
}

/// Add a member: a new account with a generated password (shown this once), or an existing one.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    request_body(content((NewMember = "application/json"))),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The member.", body = CreatedMember, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A body that is not the JSON asked for, a bad username or role, or an existing account that needs a password choice.", body = Detail),
        (status = 409, description = "Already a member, or the username cannot be added.", body = Detail),
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn add_user(
    admin: Admin,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let body: NewMember = parse(body)?;
    let (member, password) = admin.add_member(&body.username, role(&body.role)?).await?;
    let mut out = views::member(&member);
    if let Some(password) = password {
        out["password"] = json!(password.expose());
    }
    Ok(no_store((StatusCode::CREATED, Json(out)).into_response()))
}

/// `{"role"}`, `{"active"}` or both.
#[derive(Deserialize, ToSchema)]
struct MemberChange {
    role: Option<String>,
    active: Option<bool>,
}

/// Change a member's role, or enable or disable the account.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    params(("id" = i64, Path, description = "The user id.")),
    request_body(content((MemberChange = "application/json"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member as it now is (null if it is no longer one).", body = Option<MemberView>),
        (status = 400, description = "A body that is not the JSON asked for, neither `role` nor `active`, or a bad role.", body = Detail),
        (status = 404, description = "No such member.", body = Detail),
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn change_user(
    admin: Admin,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Option<Value>>> {
    let id = user_id(&id)?;
    let body: MemberChange = parse(body)?;
    if body.role.is_none() && body.active.is_none() {
        return Err(ApiError::NothingToChange);
    }
    if let Some(r) = &body.role {
        admin.change_role(id, role(r)?).await?;
    }
    if let Some(active) = body.active {
        admin.set_member_active(id, active).await?;
    }
    let member = admin.member(id).await?;
    Ok(Json(member.as_ref().map(views::member)))
}

/// Remove a member from the organization, ending their sessions in it.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    params(("id" = i64, Path, description = "The user id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such member.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn remove_user(admin: Admin, Path(id): Path<String>) -> Result<StatusCode> {
    admin.remove_member(user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of a member in this organization.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/users/{id}/sessions",
    tag = "admin",
    params(("id" = i64, Path, description = "The user id.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many sessions ended.", body = Ended),
        (status = 404, description = "No such member.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
pub(super) async fn end_user_sessions(admin: Admin, Path(id): Path<String>) -> Result<Json<Ended>> {
    let ended = admin.end_user_sessions(user_id(&id)?).await?;
    Ok(Json(Ended { ended }))
}
