//! Schemas of the admin API's records, as `views` and `http::admin` build them.

use serde::Serialize;
use utoipa::ToSchema;

/// An organization; with the caller's `role` in it where the answer lists the caller's
/// organizations.
#[derive(Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: i64,
    pub name: String,
    /// `owner` or `admin` (and `member` in the list of organizations).
    pub role: Option<String>,
}

/// A member of the organization.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub username: String,
    pub org_id: i64,
    /// `owner`, `admin` or `member`.
    pub role: String,
    pub active: bool,
}

/// A member just added, with the password generated for a new account (shown once; absent when
/// the account already existed).
#[derive(Serialize, ToSchema)]
pub struct CreatedMember {
    #[serde(flatten)]
    pub member: MemberView,
    pub password: Option<String>,
}

/// An integration; never its secret key.
#[derive(Serialize, ToSchema)]
pub struct IntegrationView {
    pub consumer_key: String,
    pub name: String,
    pub org_id: i64,
    pub scope: Vec<String>,
    /// RFC 3339 UTC, milliseconds.
    pub created: String,
    #[schema(required)]
    pub last_used: Option<String>,
    #[schema(required)]
    pub revoked: Option<String>,
    /// `active` or `revoked`.
    pub status: String,
}

/// An integration just created, with its secret key (shown once).
#[derive(Serialize, ToSchema)]
pub struct CreatedIntegration {
    #[serde(flatten)]
    pub integration: IntegrationView,
    pub secret_key: String,
}
