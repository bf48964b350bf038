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

use super::errors::simplejwt::Error;
use super::errors::{method_not_allowed, no_store, not_found};
use super::extract::ClientAddr;
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
#[derive(Serialize)]
struct Pair {
    refresh: String,
    access: String,
}

#[derive(Serialize)]
struct Refreshed {
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

async fn verify(State(auth): State<Arc<Auth>>, body: Body) -> Result<Json<Value>, Error> {
    let [token] = text_fields(body, ["token"])?;
    auth.verify_any(&token).await?;
    Ok(Json(json!({})))
}

async fn blacklist(State(auth): State<Arc<Auth>>, body: Body) -> Result<Json<Value>, Error> {
    let [token] = text_fields(body, ["refresh"])?;
    auth.blacklist_user_refresh(&token).await?;
    Ok(Json(json!({})))
}
