//! What the store reads and the surfaces show: plain records of an organization, a member, an
//! integration, an open session and an audit event. The store produces them, `auth` hands them
//! on, and the API, the console and the CLI read them — each layer names them here, none of them
//! in another's module.

use super::{OrgId, Scopes};

/// An organization: the tenant that users and integrations belong to.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: i64,
    pub name: String,
}

/// A user as an organization sees it: the account and its membership in that organization.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub username: String,
    pub org_id: i64,
    pub role: String,
    /// Whether the account may log in (account-wide, not per organization).
    pub active: bool,
}

/// An integration: a machine client of one organization.
#[derive(Debug, Clone)]
pub struct Integration {
    pub id: i64,
    pub org_id: OrgId,
    pub consumer_key: String,
    /// The digest of the secret key; the secret itself is never stored.
    pub secret_digest: String,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// An open session as an administrator sees it.
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub sid: String,
    /// `user` or `integration`.
    pub kind: String,
    /// The username or the consumer key.
    pub who: String,
    pub integration_name: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub client_addr: String,
}

/// One thing that happened, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub org_id: Option<i64>,
    pub at: i64,
    /// What happened: `login_succeeded`, `integration_created`, … (see `auth::audit::Kind`).
    pub kind: String,
    /// Who did it: a username, a consumer key, or `cli`.
    pub actor: Option<String>,
    /// Whom or what it concerned: a username or a consumer key.
    pub subject: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

/// Which audit events to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub kind: Option<String>,
    /// Matches the actor or the subject.
    pub who: Option<String>,
    /// Only events older than this id (paging).
    pub before_id: Option<i64>,
    pub limit: i64,
}
