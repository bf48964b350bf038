//! The integration dialect (`POST /auth`): `{"status", "title", "detail", "validation"}`.

use super::*;

/// Why the integration endpoints refused a request.
#[derive(Debug)]
pub enum Error {
    /// The body could not be read as fields.
    Body(BodyError),
    /// Every failing field, at once, with its message.
    Invalid(Vec<(&'static str, &'static str)>),
    /// The use-case refused to issue tokens: `no-store`, as the tokens would have been.
    NotIssued(AuthError),
}

impl From<BodyError> for Error {
    fn from(e: BodyError) -> Self {
        Error::Body(e)
    }
}

/// Every use-case of this dialect issues tokens.
impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::NotIssued(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Body(e) => body(e),
            Error::Invalid(errors) => validation(errors),
            Error::NotIssued(e) => no_store(auth(e)),
        }
    }
}

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
fn validation(errors: Vec<(&'static str, &'static str)>) -> Response {
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

fn body(e: BodyError) -> Response {
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

fn auth(e: AuthError) -> Response {
    match e {
        AuthError::InvalidCredentials
        | AuthError::InvalidClient
        | AuthError::InvalidScope
        | AuthError::InvalidTarget => problem(
            StatusCode::BAD_REQUEST,
            "Invalid consumer key or secret key.",
            Value::Null,
        ),
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
