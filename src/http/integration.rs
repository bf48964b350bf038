//! The integration dialect: `POST /auth` with a consumer key and secret key, and the refresh
//! by query string or body.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use axum::{Json, Router};
use serde::Serialize;

use super::both_slashes;
use super::errors::integration::{self as problem, Error};
use super::errors::{field_message, no_store};
use super::extract::ClientAddr;
use crate::auth::{Auth, TokenPair};
use crate::clock::format_rfc3339_millis;
use crate::domain::{ConsumerKey, SecretKey};
use crate::request::{Body, FieldError, Fields};

pub fn router() -> Router<Arc<Auth>> {
    let auth: MethodRouter<Arc<Auth>> = post(obtain)
        .get(refresh_by_query)
        .fallback(|m: Method| async move { problem::method_not_allowed(&m, "GET, POST") });
    let refresh: MethodRouter<Arc<Auth>> = post(refresh_by_body)
        .fallback(|m: Method| async move { problem::method_not_allowed(&m, "POST") });
    let r = both_slashes(Router::new(), "/auth", auth);
    both_slashes(r, "/auth/refresh", refresh)
}

#[derive(Serialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
    expiration_access_token: String,
    expiration_refresh_token: String,
}

fn tokens(pair: TokenPair) -> Response {
    no_store(
        Json(Tokens {
            access_token: pair.access,
            refresh_token: pair.refresh.unwrap_or_default(),
            expiration_access_token: format_rfc3339_millis(pair.access_exp),
            expiration_refresh_token: format_rfc3339_millis(pair.refresh_exp),
        })
        .into_response(),
    )
}

async fn obtain(
    State(auth): State<Arc<Auth>>,
    ClientAddr(client): ClientAddr,
    body: Body,
) -> Result<Response, Error> {
    let fields: Fields = body.0?;
    let mut errors = Vec::new();
    let key = match fields.text("consumer_key") {
        Ok(raw) => ConsumerKey::parse(raw.trim())
            .map_err(|_| errors.push(("consumer_key", "Must be a valid UUID.")))
            .ok(),
        Err(e) => {
            errors.push(("consumer_key", field_message(&e)));
            None
        }
    };
    let secret = match fields.string("secret_key") {
        Ok(raw) => Some(SecretKey::from_presented(raw)),
        Err(FieldError::NotAString) => {
            errors.push(("secret_key", "Must be a string."));
            None
        }
        Err(e) => {
            errors.push(("secret_key", field_message(&e)));
            None
        }
    };
    let (Some(key), Some(secret)) = (key, secret) else {
        return Err(Error::Invalid(errors));
    };
    Ok(tokens(auth.login_integration(&key, &secret, client).await?))
}

async fn refresh(auth: &Auth, token: Result<String, FieldError>) -> Result<Response, Error> {
    let token = token.map_err(|e| {
        let message = match e {
            FieldError::NotAString => "Must be a string.",
            e => field_message(&e),
        };
        Error::Invalid(vec![("refresh_token", message)])
    })?;
    Ok(tokens(auth.refresh_integration(&token, None).await?))
}

/// `GET /auth?refresh_token=…`. The query string never reaches a log line: the request log
/// records the path only.
async fn refresh_by_query(
    State(auth): State<Arc<Auth>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let value = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.into_owned())
            .last()
    });
    let token = match value {
        None => Err(FieldError::Required),
        Some(v) if v.trim().is_empty() => Err(FieldError::Blank),
        Some(v) => Ok(v),
    };
    refresh(&auth, token).await
}

async fn refresh_by_body(State(auth): State<Arc<Auth>>, body: Body) -> Result<Response, Error> {
    let fields: Fields = body.0?;
    refresh(&auth, fields.string("refresh_token")).await
}
