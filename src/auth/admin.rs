//! Administration of organizations, users and integrations, shared by the command line, the
//! admin API and the console. Every change is written to the audit log, and every change that
//! takes access away ends the sessions it concerns.

use std::net::IpAddr;

use super::AuthError;
use super::audit::{Kind, event};
use crate::domain::{ConsumerKey, OrgId, Role, Scopes, SecretKey, UserId, Username};
use crate::store::{
    AccessChange, IntegrationRecord, MemberRecord, Organization, Store, WriteError,
};

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
    Unavailable(crate::store::Unavailable),
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

/// Who makes a change, for the audit log: a username, or `cli`.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub client: Option<IpAddr>,
}

impl Actor {
    /// The command line, run by an operator on the database's machine.
    pub fn cli() -> Self {
        Self {
            name: "cli".into(),
            client: None,
        }
    }
}

/// Records an administrative change. The change is already made when this runs: a failure to
/// write the event must not turn it into an error (or keep its ended sessions from being refused
/// at once), so it is logged in full instead — the event reaches the operator either way.
async fn audit(
    store: &Store,
    by: &Actor,
    org: Option<OrgId>,
    kind: Kind,
    subject: &str,
    now: i64,
) -> Result<(), AdminError> {
    let e = event(org, now, kind, Some(&by.name), Some(subject), by.client);
    if let Err(error) = store.insert_audit_events(std::slice::from_ref(&e)).await {
        if let Some(cause) = crate::store::unavailability(&error) {
            store.note_unavailable(cause);
        }
        tracing::error!(%error, event = ?e, "audit event not stored");
    }
    Ok(())
}

fn checked_name(name: &str, what: Named) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::BadName(what));
    }
    Ok(name.to_owned())
}

pub async fn create_org(store: &Store, name: &str, now: i64) -> Result<Organization, AdminError> {
    let name = checked_name(name, Named::Organization)?;
    store.create_org(&name, now).await.map_err(|e| match e {
        WriteError::Duplicate => AdminError::OrganizationNameTaken(name.clone()),
        WriteError::Database(e) => e.into(),
    })
}

pub async fn rename_org(
    store: &Store,
    by: &Actor,
    org: OrgId,
    name: &str,
    now: i64,
) -> Result<Organization, AdminError> {
    let name = checked_name(name, Named::Organization)?;
    require_org(store, org).await?;
    store.rename_org(org, &name).await.map_err(|e| match e {
        WriteError::Duplicate => AdminError::OrganizationNameTaken(name.clone()),
        WriteError::Database(e) => e.into(),
    })?;
    audit(store, by, Some(org), Kind::OrganizationRenamed, &name, now).await?;
    Ok(Organization {
        id: org.get(),
        name,
    })
}

pub async fn require_org(store: &Store, org: OrgId) -> Result<(), AdminError> {
    if store.org_exists(org).await? {
        Ok(())
    } else {
        Err(AdminError::UnknownOrganization(org))
    }
}

pub async fn require_user(store: &Store, username: &Username) -> Result<UserId, AdminError> {
    store
        .find_user(username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| AdminError::UnknownUser(username.to_string()))
}

/// The membership of `username` in `org`, or NotFound.
pub async fn require_member(
    store: &Store,
    org: OrgId,
    username: &Username,
) -> Result<MemberRecord, AdminError> {
    store
        .list_members(org)
        .await?
        .into_iter()
        .find(|m| m.username == username.as_str())
        .ok_or_else(|| AdminError::NotMember {
            username: username.clone(),
            org,
        })
}

pub async fn create_user(
    store: &Store,
    by: &Actor,
    org: OrgId,
    username: &Username,
    role: Role,
    password_hash: &str,
    now: i64,
) -> Result<MemberRecord, AdminError> {
    require_org(store, org).await?;
    let id = store
        .create_user(username, password_hash, org, role, now)
        .await
        .map_err(|e| match e {
            WriteError::Duplicate => AdminError::UsernameTaken(username.clone()),
            WriteError::Database(e) => e.into(),
        })?;
    audit(
        store,
        by,
        Some(org),
        Kind::UserCreated,
        username.as_str(),
        now,
    )
    .await?;
    Ok(MemberRecord {
        id: id.get(),
        username: username.to_string(),
        org_id: org.get(),
        role: role.as_str().to_owned(),
        active: true,
    })
}

/// Adds a membership or changes its role.
pub async fn grant(
    store: &Store,
    by: &Actor,
    username: &Username,
    org: OrgId,
    role: Role,
    now: i64,
) -> Result<MemberRecord, AdminError> {
    require_org(store, org).await?;
    let user = require_user(store, username).await?;
    let was_member = store
        .list_members(org)
        .await?
        .iter()
        .any(|m| m.id == user.get());
    store.grant(user, org, role, now).await?;
    let kind = if was_member {
        Kind::RoleChanged
    } else {
        Kind::MemberAdded
    };
    audit(store, by, Some(org), kind, username.as_str(), now).await?;
    require_member(store, org, username).await
}

/// What the operator chose for the password of an account added to an organization it is not
/// yet a member of.
#[derive(Debug, Clone, Copy)]
pub enum PasswordChoice<'a> {
    /// Neither: such an addition is refused.
    Undecided,
    /// The password stays: the operator knows it is known to the account's owner alone.
    Keep,
    /// This hash of a new password replaces it, and every session of the account ends.
    Reset { hash: &'a str },
}

/// What [`grant_by_operator`] did.
#[derive(Debug)]
pub struct Granted {
    pub member: MemberRecord,
    /// Whether the account was already a member (only its role changed; the password choice
    /// was not used).
    pub was_member: bool,
    /// Whether the password was replaced (and the account's sessions ended).
    pub password_reset: bool,
}

/// The operator's `user grant`: changes the role of an existing membership, or adds the account
/// to an organization it is not yet in — but only with a decision about its password. Accounts
/// are global: one created by another organization's admin has a password that admin chose, and
/// granting it as it is would let them in here too.
pub async fn grant_by_operator(
    store: &Store,
    by: &Actor,
    username: &Username,
    org: OrgId,
    role: Role,
    password: PasswordChoice<'_>,
    now: i64,
) -> Result<Granted, AdminError> {
    require_org(store, org).await?;
    let user = require_user(store, username).await?;
    let orgs = store.memberships_of(user).await?;
    if orgs.iter().any(|(o, _)| o.id == org.get()) {
        return Ok(Granted {
            member: grant(store, by, username, org, role, now).await?,
            was_member: true,
            password_reset: false,
        });
    }
    let password_reset = match password {
        PasswordChoice::Undecided => {
            return Err(AdminError::PasswordChoiceNeeded {
                username: username.clone(),
                org,
                memberships: orgs,
            });
        }
        PasswordChoice::Keep => {
            store.grant(user, org, role, now).await?;
            false
        }
        PasswordChoice::Reset { hash } => {
            let change = AccessChange::SetPassword {
                user,
                hash,
                join: Some((org, role)),
            };
            store.change_access(change, now).await?;
            true
        }
    };
    audit(
        store,
        by,
        Some(org),
        Kind::MemberAdded,
        username.as_str(),
        now,
    )
    .await?;
    if password_reset {
        for (o, _) in store.memberships_of(user).await? {
            let o = Some(OrgId::from_db(o.id));
            audit(store, by, o, Kind::PasswordChanged, username.as_str(), now).await?;
        }
    }
    Ok(Granted {
        member: require_member(store, org, username).await?,
        was_member: false,
        password_reset,
    })
}

/// Removes a user from an organization and ends their sessions there; returns the ended ids.
pub async fn revoke(
    store: &Store,
    by: &Actor,
    username: &Username,
    org: OrgId,
    now: i64,
) -> Result<Vec<String>, AdminError> {
    require_org(store, org).await?;
    let user = require_user(store, username).await?;
    let Some(ended) = store
        .change_access(AccessChange::RemoveMembership { user, org }, now)
        .await?
    else {
        return Err(AdminError::NotMember {
            username: username.clone(),
            org,
        });
    };
    audit(
        store,
        by,
        Some(org),
        Kind::MemberRemoved,
        username.as_str(),
        now,
    )
    .await?;
    Ok(ended)
}

/// Disables or enables a user; disabling ends every session of theirs. The event is recorded in
/// each organization the user belongs to.
pub async fn set_active(
    store: &Store,
    by: &Actor,
    username: &Username,
    active: bool,
    now: i64,
) -> Result<Vec<String>, AdminError> {
    let user = require_user(store, username).await?;
    let ended = if active {
        store.set_user_active(user, true).await?;
        Vec::new()
    } else {
        let change = AccessChange::Disable { user };
        store.change_access(change, now).await?.unwrap_or_default()
    };
    let kind = if active {
        Kind::UserEnabled
    } else {
        Kind::UserDisabled
    };
    for (org, _) in store.memberships_of(user).await? {
        audit(
            store,
            by,
            Some(OrgId::from_db(org.id)),
            kind,
            username.as_str(),
            now,
        )
        .await?;
    }
    Ok(ended)
}

/// Changes a password and ends every session of the user.
pub async fn set_password(
    store: &Store,
    by: &Actor,
    username: &Username,
    password_hash: &str,
    now: i64,
) -> Result<Vec<String>, AdminError> {
    let user = require_user(store, username).await?;
    let change = AccessChange::SetPassword {
        user,
        hash: password_hash,
        join: None,
    };
    let ended = store.change_access(change, now).await?.unwrap_or_default();
    for (org, _) in store.memberships_of(user).await? {
        audit(
            store,
            by,
            Some(OrgId::from_db(org.id)),
            Kind::PasswordChanged,
            username.as_str(),
            now,
        )
        .await?;
    }
    Ok(ended)
}

pub async fn list_members(store: &Store, org: OrgId) -> Result<Vec<MemberRecord>, AdminError> {
    require_org(store, org).await?;
    Ok(store.list_members(org).await?)
}

/// A new integration with its secret key, which is shown this once and never stored.
pub async fn create_integration(
    store: &Store,
    by: &Actor,
    org: OrgId,
    name: &str,
    scopes: &Scopes,
    now: i64,
) -> Result<(IntegrationRecord, SecretKey), AdminError> {
    let name = checked_name(name, Named::Integration)?;
    require_org(store, org).await?;
    let secret = SecretKey::generate();
    let record = store
        .create_integration(
            org,
            &ConsumerKey::generate(),
            &secret.digest(),
            &name,
            scopes,
            now,
        )
        .await
        .map_err(|e| match e {
            WriteError::Duplicate => AdminError::ConsumerKeyCollision,
            WriteError::Database(e) => e.into(),
        })?;
    audit(
        store,
        by,
        Some(org),
        Kind::IntegrationCreated,
        &record.consumer_key,
        now,
    )
    .await?;
    Ok((record, secret))
}

pub async fn require_integration(
    store: &Store,
    key: &ConsumerKey,
) -> Result<IntegrationRecord, AdminError> {
    store
        .find_integration(key)
        .await?
        .ok_or_else(|| AdminError::UnknownIntegration(key.to_string()))
}

/// Revokes an integration and ends its sessions; returns the ended session ids.
pub async fn revoke_integration(
    store: &Store,
    by: &Actor,
    key: &ConsumerKey,
    now: i64,
) -> Result<Vec<String>, AdminError> {
    let record = require_integration(store, key).await?;
    let change = AccessChange::RevokeIntegration { id: record.id };
    let Some(ended) = store.change_access(change, now).await? else {
        return Err(AdminError::IntegrationAlreadyRevoked(key.clone()));
    };
    audit(
        store,
        by,
        Some(record.org_id),
        Kind::IntegrationRevoked,
        key.as_str(),
        now,
    )
    .await?;
    Ok(ended)
}

/// Replaces an integration's secret key and ends its sessions; returns the new secret and the
/// ended session ids.
pub async fn rotate_integration_secret(
    store: &Store,
    by: &Actor,
    key: &ConsumerKey,
    now: i64,
) -> Result<(SecretKey, Vec<String>), AdminError> {
    let record = require_integration(store, key).await?;
    if record.revoked_at.is_some() {
        return Err(AdminError::IntegrationRevoked(key.clone()));
    }
    let secret = SecretKey::generate();
    let digest = secret.digest();
    let change = AccessChange::SetSecret {
        id: record.id,
        digest: &digest,
    };
    let Some(ended) = store.change_access(change, now).await? else {
        return Err(AdminError::IntegrationRevoked(key.clone()));
    };
    audit(
        store,
        by,
        Some(record.org_id),
        Kind::IntegrationSecretRotated,
        key.as_str(),
        now,
    )
    .await?;
    Ok((secret, ended))
}

pub async fn list_integrations(
    store: &Store,
    org: OrgId,
) -> Result<Vec<IntegrationRecord>, AdminError> {
    require_org(store, org).await?;
    Ok(store.list_integrations(org).await?)
}
