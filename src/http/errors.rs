//! Error bodies, one mapping per dialect, so that each wire shape lives in one place.

use axum::Json;
use axum::http::header::{ALLOW, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::extract::{BodyError, FieldError};
use crate::auth::AuthError;

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
fn unavailable(retry_after: u64) -> Response {
    with_retry_after(
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"detail": "Service temporarily unavailable, try again later."}),
        ),
        retry_after,
    )
}

/// Logs an internal failure with its cause chain and answers an opaque 500.
pub fn internal(error: &anyhow::Error) -> Response {
    tracing::error!(error = format!("{error:#}"), "internal error");
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

/// The simplejwt dialect (CONTRACT §2 and §7).
pub mod simplejwt {
    use super::*;

    pub fn validation(errors: Vec<(&'static str, FieldError)>) -> Response {
        let body: Map<String, Value> = errors
            .iter()
            .map(|(field, e)| ((*field).to_owned(), json!([field_message(e)])))
            .collect();
        json_response(StatusCode::BAD_REQUEST, Value::Object(body))
    }

    pub fn body(e: BodyError) -> Response {
        match e {
            BodyError::Json(reason) => json_response(
                StatusCode::BAD_REQUEST,
                json!({"detail": format!("JSON parse error - {reason}")}),
            ),
            BodyError::NotAnObject(kind) => json_response(
                StatusCode::BAD_REQUEST,
                json!({"non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")]}),
            ),
            BodyError::UnsupportedMediaType(ct) => json_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"detail": format!("Unsupported media type \"{ct}\" in request.")}),
            ),
            BodyError::TooLarge => too_large(),
            BodyError::Unreadable => json_response(
                StatusCode::BAD_REQUEST,
                json!({"detail": "The request body could not be read."}),
            ),
        }
    }

    /// Errors of the token endpoints.
    pub fn auth(e: AuthError) -> Response {
        match e {
            AuthError::InvalidCredentials => unauthorized(
                json!({"detail": "No active account found with the given credentials"}),
            ),
            AuthError::LockedOut { retry_after } => with_retry_after(
                json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"message": "Rate limit exceeded"}),
                ),
                retry_after,
            ),
            AuthError::InvalidToken => unauthorized(
                json!({"detail": "Token is invalid or expired", "code": "token_not_valid"}),
            ),
            AuthError::Busy => unavailable(1),
            AuthError::Unavailable => unavailable(5),
            AuthError::Internal(e) => internal(&e),
        }
    }

    /// Errors of endpoints authenticated with a bearer access token.
    pub fn bearer(e: AuthError) -> Response {
        match e {
            AuthError::InvalidToken
            | AuthError::InvalidCredentials
            | AuthError::LockedOut { .. } => token_not_valid(),
            other => auth(other),
        }
    }

    pub fn credentials_not_provided() -> Response {
        unauthorized(json!({"detail": "Authentication credentials were not provided."}))
    }

    pub fn bad_authorization_header() -> Response {
        unauthorized(json!({
            "detail": "Authorization header must contain two space-delimited values",
            "code": "bad_authorization_header"
        }))
    }

    pub fn token_not_valid() -> Response {
        unauthorized(json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}]
        }))
    }
}

pub fn too_large() -> Response {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"detail": format!("Request body is larger than {} bytes.", super::extract::MAX_BODY_BYTES)}),
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
