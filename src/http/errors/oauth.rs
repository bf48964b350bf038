//! OAuth 2 (RFC 6749 §5.2): `{"error", "error_description"}`.

use super::*;

/// Why an OAuth endpoint refused a request.
#[derive(Debug)]
pub enum Error {
    /// A body over the size limit: the API's common 413.
    TooLarge,
    /// A body that is not `application/x-www-form-urlencoded`.
    NotAForm,
    /// A required field that is missing (or not one string).
    Missing(&'static str),
    /// HTTP Basic and `client_secret` in the body at once.
    TwoClientAuthentications,
    /// Client credentials that cannot be read, or none.
    InvalidClient,
    /// A grant type other than `client_credentials` and `refresh_token`.
    UnsupportedGrantType,
    /// A `scope` that is present but blank or malformed: refused, never widened.
    MalformedScope,
    /// The use-case refused.
    Auth(AuthError),
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::TooLarge => too_large(),
            Error::NotAForm => {
                invalid_request("The body must be application/x-www-form-urlencoded.")
            }
            Error::Missing(field) => invalid_request(&format!("{field} is required.")),
            Error::TwoClientAuthentications => {
                invalid_request("Use one client authentication method, not two.")
            }
            Error::InvalidClient => invalid_client(),
            Error::UnsupportedGrantType => error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Supported grant types: client_credentials, refresh_token.",
            ),
            Error::MalformedScope => error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The scope is malformed.",
            ),
            Error::Auth(e) => auth(e),
        }
    }
}

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

fn invalid_request(description: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> Response {
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

fn auth(e: AuthError) -> Response {
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
        AuthError::InvalidTarget => error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "The resource must be one absolute URI without a fragment, among the resources this \
             server issues tokens for.",
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
