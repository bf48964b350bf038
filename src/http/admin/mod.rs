//! The admin JSON API under `/api/v1/admin/`: everything the console does, for a bearer access
//! token of an owner or admin, scoped to the token's organization.

mod error;
pub(super) mod members;
mod pages;
pub(super) mod sessions;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::errors::no_store;
use super::extract::{Bearer, ClientAddr};
use super::openapi::admin::CreatedIntegration;
use super::openapi::admin::{IntegrationView, OrganizationView};
use super::openapi::schemas::Detail;
use super::openapi::{BearerRefused, NotAnAdmin, Unavailable};
use crate::auth::Auth;
use crate::auth::admin::AdminError;
use crate::auth::admin::{Access, OrgAdmin};
use crate::domain::Role;
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
        .route(
            "/api/v1/admin/users",
            get(members::users).post(members::add_user),
        )
        .route(
            "/api/v1/admin/users/{id}",
            delete(members::remove_user).patch(members::change_user),
        )
        .route(
            "/api/v1/admin/users/{id}/sessions",
            delete(members::end_user_sessions),
        )
        .route("/api/v1/admin/sessions", get(sessions::sessions))
        .route(
            "/api/v1/admin/sessions/{sid}",
            delete(sessions::end_session),
        )
        .route("/api/v1/admin/activity", get(sessions::activity))
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

pub use error::ApiError;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// A JSON request body, read only once the caller is known to be an administrator. One over the
/// size limit is the API's common 413, not axum's text.
fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    match body {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ApiError::Body(e.to_string())),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(ApiError::TooLarge)
        }
        Err(_) => Err(ApiError::Body("the body could not be read".into())),
    }
}

fn user_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| AdminError::UnknownUser(id.to_owned()).into())
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
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn rename(admin: Admin, body: Result<Bytes, BytesRejection>) -> Result<Json<Value>> {
    let body: Rename = parse(body)?;
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
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        BearerRefused, NotAnAdmin, Unavailable,
    ),
)]
async fn create_integration(admin: Admin, body: Result<Bytes, BytesRejection>) -> Result<Response> {
    let body: NewIntegration = parse(body)?;
    let (record, secret) = admin.create_integration(&body.name, &body.scope).await?;
    let mut out = views::integration(&record);
    out["secret_key"] = json!(secret.expose());
    Ok(no_store((StatusCode::CREATED, Json(out)).into_response()))
}

/// A new secret key (shown once).
#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    consumer_key: String,
    secret_key: String,
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
    let out = RotatedSecret {
        consumer_key: key.to_ascii_lowercase(),
        secret_key: secret.expose().to_owned(),
    };
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
