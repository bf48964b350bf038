//! Answers that many operations share, described once: the 503 of each dialect, the bearer
//! 401s, and the body errors (413, 415).

use utoipa::IntoResponses;

use super::schemas::{Detail, OAuthError, Problem};

/// The simplejwt dialect's and the admin API's 503.
#[derive(IntoResponses)]
pub enum Unavailable {
    /// The database cannot be used, or every hashing thread is taken: come back after
    /// `Retry-After` seconds.
    #[response(
        status = 503,
        headers(("Retry-After" = u64, description = "Whole seconds."))
    )]
    Unavailable(Detail),
}

/// The integration dialect's 503.
#[derive(IntoResponses)]
pub enum ProblemUnavailable {
    /// The database cannot be used, or every hashing thread is taken: come back after
    /// `Retry-After` seconds.
    #[response(
        status = 503,
        headers(("Retry-After" = u64, description = "Whole seconds."))
    )]
    Unavailable(Problem),
}

/// OAuth's 503 (`temporarily_unavailable`).
#[derive(IntoResponses)]
pub enum OAuthUnavailable {
    /// The database cannot be used, or every hashing thread is taken: come back after
    /// `Retry-After` seconds.
    #[response(
        status = 503,
        headers(("Retry-After" = u64, description = "Whole seconds."))
    )]
    Unavailable(OAuthError),
}

/// The refusals of a request that needs a bearer access token.
#[derive(IntoResponses)]
pub enum BearerRefused {
    /// No bearer token (`Authentication credentials were not provided.`), a malformed
    /// `Authorization` header (`bad_authorization_header`), or a token that is not a valid access
    /// token of an open session (`token_not_valid`).
    #[response(
        status = 401,
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`"))
    )]
    Unauthorized(Detail),
}

/// A body this dialect cannot take (simplejwt's and the shared bodies).
#[derive(IntoResponses)]
pub enum BodyRefused {
    /// A body over 64 KiB.
    #[response(status = 413)]
    TooLarge(Detail),
    /// A `Content-Type` other than JSON or a form.
    #[response(status = 415)]
    UnsupportedMediaType(Detail),
}

/// A body the integration dialect cannot take.
#[derive(IntoResponses)]
pub enum ProblemBodyRefused {
    /// A body over 64 KiB.
    #[response(status = 413)]
    TooLarge(Problem),
    /// A `Content-Type` other than JSON or a form.
    #[response(status = 415)]
    UnsupportedMediaType(Problem),
}

/// The refusal of a caller who is not an owner or admin of the token's organization (and of
/// what only an owner may do).
#[derive(IntoResponses)]
pub enum NotAnAdmin {
    /// `You do not have permission to perform this action.`, or an action only an owner may take.
    #[response(status = 403)]
    Forbidden(Detail),
}
