//! Error bodies, one module per dialect, so that each wire shape lives in one place: each
//! surface's error type is `IntoResponse` there, and its handlers return it with `?`. What the
//! dialects share (the 404, 405, 413, 500 and 503 answers) is here.

pub mod integration;
pub mod oauth;
pub mod simplejwt;

use axum::Json;
use axum::http::header::{ALLOW, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::AuthError;
use crate::outage::Unavailable;
use crate::request::{BodyError, FieldError};

const BEARER_REALM: HeaderValue = HeaderValue::from_static("Bearer realm=\"api\"");

/// Builds a JSON response with a status.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Marks a response that carries (or may carry) a token as not to be stored by any cache.
pub fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn unauthorized(body: Value) -> Response {
    let mut response = json_response(StatusCode::UNAUTHORIZED, body);
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, BEARER_REALM);
    response
}

/// 503 for a saturated hashing pool or an unreachable database: come back shortly.
pub fn unavailable(retry_after: u64) -> Response {
    with_retry_after(
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"detail": "Service temporarily unavailable, try again later."}),
        ),
        retry_after,
    )
}

/// Marks a 503 as caused by the database, with the cause, for the middleware that keeps the
/// instance unready while the database cannot be used (`health::watch_database`).
pub fn from_database(mut response: Response, cause: Unavailable) -> Response {
    response.extensions_mut().insert(cause);
    response
}

/// Logs an internal failure with its cause chain; no library or database text reaches a client.
pub fn log_internal(error: &anyhow::Error) {
    tracing::error!(error = format!("{error:#}"), "internal error");
}

/// Logs an internal failure and answers an opaque 500.
pub fn internal(error: &anyhow::Error) -> Response {
    log_internal(error);
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"detail": "A server error occurred."}),
    )
}

/// The messages of Django REST framework's `CharField`.
pub fn field_message(e: &FieldError) -> &'static str {
    match e {
        FieldError::Required => "This field is required.",
        FieldError::Null => "This field may not be null.",
        FieldError::Blank => "This field may not be blank.",
        FieldError::NotAString => "Not a valid string.",
    }
}

pub fn too_large() -> Response {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"detail": format!("Request body is larger than {} bytes.", crate::request::MAX_BODY_BYTES)}),
    )
}

pub fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
}

pub fn method_not_allowed(method: &Method, allow: &'static str) -> Response {
    let mut response = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"detail": format!("Method \"{method}\" not allowed.")}),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}
