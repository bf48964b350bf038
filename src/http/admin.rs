//! The admin JSON API under `/api/v1/admin/`: everything the console does, for a bearer access
//! token of an owner or admin, scoped to the token's organization.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::errors::{from_database, internal, json_response, no_store, simplejwt, unavailable};
use super::extract::{Bearer, ClientAddr};
use crate::auth::admin::AdminError;
use crate::auth::admin::{Access, OrgAdmin};
use crate::auth::{Auth, AuthError};
use crate::clock::format_rfc3339_millis;
use crate::domain::{AuditFilter, Member, OpenSession, Role, SessionCursor};
use crate::views;
use pages::PageQuery;

mod pages;

pub fn router() -> Router<Arc<Auth>> {
    Router::new()
        .route(
            "/api/v1/admin/organization",
            get(organization).patch(rename),
        )
        .route("/api/v1/admin/organizations", get(organizations))
        .route(
            "/api/v1/admin/integrations",
            get(integrations).post(create_integration),
        )
        .route(
            "/api/v1/admin/integrations/{key}",
            delete(revoke_integration),
        )
        .route(
            "/api/v1/admin/integrations/{key}/rotate-secret",
            post(rotate_secret),
        )
        .route("/api/v1/admin/users", get(users).post(add_user))
        .route(
            "/api/v1/admin/users/{id}",
            delete(remove_user).patch(change_user),
        )
        .route(
            "/api/v1/admin/users/{id}/sessions",
            delete(end_user_sessions),
        )
        .route("/api/v1/admin/sessions", get(sessions))
        .route("/api/v1/admin/sessions/{sid}", delete(end_session))
        .route("/api/v1/admin/activity", get(activity))
}

/// The owner or admin behind the request's bearer token, acting on the token's organization.
pub struct Admin(OrgAdmin);

impl std::ops::Deref for Admin {
    type Target = OrgAdmin;

    fn deref(&self) -> &OrgAdmin {
        &self.0
    }
}

impl FromRequestParts<Arc<Auth>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Self, ApiError> {
        let Ok(bearer) = Bearer::from_request_parts(parts, auth).await;
        let Ok(ClientAddr(client)) = ClientAddr::from_request_parts(parts, auth).await;
        let token = match bearer {
            Bearer::Missing => return Err(ApiError::NoCredentials),
            Bearer::Malformed => return Err(ApiError::BadAuthorizationHeader),
            Bearer::Token(token) => token,
        };
        match auth.org_admin_by_token(&token, client).await {
            Ok(admin) => Ok(Admin(admin)),
            Err(Access::Unauthenticated(e)) => Err(ApiError::Unauthenticated(e)),
            Err(Access::Forbidden) => Err(ApiError::NotAnAdmin),
        }
    }
}

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// A JSON request body, read only once the caller is known to be an administrator.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Body(e.to_string()))
}

fn user_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| AdminError::UnknownUser(id.to_owned()).into())
}

/// Why an admin API request failed: a refused or failed use-case, or a request this API cannot
/// read.
#[derive(Debug)]
pub enum ApiError {
    /// No bearer token.
    NoCredentials,
    /// An `Authorization` header that is not one bearer token.
    BadAuthorizationHeader,
    /// A token that is not a valid access token of an open session (or a failure checking it).
    Unauthenticated(AuthError),
    /// Someone who is not an owner or admin of the token's organization.
    NotAnAdmin,
    Admin(AdminError),
    /// A body that is not the JSON asked for, with the parser's reason.
    Body(String),
    /// A change of a member that gives neither a role nor `active`.
    NothingToChange,
    /// A list's `limit`, `after` or `before` that is not one, named.
    BadPageParameter(&'static str),
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        ApiError::Admin(e)
    }
}

/// The status of a refused administrative change.
fn status(e: &AdminError) -> StatusCode {
    match e {
        AdminError::Malformed(_)
        | AdminError::BadName(_)
        | AdminError::PasswordChoiceNeeded { .. }
        | AdminError::IntegrationRevoked(_) => StatusCode::BAD_REQUEST,
        AdminError::UnknownOrganization(_)
        | AdminError::OrganizationGone
        | AdminError::UnknownUser(_)
        | AdminError::UnknownMember(_)
        | AdminError::NotMember { .. }
        | AdminError::UnknownIntegration(_)
        | AdminError::UnknownSession => StatusCode::NOT_FOUND,
        AdminError::OrganizationNameTaken(_)
        | AdminError::AlreadyMember(_)
        | AdminError::UsernameTaken(_)
        | AdminError::NotAddable
        | AdminError::ConsumerKeyCollision
        | AdminError::IntegrationAlreadyRevoked(_) => StatusCode::CONFLICT,
        AdminError::OwnersOnly(_) | AdminError::OwnMembership | AdminError::BelongsElsewhere => {
            StatusCode::FORBIDDEN
        }
        AdminError::Busy | AdminError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        failure(self)
    }
}

fn failure(e: ApiError) -> Response {
    let e = match e {
        ApiError::NoCredentials => return simplejwt::credentials_not_provided(),
        ApiError::BadAuthorizationHeader => return simplejwt::bad_authorization_header(),
        ApiError::Unauthenticated(e) => return simplejwt::bearer(e),
        ApiError::NotAnAdmin => {
            let detail = "You do not have permission to perform this action.";
            return json_response(StatusCode::FORBIDDEN, json!({"detail": detail}));
        }
        ApiError::Body(reason) => {
            let detail = format!("invalid JSON body: {reason}");
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::NothingToChange => {
            let detail = "give a role or active";
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::BadPageParameter(name) => {
            let detail = format!("invalid {name}");
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::Admin(e) => e,
    };
    match e {
        // The answer of a login when the hashing threads are all taken.
        AdminError::Busy => unavailable(1),
        AdminError::Unavailable(cause) => from_database(unavailable(5), cause),
        AdminError::Internal(e) => internal(&e),
        refused => json_response(status(&refused), json!({"detail": refused.to_string()})),
    }
}

pub fn session_json(s: &OpenSession) -> Value {
    json!({
        "sid": s.sid,
        "type": s.kind,
        "who": s.who,
        "integration_name": s.integration_name,
        "started": format_rfc3339_millis(s.created_at),
        "last_used": format_rfc3339_millis(s.last_used_at),
        "client_address": s.client_addr,
    })
}

async fn organization(admin: Admin) -> Result<Json<Value>> {
    let mut out = views::organization(&admin.organization().await?);
    out["role"] = json!(admin.role.as_str());
    Ok(Json(out))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

async fn rename(admin: Admin, body: Bytes) -> Result<Json<Value>> {
    let body: Rename = parse(&body)?;
    let org = admin.rename(&body.name).await?;
    Ok(Json(views::organization(&org)))
}

async fn organizations(admin: Admin) -> Result<Json<Vec<Value>>> {
    let orgs = admin.organizations().await?;
    let with_role = |(o, role): &(_, Role)| {
        let mut out = views::organization(o);
        out["role"] = json!(role.as_str());
        out
    };
    Ok(Json(orgs.iter().map(with_role).collect()))
}

async fn integrations(admin: Admin) -> Result<Json<Vec<Value>>> {
    let list = admin.integrations().await?;
    Ok(Json(list.iter().map(views::integration).collect()))
}

#[derive(Deserialize)]
struct NewIntegration {
    name: String,
    #[serde(default)]
    scope: Vec<String>,
}

async fn create_integration(admin: Admin, body: Bytes) -> Result<Response> {
    let body: NewIntegration = parse(&body)?;
    let (record, secret) = admin.create_integration(&body.name, &body.scope).await?;
    let mut out = views::integration(&record);
    out["secret_key"] = json!(secret.expose());
    Ok(no_store((StatusCode::CREATED, Json(out)).into_response()))
}

async fn rotate_secret(admin: Admin, Path(key): Path<String>) -> Result<Response> {
    let secret = admin.rotate_integration_secret(&key).await?;
    let out = json!({"consumer_key": key.to_ascii_lowercase(), "secret_key": secret.expose()});
    Ok(no_store(Json(out).into_response()))
}

async fn revoke_integration(admin: Admin, Path(key): Path<String>) -> Result<StatusCode> {
    admin.revoke_integration(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn users(admin: Admin, RawQuery(query): RawQuery) -> Result<Response> {
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

#[derive(Deserialize)]
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

async fn add_user(admin: Admin, body: Bytes) -> Result<Response> {
    let body: NewMember = parse(&body)?;
    let (member, password) = admin.add_member(&body.username, role(&body.role)?).await?;
    let mut out = views::member(&member);
    if let Some(password) = password {
        out["password"] = json!(password.expose());
    }
    Ok(no_store((StatusCode::CREATED, Json(out)).into_response()))
}

#[derive(Deserialize)]
struct MemberChange {
    role: Option<String>,
    active: Option<bool>,
}

async fn change_user(
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Option<Value>>> {
    let id = user_id(&id)?;
    let body: MemberChange = parse(&body)?;
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

async fn remove_user(admin: Admin, Path(id): Path<String>) -> Result<StatusCode> {
    admin.remove_member(user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_user_sessions(admin: Admin, Path(id): Path<String>) -> Result<Json<Value>> {
    let ended = admin.end_user_sessions(user_id(&id)?).await?;
    Ok(Json(json!({"ended": ended})))
}

async fn sessions(admin: Admin, RawQuery(query): RawQuery) -> Result<Response> {
    let page = PageQuery::parse(query.as_deref())?;
    let before = match page.before.as_deref() {
        None => None,
        Some(before) => Some(
            before
                .parse::<SessionCursor>()
                .map_err(|()| ApiError::BadPageParameter("before"))?,
        ),
    };
    let list = admin.sessions_page(before.as_ref(), page.limit + 1).await?;
    let cursor = ("before", |s: &OpenSession| {
        SessionCursor::after(s).to_string()
    });
    Ok(page.answer(list, "/api/v1/admin/sessions", cursor, session_json))
}

async fn end_session(admin: Admin, Path(sid): Path<String>) -> Result<StatusCode> {
    admin.end_session(&sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn activity(admin: Admin, RawQuery(query): RawQuery) -> Result<Json<Vec<Value>>> {
    // A malformed page (`limit`, `before`) is refused, as for every list; unknown parameters
    // are ignored, and an unknown kind or user only narrows what is shown.
    let page = PageQuery::parse(query.as_deref())?;
    let before_id = match page.before.as_deref() {
        None => None,
        Some(before) => match before.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => return Err(ApiError::BadPageParameter("before")),
        },
    };
    let mut filter = AuditFilter {
        limit: page.limit,
        before_id,
        ..Default::default()
    };
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match &*name {
            "kind" if !value.is_empty() => filter.kind = Some(value.to_owned()),
            "who" if !value.is_empty() => filter.who = Some(value.to_lowercase()),
            _ => {}
        }
    }
    let events = admin.activity(&filter).await?;
    Ok(Json(
        events
            .iter()
            .map(|(id, e)| {
                json!({
                    "id": id,
                    "at": format_rfc3339_millis(e.at),
                    "kind": e.kind,
                    "actor": e.actor,
                    "subject": e.subject,
                    "client_address": e.client_addr,
                })
            })
            .collect(),
    ))
}
