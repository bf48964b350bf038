//! An organization's administration by one of its owners or admins: the permission check is this
//! wrapper, so every use-case of the admin API and the console goes through it, scoped to one
//! organization and audited under the admin's name.

use std::net::IpAddr;
use std::sync::Arc;

use super::{Actor, AdminError, Administration, OwnerAction};
use crate::auth::{Auth, AuthError, Identity};
use crate::domain::{
    ConsumerKey, Integration, Member, OrgId, Organization, Password, Role, Scopes, SecretKey,
    UserId, Username,
};

/// Why someone may not administer.
#[derive(Debug, thiserror::Error)]
pub enum Access {
    /// No valid credentials.
    #[error("not authenticated")]
    Unauthenticated(AuthError),
    /// Authenticated, but not an owner or admin of the organization.
    #[error("not an owner or admin of this organization")]
    Forbidden,
}

/// An owner or admin of one organization, acting on it.
pub struct OrgAdmin {
    pub(super) auth: Arc<Auth>,
    pub user: UserId,
    pub username: String,
    pub org: OrgId,
    pub role: Role,
    pub(super) actor: Actor,
}

impl Auth {
    /// The administrator behind a bearer access token, in the token's organization.
    pub async fn org_admin_by_token(
        self: &Arc<Self>,
        token: &str,
        client: IpAddr,
    ) -> Result<OrgAdmin, Access> {
        match self.identify(token).await {
            Ok(Identity::User(member)) => self.as_org_admin(member, client),
            Ok(Identity::Integration(_)) => Err(Access::Forbidden),
            Err(e) => Err(Access::Unauthenticated(e)),
        }
    }

    /// The administrator `user` of `org` (a console sign-in), if still an active owner or admin.
    pub async fn org_admin(
        self: &Arc<Self>,
        user: UserId,
        org: OrgId,
        client: IpAddr,
    ) -> Result<OrgAdmin, Access> {
        match self.store.active_member(user, org).await {
            Ok(Some(member)) => self.as_org_admin(member, client),
            Ok(None) => Err(Access::Forbidden),
            Err(e) => Err(Access::Unauthenticated(e.into())),
        }
    }

    fn as_org_admin(self: &Arc<Self>, member: Member, client: IpAddr) -> Result<OrgAdmin, Access> {
        let role: Role = member.role.parse().map_err(|_| Access::Forbidden)?;
        if role == Role::Member {
            return Err(Access::Forbidden);
        }
        Ok(OrgAdmin {
            auth: self.clone(),
            user: UserId::from_db(member.id),
            actor: Actor {
                name: member.username.clone(),
                client: Some(client),
            },
            username: member.username,
            org: OrgId::from_db(member.org_id),
            role,
        })
    }
}

impl OrgAdmin {
    pub(super) fn now(&self) -> i64 {
        self.auth.now()
    }

    /// The changes themselves, made under this administrator's name.
    fn changes(&self) -> Administration<'_> {
        Administration::new(&self.auth.store, self.actor.clone())
    }

    pub async fn organization(&self) -> Result<Organization, AdminError> {
        self.auth
            .store
            .find_org(self.org)
            .await?
            .ok_or(AdminError::OrganizationGone)
    }

    /// The organizations the administrator may switch to.
    pub async fn organizations(&self) -> Result<Vec<(Organization, Role)>, AdminError> {
        Ok(self.auth.store.memberships_of(self.user).await?)
    }

    pub async fn rename(&self, name: &str) -> Result<Organization, AdminError> {
        if self.role != Role::Owner {
            return Err(AdminError::OwnersOnly(OwnerAction::RenameOrganization));
        }
        self.changes().rename_org(self.org, name, self.now()).await
    }

    pub async fn integrations(&self) -> Result<Vec<Integration>, AdminError> {
        self.changes().list_integrations(self.org).await
    }

    pub async fn create_integration(
        &self,
        name: &str,
        scopes: &[String],
    ) -> Result<(Integration, SecretKey), AdminError> {
        let scopes = Scopes::parse(scopes)?;
        self.changes()
            .create_integration(self.org, name, &scopes, self.now())
            .await
    }

    /// An integration of this organization (another organization's is not found).
    async fn own_integration(&self, key: &str) -> Result<ConsumerKey, AdminError> {
        let key = ConsumerKey::parse(key)?;
        match self.auth.store.find_integration(&key).await? {
            Some(record) if record.org_id == self.org => Ok(key),
            _ => Err(AdminError::UnknownIntegration(key.to_string())),
        }
    }

    pub async fn rotate_integration_secret(&self, key: &str) -> Result<SecretKey, AdminError> {
        let key = self.own_integration(key).await?;
        let (secret, ended) = self
            .changes()
            .rotate_integration_secret(&key, self.now())
            .await?;
        self.auth.remember_ended(ended);
        Ok(secret)
    }

    pub async fn revoke_integration(&self, key: &str) -> Result<(), AdminError> {
        let key = self.own_integration(key).await?;
        let ended = self.changes().revoke_integration(&key, self.now()).await?;
        self.auth.remember_ended(ended);
        Ok(())
    }

    /// Every member of the organization. Lists on request paths read [`OrgAdmin::members_page`].
    pub async fn members(&self) -> Result<Vec<Member>, AdminError> {
        self.changes().list_members(self.org).await
    }

    /// At most `limit` members with a user id above `after`, by user id.
    pub async fn members_page(&self, after: i64, limit: i64) -> Result<Vec<Member>, AdminError> {
        Ok(self.auth.store.members_page(self.org, after, limit).await?)
    }

    /// The member `user_id` of this organization, if it is one.
    pub async fn member(&self, user_id: i64) -> Result<Option<Member>, AdminError> {
        let user = UserId::from_db(user_id);
        Ok(self.auth.store.member(self.org, user).await?)
    }

    /// The member of this organization named `username` (as typed), if it is one.
    pub async fn member_named(&self, username: &str) -> Result<Option<Member>, AdminError> {
        let Ok(username) = Username::parse(username) else {
            return Ok(None);
        };
        Ok(self.auth.store.member_named(self.org, &username).await?)
    }

    /// Adds a member: a new account is created with a generated password, returned to be shown
    /// once; an existing one gets a membership only when it is a member of another organization
    /// this administrator administers too (otherwise [`AdminError::NotAddable`]).
    pub async fn add_member(
        &self,
        username: &str,
        role: Role,
    ) -> Result<(Member, Option<Password>), AdminError> {
        if role == Role::Owner && self.role != Role::Owner {
            return Err(AdminError::OwnersOnly(OwnerAction::AddOwner));
        }
        let username = Username::parse(username)?;
        let store = &self.auth.store;
        if let Some(user) = store.find_user(&username).await? {
            if self
                .changes()
                .require_member(self.org, &username)
                .await
                .is_ok()
            {
                return Err(AdminError::AlreadyMember(username));
            }
            // Accounts are global. An admin may bring in an existing account only from another
            // organization they administer too; otherwise one tenant's admin could create an
            // account, keep its password, and have another tenant add it later. Linking other
            // accounts is the operator's (`porteiro user grant`).
            let theirs = store.memberships_of(user.id).await?;
            let mine = store.memberships_of(self.user).await?;
            let shared = theirs.iter().any(|(org, _)| {
                mine.iter()
                    .any(|(o, role)| o.id == org.id && *role != Role::Member)
            });
            if !shared {
                return Err(AdminError::NotAddable);
            }
            let member = self
                .changes()
                .grant(&username, self.org, role, self.now())
                .await?;
            return Ok((member, None));
        }
        let password = Password::generate();
        let hash = self.auth.hasher.hash(password.secret().clone()).await?;
        let member = self
            .changes()
            .create_user(self.org, &username, role, &hash, self.now())
            .await
            .map_err(|e| match e {
                // Created meanwhile by someone else: refused like any account of other tenants,
                // and without the operator's advice that `create_user` gives.
                AdminError::UsernameTaken(_) => AdminError::NotAddable,
                other => other,
            })?;
        Ok((member, Some(password)))
    }

    /// Whether this administrator may change `member`'s membership: never their own, and an
    /// owner's only when they are an owner.
    pub fn may_change(&self, member: &Member) -> Result<(), AdminError> {
        if member.id == self.user.get() {
            return Err(AdminError::OwnMembership);
        }
        if member.role == Role::Owner.as_str() && self.role != Role::Owner {
            return Err(AdminError::OwnersOnly(OwnerAction::ChangeOwner));
        }
        Ok(())
    }

    /// The member `user_id` of this organization, checked against what this admin may change:
    /// never themselves, and an owner only when they are an owner.
    async fn changeable_member(&self, user_id: i64) -> Result<(Member, Username), AdminError> {
        let member = self
            .member(user_id)
            .await?
            .ok_or(AdminError::UnknownMember(user_id))?;
        self.may_change(&member)?;
        let username = Username::parse(&member.username)?;
        Ok((member, username))
    }

    pub async fn change_role(&self, user_id: i64, role: Role) -> Result<Member, AdminError> {
        let (_, username) = self.changeable_member(user_id).await?;
        if role == Role::Owner && self.role != Role::Owner {
            return Err(AdminError::OwnersOnly(OwnerAction::MakeOwner));
        }
        self.changes()
            .grant(&username, self.org, role, self.now())
            .await
    }

    pub async fn remove_member(&self, user_id: i64) -> Result<(), AdminError> {
        let (_, username) = self.changeable_member(user_id).await?;
        let ended = self
            .changes()
            .revoke(&username, self.org, self.now())
            .await?;
        self.auth.remember_ended(ended);
        Ok(())
    }

    /// Disables (or enables) a user account. Accounts are global, so only an account that belongs
    /// to this organization alone may be disabled from it.
    pub async fn set_member_active(&self, user_id: i64, active: bool) -> Result<(), AdminError> {
        let (_, username) = self.changeable_member(user_id).await?;
        let orgs = self
            .auth
            .store
            .memberships_of(UserId::from_db(user_id))
            .await?;
        if orgs.iter().any(|(o, _)| o.id != self.org.get()) {
            return Err(AdminError::BelongsElsewhere);
        }
        let ended = self
            .changes()
            .set_active(&username, active, self.now())
            .await?;
        self.auth.remember_ended(ended);
        Ok(())
    }
}
