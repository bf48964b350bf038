//! The administration of organizations, users and integrations: the changes themselves, made by
//! an [`Actor`] — the operator at the command line, or an organization's owner or admin through
//! [`OrgAdmin`], which checks what they may do first. Every change is written to the audit log,
//! and every change that takes access away ends the sessions it concerns.

mod error;
mod integrations;
mod org_admin;
mod org_sessions;

use std::net::IpAddr;

pub use error::{AdminError, Named, OwnerAction};
pub use org_admin::{Access, OrgAdmin};

use super::audit::{Kind, event};
use crate::domain::{Member, OrgId, Organization, Role, UserId, Username};
use crate::store::{AccessChange, Store, WriteError};

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

/// Administrative changes made by one actor.
pub struct Administration<'a> {
    store: &'a Store,
    by: Actor,
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

/// What [`Administration::grant_by_operator`] did.
#[derive(Debug)]
pub struct Granted {
    pub member: Member,
    /// Whether the account was already a member (only its role changed; the password choice
    /// was not used).
    pub was_member: bool,
    /// Whether the password was replaced (and the account's sessions ended).
    pub password_reset: bool,
}

/// A name as given, trimmed, if it has 1 to 200 printable characters.
fn checked_name(name: &str, what: Named) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::BadName(what));
    }
    Ok(name.to_owned())
}

impl<'a> Administration<'a> {
    pub fn new(store: &'a Store, by: Actor) -> Self {
        Self { store, by }
    }

    /// Changes made by the operator at the command line.
    pub fn operator(store: &'a Store) -> Self {
        Self::new(store, Actor::cli())
    }

    /// Records an administrative change. The change is already made when this runs: a failure to
    /// write the event must not turn it into an error (or keep its ended sessions from being refused
    /// at once), so it is logged in full instead — the event reaches the operator either way.
    async fn audit(
        &self,
        org: Option<OrgId>,
        kind: Kind,
        subject: &str,
        now: i64,
    ) -> Result<(), AdminError> {
        let e = event(
            org,
            now,
            kind,
            Some(&self.by.name),
            Some(subject),
            self.by.client,
        );
        if let Err(error) = self
            .store
            .insert_audit_events(std::slice::from_ref(&e))
            .await
        {
            if let Some(cause) = crate::store::unavailability(&error) {
                self.store.note_unavailable(cause);
            }
            tracing::error!(%error, event = ?e, "audit event not stored");
        }
        Ok(())
    }

    pub async fn create_org(&self, name: &str, now: i64) -> Result<Organization, AdminError> {
        let name = checked_name(name, Named::Organization)?;
        self.store
            .create_org(&name, now)
            .await
            .map_err(|e| match e {
                WriteError::Duplicate => AdminError::OrganizationNameTaken(name.clone()),
                WriteError::Database(e) => e.into(),
            })
    }

    pub async fn rename_org(
        &self,
        org: OrgId,
        name: &str,
        now: i64,
    ) -> Result<Organization, AdminError> {
        let name = checked_name(name, Named::Organization)?;
        self.require_org(org).await?;
        self.store
            .rename_org(org, &name)
            .await
            .map_err(|e| match e {
                WriteError::Duplicate => AdminError::OrganizationNameTaken(name.clone()),
                WriteError::Database(e) => e.into(),
            })?;
        self.audit(Some(org), Kind::OrganizationRenamed, &name, now)
            .await?;
        Ok(Organization {
            id: org.get(),
            name,
        })
    }

    pub async fn require_org(&self, org: OrgId) -> Result<(), AdminError> {
        if self.store.org_exists(org).await? {
            Ok(())
        } else {
            Err(AdminError::UnknownOrganization(org))
        }
    }

    pub async fn require_user(&self, username: &Username) -> Result<UserId, AdminError> {
        self.store
            .find_user(username)
            .await?
            .map(|u| u.id)
            .ok_or_else(|| AdminError::UnknownUser(username.to_string()))
    }

    /// The membership of `username` in `org`, or NotFound.
    pub async fn require_member(
        &self,
        org: OrgId,
        username: &Username,
    ) -> Result<Member, AdminError> {
        self.store
            .member_named(org, username)
            .await?
            .ok_or_else(|| AdminError::NotMember {
                username: username.clone(),
                org,
            })
    }

    pub async fn create_user(
        &self,
        org: OrgId,
        username: &Username,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<Member, AdminError> {
        self.require_org(org).await?;
        let id = self
            .store
            .create_user(username, password_hash, org, role, now)
            .await
            .map_err(|e| match e {
                WriteError::Duplicate => AdminError::UsernameTaken(username.clone()),
                WriteError::Database(e) => e.into(),
            })?;
        self.audit(Some(org), Kind::UserCreated, username.as_str(), now)
            .await?;
        Ok(Member {
            id: id.get(),
            username: username.to_string(),
            org_id: org.get(),
            role: role.as_str().to_owned(),
            active: true,
        })
    }

    /// Adds a membership or changes its role.
    pub async fn grant(
        &self,
        username: &Username,
        org: OrgId,
        role: Role,
        now: i64,
    ) -> Result<Member, AdminError> {
        self.require_org(org).await?;
        let user = self.require_user(username).await?;
        let was_member = self.store.member(org, user).await?.is_some();
        self.store.grant(user, org, role, now).await?;
        let kind = if was_member {
            Kind::RoleChanged
        } else {
            Kind::MemberAdded
        };
        self.audit(Some(org), kind, username.as_str(), now).await?;
        self.require_member(org, username).await
    }

    /// The operator's `user grant`: changes the role of an existing membership, or adds the account
    /// to an organization it is not yet in — but only with a decision about its password. Accounts
    /// are global: one created by another organization's admin has a password that admin chose, and
    /// granting it as it is would let them in here too.
    pub async fn grant_by_operator(
        &self,
        username: &Username,
        org: OrgId,
        role: Role,
        password: PasswordChoice<'_>,
        now: i64,
    ) -> Result<Granted, AdminError> {
        self.require_org(org).await?;
        let user = self.require_user(username).await?;
        let orgs = self.store.memberships_of(user).await?;
        if orgs.iter().any(|(o, _)| o.id == org.get()) {
            return Ok(Granted {
                member: self.grant(username, org, role, now).await?,
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
                self.store.grant(user, org, role, now).await?;
                false
            }
            PasswordChoice::Reset { hash } => {
                let change = AccessChange::SetPassword {
                    user,
                    hash,
                    join: Some((org, role)),
                };
                self.store.change_access(change, now).await?;
                true
            }
        };
        self.audit(Some(org), Kind::MemberAdded, username.as_str(), now)
            .await?;
        if password_reset {
            for (o, _) in self.store.memberships_of(user).await? {
                let o = Some(OrgId::from_db(o.id));
                self.audit(o, Kind::PasswordChanged, username.as_str(), now)
                    .await?;
            }
        }
        Ok(Granted {
            member: self.require_member(org, username).await?,
            was_member: false,
            password_reset,
        })
    }

    /// Removes a user from an organization and ends their sessions there; returns the ended ids.
    pub async fn revoke(
        &self,
        username: &Username,
        org: OrgId,
        now: i64,
    ) -> Result<Vec<String>, AdminError> {
        self.require_org(org).await?;
        let user = self.require_user(username).await?;
        let Some(ended) = self
            .store
            .change_access(AccessChange::RemoveMembership { user, org }, now)
            .await?
        else {
            return Err(AdminError::NotMember {
                username: username.clone(),
                org,
            });
        };
        self.audit(Some(org), Kind::MemberRemoved, username.as_str(), now)
            .await?;
        Ok(ended)
    }

    /// Disables or enables a user; disabling ends every session of theirs. The event is recorded in
    /// each organization the user belongs to.
    pub async fn set_active(
        &self,
        username: &Username,
        active: bool,
        now: i64,
    ) -> Result<Vec<String>, AdminError> {
        let user = self.require_user(username).await?;
        let ended = if active {
            self.store.set_user_active(user, true).await?;
            Vec::new()
        } else {
            let change = AccessChange::Disable { user };
            self.store
                .change_access(change, now)
                .await?
                .unwrap_or_default()
        };
        let kind = if active {
            Kind::UserEnabled
        } else {
            Kind::UserDisabled
        };
        for (org, _) in self.store.memberships_of(user).await? {
            self.audit(Some(OrgId::from_db(org.id)), kind, username.as_str(), now)
                .await?;
        }
        Ok(ended)
    }

    /// Changes a password and ends every session of the user.
    pub async fn set_password(
        &self,
        username: &Username,
        password_hash: &str,
        now: i64,
    ) -> Result<Vec<String>, AdminError> {
        let user = self.require_user(username).await?;
        let change = AccessChange::SetPassword {
            user,
            hash: password_hash,
            join: None,
        };
        let ended = self
            .store
            .change_access(change, now)
            .await?
            .unwrap_or_default();
        for (org, _) in self.store.memberships_of(user).await? {
            self.audit(
                Some(OrgId::from_db(org.id)),
                Kind::PasswordChanged,
                username.as_str(),
                now,
            )
            .await?;
        }
        Ok(ended)
    }

    pub async fn list_members(&self, org: OrgId) -> Result<Vec<Member>, AdminError> {
        self.require_org(org).await?;
        Ok(self.store.list_members(org).await?)
    }
}
