//! The use-cases: user login, refresh, verification, logout, "who am I", and the rules around
//! them — sessions, throttling, password hashing. This layer knows rules, never wire formats.

pub mod admin;
pub mod audit;
pub mod console;
mod integration;
mod issue;
pub mod keys;
mod login;
pub mod manage;
pub mod password;
pub mod recent;
pub mod sessions;
pub mod throttle;
pub mod writes;

use std::sync::Arc;

pub use integration::{ClientAuth, Introspection};
pub use issue::TokenPair;
pub use login::Identity;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::store::{self, Store};
use crate::tokens::Tokens;

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
    /// Client authentication failed (OAuth `invalid_client`).
    #[error("invalid client")]
    InvalidClient,
    /// Too many logins already wait for a hashing thread.
    #[error("password hashing is saturated")]
    Busy,
    /// The database said "try later" (unreachable, disk full, read-only, …): 503.
    #[error("{0}")]
    Unavailable(store::Unavailable),
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

/// Everything the use-cases need, built once per process and shared by every request.
pub struct Auth {
    pub store: Store,
    pub tokens: Tokens,
    pub hasher: password::PasswordHasher,
    pub throttle: throttle::Throttle,
    pub ended: sessions::EndedSessions,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub metrics: crate::metrics::Metrics,
    pub audit: audit::AuditLog,
    pub identities: recent::Recent<Identity>,
    pub integrations: recent::Recent<store::IntegrationRecord>,
    pub session_writes: writes::SessionWrites,
}

impl Auth {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
