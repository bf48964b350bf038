//! What went wrong in a use-case of the token endpoints, in domain words.

use crate::store;

/// What went wrong, in domain words. Each HTTP dialect maps it to its own body.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong password, unknown user, inactive user, not a member, no such organization — one case.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("locked out for {retry_after} s")]
    LockedOut { retry_after: u64 },
    /// Bad, expired, revoked, consumed or misplaced token — one case.
    #[error("invalid token")]
    InvalidToken,
    /// Scopes asked for that the client does not have.
    #[error("invalid scope")]
    InvalidScope,
    /// A resource (RFC 8707) that is malformed, not allowed, or one of several.
    #[error("invalid target")]
    InvalidTarget,
    /// Client authentication failed (OAuth `invalid_client`).
    #[error("invalid client")]
    InvalidClient,
    /// Too many logins already wait for a hashing thread.
    #[error("password hashing is saturated")]
    Busy,
    /// The database said "try later" (unreachable, disk full, read-only, …): 503.
    #[error("{0}")]
    Unavailable(crate::outage::Unavailable),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        match store::unavailability(&e) {
            Some(cause) => AuthError::Unavailable(cause),
            None => AuthError::Internal(e.into()),
        }
    }
}

impl From<anyhow::Error> for AuthError {
    /// A failure with a "try later" database error in its chain is that error.
    fn from(e: anyhow::Error) -> Self {
        match store::unavailability_in(&e) {
            Some(cause) => AuthError::Unavailable(cause),
            None => AuthError::Internal(e),
        }
    }
}
