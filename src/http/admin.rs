//! The admin JSON API under `/api/v1/admin/`: everything the console does, for a bearer access
//! token of an owner or admin, scoped to the token's organization.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::errors::{from_database, internal, json_response, simplejwt, unavailable};
use super::extract::{Bearer, ClientAddr};
use crate::auth::Auth;
use crate::auth::admin::AdminError;
use crate::auth::manage::{Access, OrgAdmin};
use crate::clock::format_rfc3339_millis;
use crate::domain::Role;
use crate::store::{AuditFilter, IntegrationRecord, MemberRecord, OpenSession};

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

/// The administrator behind the request's bearer token, or the answer that refuses them.
async fn admin<'a>(
    auth: &'a Auth,
    bearer: Bearer,
    client: ClientAddr,
) -> Result<OrgAdmin<'a>, Response> {
    let token = match bearer {
        Bearer::Missing => return Err(simplejwt::credentials_not_provided()),
        Bearer::Malformed => return Err(simplejwt::bad_authorization_header()),
        Bearer::Token(token) => token,
    };
    auth.org_admin_by_token(&token, client.0)
        .await
        .map_err(|e| match e {
            Access::Unauthenticated(e) => simplejwt::bearer(e),
            Access::Forbidden => json_response(
                StatusCode::FORBIDDEN,
                json!({"detail": "You do not have permission to perform this action."}),
            ),
        })
}

/// A JSON request body, read only once the caller is known to be an administrator.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("invalid JSON body: {e}")))
}

fn user_id(id: &str) -> Result<i64, AdminError> {
    id.parse()
        .map_err(|_| AdminError::NotFound(format!("there is no user {id}")))
}

fn failure(e: AdminError) -> Response {
    let (status, detail) = match e {
        AdminError::Invalid(m) => (StatusCode::BAD_REQUEST, m),
        AdminError::NotFound(m) => (StatusCode::NOT_FOUND, m),
        AdminError::Duplicate(m) => (StatusCode::CONFLICT, m),
        AdminError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
        AdminError::Unavailable(cause) => return from_database(unavailable(5), cause),
        AdminError::Internal(e) => return internal(&e),
    };
    json_response(status, json!({"detail": detail}))
}

/// Runs an admin use-case and renders its result, or its failure.
macro_rules! respond {
    ($state:expr, $bearer:expr, $client:expr, |$admin:ident| $body:expr) => {{
        let $admin = match admin(&$state, $bearer, $client).await {
            Ok(admin) => admin,
            Err(response) => return response,
        };
        match $body {
            Ok(response) => response,
            Err(e) => failure(e),
        }
    }};
}

pub fn integration_json(i: &IntegrationRecord) -> Value {
    json!({
        "consumer_key": i.consumer_key,
        "name": i.name,
        "org_id": i.org_id.get(),
        "scope": i.scopes.items(),
        "created": format_rfc3339_millis(i.created_at),
        "last_used": i.last_used_at.map(format_rfc3339_millis),
        "revoked": i.revoked_at.map(format_rfc3339_millis),
        "status": if i.revoked_at.is_some() { "revoked" } else { "active" },
    })
}

pub fn member_json(m: &MemberRecord) -> Value {
    json!({"id": m.id, "username": m.username, "org_id": m.org_id, "role": m.role, "active": m.active})
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

async fn organization(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .organization()
        .await
        .map(|org| {
            Json(json!({"id": org.id, "name": org.name, "role": admin.role.as_str()}))
                .into_response()
        }))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

async fn rename(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    body: Bytes,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        let body: Rename = parse(&body)?;
        let org = admin.rename(&body.name).await?;
        Ok(Json(json!({"id": org.id, "name": org.name})).into_response())
    }
    .await)
}

async fn organizations(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .organizations()
        .await
        .map(|orgs| {
            let list: Vec<Value> = orgs
                .iter()
                .map(|(o, role)| json!({"id": o.id, "name": o.name, "role": role.as_str()}))
                .collect();
            Json(list).into_response()
        }))
}

async fn integrations(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .integrations()
        .await
        .map(|list| Json(
            list.iter().map(integration_json).collect::<Vec<_>>()
        )
        .into_response()))
}

#[derive(Deserialize)]
struct NewIntegration {
    name: String,
    #[serde(default)]
    scope: Vec<String>,
}

async fn create_integration(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    body: Bytes,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        let body: NewIntegration = parse(&body)?;
        let (record, secret) = admin.create_integration(&body.name, &body.scope).await?;
        let mut out = integration_json(&record);
        out["secret_key"] = json!(secret.expose());
        Ok(super::errors::no_store(
            (StatusCode::CREATED, Json(out)).into_response(),
        ))
    }
    .await)
}

async fn rotate_secret(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(key): Path<String>,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .rotate_integration_secret(&key)
        .await
        .map(|secret| super::errors::no_store(
            Json(json!({"consumer_key": key.to_ascii_lowercase(), "secret_key": secret.expose()}))
                .into_response()
        )))
}

async fn revoke_integration(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(key): Path<String>,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .revoke_integration(&key)
        .await
        .map(|()| StatusCode::NO_CONTENT.into_response()))
}

async fn users(State(auth): State<Arc<Auth>>, bearer: Bearer, client: ClientAddr) -> Response {
    respond!(auth, bearer, client, |admin| admin.members().await.map(
        |list| Json(list.iter().map(member_json).collect::<Vec<_>>()).into_response()
    ))
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
    s.parse()
        .map_err(|e: crate::domain::ParseError| AdminError::Invalid(e.0))
}

async fn add_user(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    body: Bytes,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        let body: NewMember = parse(&body)?;
        let (member, password) = admin.add_member(&body.username, role(&body.role)?).await?;
        let mut out = member_json(&member);
        if let Some(password) = password {
            out["password"] = json!(password.expose());
        }
        Ok(super::errors::no_store(
            (StatusCode::CREATED, Json(out)).into_response(),
        ))
    }
    .await)
}

#[derive(Deserialize)]
struct MemberChange {
    role: Option<String>,
    active: Option<bool>,
}

async fn change_user(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        let id = user_id(&id)?;
        let body: MemberChange = parse(&body)?;
        if body.role.is_none() && body.active.is_none() {
            return Err(AdminError::Invalid("give a role or active".into()));
        }
        if let Some(r) = &body.role {
            admin.change_role(id, role(r)?).await?;
        }
        if let Some(active) = body.active {
            admin.set_member_active(id, active).await?;
        }
        let member = admin.members().await?.into_iter().find(|m| m.id == id);
        Ok(Json(member.as_ref().map(member_json)).into_response())
    }
    .await)
}

async fn remove_user(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        admin.remove_member(user_id(&id)?).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await)
}

async fn end_user_sessions(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(id): Path<String>,
) -> Response {
    respond!(auth, bearer, client, |admin| async {
        let ended = admin.end_user_sessions(user_id(&id)?).await?;
        Ok(Json(json!({"ended": ended})).into_response())
    }
    .await)
}

async fn sessions(State(auth): State<Arc<Auth>>, bearer: Bearer, client: ClientAddr) -> Response {
    respond!(auth, bearer, client, |admin| admin.sessions().await.map(
        |list| Json(list.iter().map(session_json).collect::<Vec<_>>()).into_response()
    ))
}

async fn end_session(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    Path(sid): Path<String>,
) -> Response {
    respond!(auth, bearer, client, |admin| admin
        .end_session(&sid)
        .await
        .map(|()| StatusCode::NO_CONTENT.into_response()))
}

async fn activity(
    State(auth): State<Arc<Auth>>,
    bearer: Bearer,
    client: ClientAddr,
    RawQuery(query): RawQuery,
) -> Response {
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
    respond!(auth, bearer, client, |admin| admin
        .activity(&filter)
        .await
        .map(|events| {
            let list: Vec<Value> = events
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
                .collect();
            Json(list).into_response()
        }))
}
