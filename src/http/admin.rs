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
use utoipa::ToSchema;

use super::errors::{from_database, internal, json_response, no_store, simplejwt, unavailable};
use super::extract::{Bearer, ClientAddr};
use super::openapi::admin::SessionView;
use super::openapi::admin::{ActivityEvent, CreatedIntegration, CreatedMember, Ended};
use super::openapi::admin::{IntegrationView, MemberView, OrganizationView, RotatedSecret};
use super::openapi::schemas::Detail;
use super::openapi::{BearerRefused, NotAnAdmin, Unavailable};
use crate::auth::admin::AdminError;
use crate::auth::admin::{Access, OrgAdmin};
use crate::auth::{Auth, AuthError};
use crate::clock::format_rfc3339_millis;
use crate::domain::{AuditFilter, OpenSession, Role};
use crate::views;

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

/// The token's organization, with the caller's role.
#[utoipa::path(
    get,
    path = "/api/v1/admin/organization",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organization.", body = OrganizationView),
        (status = 404, description = "The organization is gone.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn organization(admin: Admin) -> Result<Json<Value>> {
    let mut out = views::organization(&admin.organization().await?);
    out["role"] = json!(admin.role.as_str());
    Ok(Json(out))
}

/// `{"name"}`.
#[derive(Deserialize, ToSchema)]
struct Rename {
    name: String,
}

/// Rename the organization (owners only).
#[utoipa::path(
    patch,
    path = "/api/v1/admin/organization",
    tag = "admin",
    request_body(content((Rename = "application/json"))),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The renamed organization.", body = OrganizationView),
        (status = 400, description = "A body that is not the JSON asked for, or a bad name.", body = Detail),
        (status = 404, description = "The organization is gone.", body = Detail),
        (status = 409, description = "The name is taken.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn rename(admin: Admin, body: Bytes) -> Result<Json<Value>> {
    let body: Rename = parse(&body)?;
    let org = admin.rename(&body.name).await?;
    Ok(Json(views::organization(&org)))
}

/// Every organization the caller belongs to, with the caller's role in each.
#[utoipa::path(
    get,
    path = "/api/v1/admin/organizations",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organizations.", body = Vec<OrganizationView>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn organizations(admin: Admin) -> Result<Json<Vec<Value>>> {
    let orgs = admin.organizations().await?;
    let with_role = |(o, role): &(_, Role)| {
        let mut out = views::organization(o);
        out["role"] = json!(role.as_str());
        out
    };
    Ok(Json(orgs.iter().map(with_role).collect()))
}

/// The organization's integrations.
#[utoipa::path(
    get,
    path = "/api/v1/admin/integrations",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The integrations.", body = Vec<IntegrationView>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn integrations(admin: Admin) -> Result<Json<Vec<Value>>> {
    let list = admin.integrations().await?;
    Ok(Json(list.iter().map(views::integration).collect()))
}

/// `{"name", "scope": [...]}`.
#[derive(Deserialize, ToSchema)]
struct NewIntegration {
    name: String,
    #[serde(default)]
    scope: Vec<String>,
}

/// Create an integration; its secret key is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/admin/integrations",
    tag = "admin",
    request_body(content((NewIntegration = "application/json"))),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The integration and its secret key.", body = CreatedIntegration, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A body that is not the JSON asked for, a bad name or scope.", body = Detail),
        (status = 409, description = "A consumer key collision.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn create_integration(admin: Admin, body: Bytes) -> Result<Response> {
    let body: NewIntegration = parse(&body)?;
    let (record, secret) = admin.create_integration(&body.name, &body.scope).await?;
    let mut out = views::integration(&record);
    out["secret_key"] = json!(secret.expose());
    Ok(no_store((StatusCode::CREATED, Json(out)).into_response()))
}

/// A new secret key for an integration, shown this once; the old one stops working.
#[utoipa::path(
    post,
    path = "/api/v1/admin/integrations/{key}/rotate-secret",
    tag = "admin",
    params(("key" = String, Path, description = "The consumer key.")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret key.", body = RotatedSecret, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "The integration is revoked.", body = Detail),
        (status = 404, description = "No such integration in this organization.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn rotate_secret(admin: Admin, Path(key): Path<String>) -> Result<Response> {
    let secret = admin.rotate_integration_secret(&key).await?;
    let out = json!({"consumer_key": key.to_ascii_lowercase(), "secret_key": secret.expose()});
    Ok(no_store(Json(out).into_response()))
}

/// Revoke an integration, ending its sessions.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/integrations/{key}",
    tag = "admin",
    params(("key" = String, Path, description = "The consumer key.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked."),
        (status = 400, description = "The key is not a UUID.", body = Detail),
        (status = 404, description = "No such integration in this organization.", body = Detail),
        (status = 409, description = "Already revoked.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn revoke_integration(admin: Admin, Path(key): Path<String>) -> Result<StatusCode> {
    admin.revoke_integration(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's members.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The members.", body = Vec<MemberView>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn users(admin: Admin) -> Result<Json<Vec<Value>>> {
    let list = admin.members().await?;
    Ok(Json(list.iter().map(views::member).collect()))
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
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn add_user(admin: Admin, body: Bytes) -> Result<Response> {
    let body: NewMember = parse(&body)?;
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
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
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
    let member = admin.members().await?.into_iter().find(|m| m.id == id);
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
async fn remove_user(admin: Admin, Path(id): Path<String>) -> Result<StatusCode> {
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
async fn end_user_sessions(admin: Admin, Path(id): Path<String>) -> Result<Json<Value>> {
    let ended = admin.end_user_sessions(user_id(&id)?).await?;
    Ok(Json(json!({"ended": ended})))
}

/// The organization's open sessions.
#[utoipa::path(
    get,
    path = "/api/v1/admin/sessions",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sessions.", body = Vec<SessionView>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn sessions(admin: Admin) -> Result<Json<Vec<Value>>> {
    let list = admin.sessions().await?;
    Ok(Json(list.iter().map(session_json).collect()))
}

/// End one session.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/sessions/{sid}",
    tag = "admin",
    params(("sid" = String, Path, description = "The session id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Ended."),
        (status = 404, description = "No such open session in this organization.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn end_session(admin: Admin, Path(sid): Path<String>) -> Result<StatusCode> {
    admin.end_session(&sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organization's audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/activity",
    tag = "admin",
    params(("kind" = Option<String>, Query, description = "Only this kind of event."), ("who" = Option<String>, Query, description = "Only events whose actor or subject is this."), ("before" = Option<i64>, Query, description = "Only events older than this id."), ("limit" = Option<i64>, Query, description = "At most this many (default 100).")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The events.", body = Vec<ActivityEvent>),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn activity(admin: Admin, RawQuery(query): RawQuery) -> Result<Json<Vec<Value>>> {
    // Unknown or unreadable parameters are ignored: a filter can only narrow what is shown.
    let mut filter = AuditFilter {
        limit: 100,
        ..Default::default()
    };
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match &*name {
            "kind" if !value.is_empty() => filter.kind = Some(value.to_owned()),
            "who" if !value.is_empty() => filter.who = Some(value.to_lowercase()),
            "before" => filter.before_id = value.parse().ok(),
            "limit" => filter.limit = value.parse().unwrap_or(100),
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
