//! Why an administrative change was refused, as reasons with their data.

use crate::auth::AuthError;
use crate::domain::{ConsumerKey, OrgId, Organization, Role, Username};

/// Why an administrative change was refused, as a reason with its data. Each surface words it
/// (the admin API, the console in its languages, the command line with its advice); `Display` is
/// the plain English statement, without advice, that logs and the admin API show.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Input that is not a username, role, scope or consumer key.
    #[error("{}", .0.0)]
    Malformed(crate::domain::ParseError),
    #[error("{} name needs 1 to 200 printable characters", .0.article())]
    BadName(Named),
    #[error("an organization named {0:?} already exists")]
    OrganizationNameTaken(String),
    #[error("there is no organization {0}")]
    UnknownOrganization(OrgId),
    /// The administrator's own organization, gone since they signed in.
    #[error("the organization no longer exists")]
    OrganizationGone,
    /// No account by this name (or, from the admin API, an unreadable user id).
    #[error("there is no user {0}")]
    UnknownUser(String),
    /// A user id that is not a member of the administrator's organization.
    #[error("user {0} is not a member")]
    UnknownMember(i64),
    #[error("{username} is not a member of organization {org}")]
    NotMember { username: Username, org: OrgId },
    #[error("{0} is already a member")]
    AlreadyMember(Username),
    /// An account by this name exists: an operator adds it to an organization with a grant.
    #[error("user {0} already exists")]
    UsernameTaken(Username),
    /// An existing account that only the operator may add here. One reason whether the account
    /// belongs to other organizations or to none, naming none of them: an admin learns nothing
    /// about other tenants from it.
    #[error("this username cannot be added by an organization's admin; ask the operator to add it")]
    NotAddable,
    /// An operator's grant of an account new to `org` without a decision about its password:
    /// whoever chose it could then sign in to `org` too.
    #[error(
        "{username} is not a member of organization {org} and belongs to {}; whoever chose its \
         password could then sign in to organization {org} too",
        memberships_list(.memberships)
    )]
    PasswordChoiceNeeded {
        username: Username,
        org: OrgId,
        memberships: Vec<(Organization, Role)>,
    },
    #[error("there is no integration {0}")]
    UnknownIntegration(String),
    #[error("consumer key collision; try again")]
    ConsumerKeyCollision,
    #[error("integration {0} is already revoked")]
    IntegrationAlreadyRevoked(ConsumerKey),
    #[error("integration {0} is revoked")]
    IntegrationRevoked(ConsumerKey),
    #[error("there is no such open session")]
    UnknownSession,
    /// Something only an owner may do, asked by an admin.
    #[error("only an owner may {}", .0.what())]
    OwnersOnly(OwnerAction),
    #[error("you cannot change your own membership")]
    OwnMembership,
    /// Disabling an account that other organizations share: only its removal from this one may
    /// touch it.
    #[error("this user also belongs to other organizations; remove them from this one instead")]
    BelongsElsewhere,
    /// Too many passwords already wait for a hashing thread.
    #[error("password hashing is saturated")]
    Busy,
    /// The database said "try later" (unreachable, disk full, read-only, …).
    #[error("{0}")]
    Unavailable(crate::outage::Unavailable),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// What a name is given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Organization,
    Integration,
}

impl Named {
    fn article(self) -> &'static str {
        match self {
            Named::Organization => "an organization",
            Named::Integration => "an integration",
        }
    }
}

/// What only an owner may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerAction {
    RenameOrganization,
    AddOwner,
    ChangeOwner,
    MakeOwner,
    EndOwnerSessions,
}

impl OwnerAction {
    fn what(self) -> &'static str {
        match self {
            OwnerAction::RenameOrganization => "rename the organization",
            OwnerAction::AddOwner => "add an owner",
            OwnerAction::ChangeOwner => "change an owner",
            OwnerAction::MakeOwner => "make an owner",
            OwnerAction::EndOwnerSessions => "end an owner's sessions",
        }
    }
}

/// `1 ("Acme") as member, 2 ("Globex") as admin`, or `no organization`.
fn memberships_list(memberships: &[(Organization, Role)]) -> String {
    if memberships.is_empty() {
        return "no organization".to_owned();
    }
    memberships
        .iter()
        .map(|(o, role)| format!("{} ({:?}) as {}", o.id, o.name, role.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<AuthError> for AdminError {
    /// The failures a use-case of the login side can bring to an administrative change.
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Busy => AdminError::Busy,
            AuthError::Unavailable(cause) => AdminError::Unavailable(cause),
            AuthError::Internal(e) => AdminError::Internal(e),
            other => AdminError::Internal(anyhow::anyhow!("unexpected: {other}")),
        }
    }
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        match crate::store::unavailability(&e) {
            Some(cause) => AdminError::Unavailable(cause),
            None => AdminError::Internal(e.into()),
        }
    }
}

impl From<anyhow::Error> for AdminError {
    /// A failure with a "try later" database error in its chain is that error.
    fn from(e: anyhow::Error) -> Self {
        match crate::store::unavailability_in(&e) {
            Some(cause) => AdminError::Unavailable(cause),
            None => AdminError::Internal(e),
        }
    }
}

impl From<crate::domain::ParseError> for AdminError {
    fn from(e: crate::domain::ParseError) -> Self {
        AdminError::Malformed(e)
    }
}
