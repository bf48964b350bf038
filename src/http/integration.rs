//! The integration dialect: `POST /auth` with a consumer key and secret key, and the refresh
//! by query string or body.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::both_slashes;
use super::errors::integration::{self as problem, Error};
use super::errors::{field_message, no_store};
use super::extract::ClientAddr;
use super::openapi::schemas::{IntegrationCredentials, IntegrationRefresh, Problem};
use super::openapi::{ProblemBodyRefused, ProblemUnavailable};
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

/// An access and a refresh token with their expirations: UTC, exactly
/// `YYYY-MM-DDTHH:MM:SS.sssZ`, equal to the tokens' `exp`.
#[derive(Serialize, ToSchema)]
pub struct Tokens {
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

/// Log an integration in with its consumer key and secret key.
#[utoipa::path(
    post,
    path = "/auth",
    tag = "integration",
    request_body(content(
        (IntegrationCredentials = "application/json"),
        (IntegrationCredentials = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Tokens.", body = Tokens, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "Invalid fields (in `validation`), a body that is not a JSON object, or a wrong secret, unknown consumer key or revoked integration (`validation: null`).", body = Problem),
        (status = 429, description = "Locked out (`Rate limit exceeded`).", body = Problem,
            headers(("Retry-After" = u64, description = "Whole seconds."))),
        ProblemBodyRefused, ProblemUnavailable,
    ),
)]
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

/// Refresh an integration's tokens: `GET /auth?refresh_token=…`. The query string never
/// reaches a log line: the request log records the path only.
#[utoipa::path(
    get,
    path = "/auth",
    tag = "integration",
    params(("refresh_token" = String, Query, description = "The integration's refresh token.")),
    responses(
        (status = 200, description = "Rotated tokens.", body = Tokens, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A missing or blank `refresh_token`.", body = Problem),
        (status = 401, description = "A bad, expired, consumed or revoked refresh token, or a user's.", body = Problem,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        ProblemUnavailable,
    ),
)]
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

/// Refresh an integration's tokens.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "integration",
    request_body(content(
        (IntegrationRefresh = "application/json"),
        (IntegrationRefresh = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Rotated tokens.", body = Tokens, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "A missing, blank or non-string `refresh_token`, or a body that is not a JSON object.", body = Problem),
        (status = 401, description = "A bad, expired, consumed or revoked refresh token, or a user's.", body = Problem,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))),
        ProblemBodyRefused, ProblemUnavailable,
    ),
)]
async fn refresh_by_body(State(auth): State<Arc<Auth>>, body: Body) -> Result<Response, Error> {
    let fields: Fields = body.0?;
    refresh(&auth, fields.string("refresh_token")).await
}
