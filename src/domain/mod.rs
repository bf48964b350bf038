//! Pure types and rules of the model: they parse, so a value that exists is valid. No I/O here.

mod ids;
mod integration;
mod password;
mod records;
mod resource;
mod role;
pub mod secret_generation;
mod username;

pub use ids::{OrgId, UserId};
pub use integration::{ConsumerKey, Scopes, SecretKey};
pub use password::Password;
pub use records::{
    AuditEvent, AuditFilter, Integration, Member, OpenSession, Organization, SessionCursor,
};
pub use resource::ResourceUri;
pub use role::Role;
pub use secret_generation::SecretGeneration;
pub use username::Username;

/// Why a value could not be parsed into a domain type, in words fit for an operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);
