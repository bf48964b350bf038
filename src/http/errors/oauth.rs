//! OAuth 2 (RFC 6749 §5.2): `{"error", "error_description"}`.

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
