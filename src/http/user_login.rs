//! The user-login dialect: simplejwt's token, refresh, verify and blacklist.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::errors::simplejwt::Error;
use super::errors::{method_not_allowed, no_store, not_found};
use super::extract::ClientAddr;
use super::openapi::schemas::{
    Detail, Empty, RefreshTokenField, SimpleJwtBadRequest, TokenField, UserCredentials,
};
use super::openapi::{BodyRefused, Unavailable};
use super::{both_slashes, post_only};
use crate::auth::Auth;
use crate::domain::OrgId;
use crate::request::{Body, FieldError, Fields};

pub fn router() -> Router<Arc<Auth>> {
    let r = Router::new();
    // An organization id that cannot exist is 404 whatever the method: the route does not match.
    let obtain_route = post(obtain).fallback(
        |path: Result<Path<String>, PathRejection>, method: Method| async move {
            match path.ok().and_then(|Path(id)| id.parse::<OrgId>().ok()) {
                Some(_) => method_not_allowed(&method, "POST"),
                None => not_found(),
            }
        },
    );
    let r = both_slashes(r, "/api/v1/auth/token/{organization_id}", obtain_route);
    let r = both_slashes(r, "/api/v1/auth/token-refresh", post_only(refresh));
    let r = both_slashes(r, "/api/v1/auth/token-verify", post_only(verify));
    both_slashes(r, "/api/v1/auth/token-blacklist", post_only(blacklist))
}

/// `{"refresh", "access"}`, in that order.
#[derive(Serialize, ToSchema)]
pub struct Pair {
    refresh: String,
    access: String,
}

/// `{"access"}`, and with refresh rotation on the rotated `refresh`.
#[derive(Serialize, ToSchema)]
pub struct Refreshed {
    access: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh: Option<String>,
}

/// Reads the named text fields, refusing with every failing field at once.
fn text_fields<const N: usize>(body: Body, names: [&'static str; N]) -> Result<[String; N], Error> {
    let fields: Fields = body.0?;
    let mut errors: Vec<(&'static str, FieldError)> = Vec::new();
    let values = names.map(|name| {
        fields.text(name).unwrap_or_else(|e| {
            errors.push((name, e));
            String::new()
        })
    });
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Log a user in to an organization.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token/{organization_id}/",
    tag = "simplejwt",
    params(("organization_id" = i64, Path, minimum = 1, description = "The organization.")),
    request_body(content(
        (UserCredentials = "application/json"),
        (UserCredentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "An access and a refresh token.", body = Pair, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Invalid fields (each with its messages), a body that is not JSON, or — with `Retry-After` — a lockout (`{\"message\": \"Rate limit exceeded\"}`).", body = SimpleJwtBadRequest,
            headers(("Retry-After" = u64, description = "Whole seconds, with a lockout."))),
        (status = 401, description = "`No active account found with the given credentials`: one answer for every failed login.", body = Detail,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        (status = 404, description = "The organization id is not a positive 63-bit integer.", body = Detail),
        BodyRefused, Unavailable,
    ),
)]
async fn obtain(
    State(auth): State<Arc<Auth>>,
    organization_id: Result<Path<String>, PathRejection>,
    ClientAddr(client): ClientAddr,
    body: Body,
) -> Result<Response, Error> {
    let org = organization_id
        .ok()
        .and_then(|Path(id)| id.parse::<OrgId>().ok())
        .ok_or(Error::NotFound)?;
    let [username, password] = text_fields(body, ["username", "password"])?;
    let pair = auth
        .login_user(org, &username, SecretString::from(password), client)
        .await
        .map_err(Error::NotIssued)?;
    Ok(no_store(
        Json(Pair {
            refresh: pair.refresh.unwrap_or_default(),
            access: pair.access,
        })
        .into_response(),
    ))
}

/// A new access token for a user's refresh token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token-refresh/",
    tag = "simplejwt",
    request_body(content(
        (RefreshTokenField = "application/json"),
        (RefreshTokenField = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A new access token (and, with rotation on, a new refresh token).", body = Refreshed, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A missing, blank or null field, or a body that is not JSON.", body = SimpleJwtBadRequest),
        (status = 401, description = "`token_not_valid`: a bad, expired, revoked or consumed token, or not a user's refresh token.", body = Detail,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        BodyRefused, Unavailable,
    ),
)]
async fn refresh(State(auth): State<Arc<Auth>>, body: Body) -> Result<Response, Error> {
    let [token] = text_fields(body, ["refresh"])?;
    let pair = auth.refresh_user(&token).await.map_err(Error::NotIssued)?;
    Ok(no_store(
        Json(Refreshed {
            access: pair.access,
            refresh: pair.refresh,
        })
        .into_response(),
    ))
}

/// Check a token's signature, expiry and session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token-verify/",
    tag = "simplejwt",
    request_body(content(
        (TokenField = "application/json"),
        (TokenField = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The token is valid.", body = Empty),
        (status = 400, description = "A missing, blank or null field, or a body that is not JSON.", body = SimpleJwtBadRequest),
        (status = 401, description = "`token_not_valid`.", body = Detail,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        BodyRefused, Unavailable,
    ),
)]
async fn verify(State(auth): State<Arc<Auth>>, body: Body) -> Result<Json<Value>, Error> {
    let [token] = text_fields(body, ["token"])?;
    auth.verify_any(&token).await?;
    Ok(Json(json!({})))
}

/// End the session of a user's refresh token (log out).
#[utoipa::path(
    post,
    path = "/api/v1/auth/token-blacklist/",
    tag = "simplejwt",
    request_body(content(
        (RefreshTokenField = "application/json"),
        (RefreshTokenField = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The session has ended.", body = Empty),
        (status = 400, description = "A missing, blank or null field, or a body that is not JSON.", body = SimpleJwtBadRequest),
        (status = 401, description = "`token_not_valid`.", body = Detail,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        BodyRefused, Unavailable,
    ),
)]
async fn blacklist(State(auth): State<Arc<Auth>>, body: Body) -> Result<Json<Value>, Error> {
    let [token] = text_fields(body, ["refresh"])?;
    auth.blacklist_user_refresh(&token).await?;
    Ok(Json(json!({})))
}
