//! Error bodies, one mapping per dialect, so that each wire shape lives in one place.

use axum::Json;
use axum::http::header::{ALLOW, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::AuthError;
use crate::request::{BodyError, FieldError};
use crate::store::Unavailable;

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
            AuthError::InvalidCredentials | AuthError::InvalidClient | AuthError::InvalidScope => {
                unauthorized(
                    json!({"detail": "No active account found with the given credentials"}),
                )
            }
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
            AuthError::Unavailable(cause) => from_database(unavailable(5), cause),
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

/// The integration dialect (CONTRACT §3): `{"status", "title", "detail", "validation"}`.
pub mod integration {
    use super::*;

    fn problem(status: StatusCode, detail: &str, validation: Value) -> Response {
        json_response(
            status,
            json!({
                "status": status.as_u16(),
                "title": status.canonical_reason().unwrap_or_default(),
                "detail": detail,
                "validation": validation,
            }),
        )
    }

    /// 400 listing each failing field.
    pub fn validation(errors: Vec<(&'static str, &'static str)>) -> Response {
        let list: Vec<Value> = errors
            .into_iter()
            .map(|(field, message)| json!({"field": field, "message": message}))
            .collect();
        problem(
            StatusCode::BAD_REQUEST,
            "The request is invalid.",
            Value::Array(list),
        )
    }

    pub fn body(e: BodyError) -> Response {
        match e {
            BodyError::Json(reason) => problem(
                StatusCode::BAD_REQUEST,
                &format!("JSON parse error - {reason}"),
                Value::Null,
            ),
            BodyError::NotAnObject(_) => problem(
                StatusCode::BAD_REQUEST,
                "The request body must be a JSON object.",
                Value::Null,
            ),
            BodyError::UnsupportedMediaType(ct) => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Unsupported media type \"{ct}\" in request."),
                Value::Null,
            ),
            BodyError::TooLarge => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "Request body is larger than {} bytes.",
                    crate::request::MAX_BODY_BYTES
                ),
                Value::Null,
            ),
            BodyError::Unreadable => problem(
                StatusCode::BAD_REQUEST,
                "The request body could not be read.",
                Value::Null,
            ),
        }
    }

    pub fn auth(e: AuthError) -> Response {
        match e {
            AuthError::InvalidCredentials | AuthError::InvalidClient | AuthError::InvalidScope => {
                problem(
                    StatusCode::BAD_REQUEST,
                    "Invalid consumer key or secret key.",
                    Value::Null,
                )
            }
            AuthError::LockedOut { retry_after } => with_retry_after(
                problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Rate limit exceeded",
                    Value::Null,
                ),
                retry_after,
            ),
            AuthError::InvalidToken => {
                let mut response = problem(
                    StatusCode::UNAUTHORIZED,
                    "Invalid or expired refresh token.",
                    Value::Null,
                );
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, BEARER_REALM);
                response
            }
            AuthError::Busy => unavailable_problem(1),
            AuthError::Unavailable(cause) => from_database(unavailable_problem(5), cause),
            AuthError::Internal(e) => {
                log_internal(&e);
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "A server error occurred.",
                    Value::Null,
                )
            }
        }
    }

    fn unavailable_problem(retry_after: u64) -> Response {
        with_retry_after(
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, try again later.",
                Value::Null,
            ),
            retry_after,
        )
    }

    pub fn method_not_allowed(method: &Method, allow: &'static str) -> Response {
        let mut response = problem(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("Method \"{method}\" not allowed."),
            Value::Null,
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
        response
    }
}

/// OAuth 2 (RFC 6749 §5.2): `{"error", "error_description"}`.
pub mod oauth {
    use super::*;

    pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
        let mut response = json_response(
            status,
            json!({"error": code, "error_description": description}),
        );
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    pub fn invalid_request(description: &str) -> Response {
        error(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_client() -> Response {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"porteiro\""),
        );
        response
    }

    fn temporarily_unavailable(retry_after: u64) -> Response {
        with_retry_after(
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Service temporarily unavailable, try again later.",
            ),
            retry_after,
        )
    }

    pub fn auth(e: AuthError) -> Response {
        match e {
            AuthError::InvalidClient | AuthError::InvalidCredentials => invalid_client(),
            AuthError::InvalidToken => error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid, expired or revoked.",
            ),
            AuthError::InvalidScope => error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The requested scope exceeds the client's scopes.",
            ),
            AuthError::LockedOut { retry_after } => with_retry_after(
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "slow_down",
                    "Rate limit exceeded",
                ),
                retry_after,
            ),
            AuthError::Busy => temporarily_unavailable(1),
            AuthError::Unavailable(cause) => from_database(temporarily_unavailable(5), cause),
            AuthError::Internal(e) => {
                log_internal(&e);
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "A server error occurred.",
                )
            }
        }
    }
}
