//! The user-login dialect (CONTRACT §2): simplejwt's token, refresh, verify and blacklist.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::errors::{method_not_allowed, no_store, not_found, simplejwt};
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

/// Reads the named text fields, answering 400 with every failing field at once.
fn text_fields<const N: usize>(
    body: Body,
    names: [&'static str; N],
) -> Result<[String; N], Response> {
    let fields: Fields = body.0.map_err(simplejwt::body)?;
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
        Err(simplejwt::validation(errors))
    }
}

async fn obtain(
    State(auth): State<Arc<Auth>>,
    organization_id: Result<Path<String>, PathRejection>,
    ClientAddr(client): ClientAddr,
    body: Body,
) -> Response {
    let Some(org) = organization_id
        .ok()
        .and_then(|Path(id)| id.parse::<OrgId>().ok())
    else {
        return not_found();
    };
    let [username, password] = match text_fields(body, ["username", "password"]) {
        Ok(values) => values,
        Err(response) => return response,
    };
    let result = auth
        .login_user(org, &username, SecretString::from(password), client)
        .await;
    no_store(match result {
        Ok(pair) => Json(Pair {
            refresh: pair.refresh.unwrap_or_default(),
            access: pair.access,
        })
        .into_response(),
        Err(e) => simplejwt::auth(e),
    })
}

async fn refresh(State(auth): State<Arc<Auth>>, body: Body) -> Response {
    let [token] = match text_fields(body, ["refresh"]) {
        Ok(values) => values,
        Err(response) => return response,
    };
    no_store(match auth.refresh_user(&token).await {
        Ok(pair) => Json(Refreshed {
            access: pair.access,
            refresh: pair.refresh,
        })
        .into_response(),
        Err(e) => simplejwt::auth(e),
    })
}

async fn verify(State(auth): State<Arc<Auth>>, body: Body) -> Response {
    let [token] = match text_fields(body, ["token"]) {
        Ok(values) => values,
        Err(response) => return response,
    };
    match auth.verify_any(&token).await {
        Ok(()) => (StatusCode::OK, Json(json!({}))).into_response(),
        Err(e) => simplejwt::auth(e),
    }
}

async fn blacklist(State(auth): State<Arc<Auth>>, body: Body) -> Response {
    let [token] = match text_fields(body, ["refresh"]) {
        Ok(values) => values,
        Err(response) => return response,
    };
    match auth.blacklist_user_refresh(&token).await {
        Ok(()) => (StatusCode::OK, Json(json!({}))).into_response(),
        Err(e) => simplejwt::auth(e),
    }
}
