//! The simplejwt dialect: the user-login endpoints and `/api/v1/me`. `{"detail": …}`, or
//! `{"<field>": ["<message>"]}` for invalid fields.

use super::*;

/// Why a user-login endpoint refused a request.
#[derive(Debug)]
pub enum Error {
    /// The path names an organization that cannot exist: 404, as if no route matched.
    NotFound,
    /// The body could not be read as fields.
    Body(BodyError),
    /// Every failing field, at once.
    Invalid(Vec<(&'static str, FieldError)>),
    /// The use-case refused.
    Auth(AuthError),
    /// The use-case refused to issue tokens: `no-store`, as the tokens would have been.
    NotIssued(AuthError),
}

impl From<BodyError> for Error {
    fn from(e: BodyError) -> Self {
        Error::Body(e)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::NotFound => not_found(),
            Error::Body(e) => body(e),
            Error::Invalid(errors) => validation(errors),
            Error::Auth(e) => auth(e),
            Error::NotIssued(e) => no_store(auth(e)),
        }
    }
}

/// Why a request that needs a bearer access token (`/api/v1/me`) was refused: in the words of
/// simplejwt's authentication class.
#[derive(Debug)]
pub enum BearerError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// `Bearer` alone, or with more than one value.
    Malformed,
    /// The token, or the use-case behind it, refused.
    Auth(AuthError),
}

impl From<AuthError> for BearerError {
    fn from(e: AuthError) -> Self {
        BearerError::Auth(e)
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        match self {
            BearerError::Missing => credentials_not_provided(),
            BearerError::Malformed => bad_authorization_header(),
            BearerError::Auth(e) => bearer(e),
        }
    }
}

fn validation(errors: Vec<(&'static str, FieldError)>) -> Response {
    let body: Map<String, Value> = errors
        .iter()
        .map(|(field, e)| ((*field).to_owned(), json!([field_message(e)])))
        .collect();
    json_response(StatusCode::BAD_REQUEST, Value::Object(body))
}

fn body(e: BodyError) -> Response {
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
fn auth(e: AuthError) -> Response {
    match e {
        AuthError::InvalidCredentials
        | AuthError::InvalidClient
        | AuthError::InvalidScope
        | AuthError::InvalidTarget => {
            unauthorized(json!({"detail": "No active account found with the given credentials"}))
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
        AuthError::InvalidToken | AuthError::InvalidCredentials | AuthError::LockedOut { .. } => {
            token_not_valid()
        }
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
