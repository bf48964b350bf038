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
    /// The user of a user session, and their role in the session's organization (none when
    /// they are no longer a member).
    pub user_id: Option<i64>,
    pub role: Option<String>,
}

/// Where a page of open sessions (newest first) resumes: after the session started at
/// `created_at` with id `sid`. Written `<created_at>.<sid>`, as the `before` of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCursor {
    pub created_at: i64,
    pub sid: String,
}

impl SessionCursor {
    /// The cursor after `session`, the last of a page.
    pub fn after(session: &OpenSession) -> Self {
        Self {
            created_at: session.created_at,
            sid: session.sid.clone(),
        }
    }
}

impl std::str::FromStr for SessionCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (created_at, sid) = s.split_once('.').ok_or(())?;
        let created_at = created_at.parse::<i64>().map_err(|_| ())?;
        let printable = |c: char| c.is_ascii_graphic();
        if created_at < 0 || sid.is_empty() || sid.len() > 100 || !sid.chars().all(printable) {
            return Err(());
        }
        Ok(Self {
            created_at,
            sid: sid.to_owned(),
        })
    }
}

impl std::fmt::Display for SessionCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.created_at, self.sid)
    }
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
