//! Users' logins: the password checked under the lockout (against a dummy hash when there is no
//! such user, so that every failure costs the same), its outcome audited, and a session started.

use std::net::IpAddr;

use secrecy::SecretString;

use super::audit::{Kind, event};
use super::sessions::{Subject, TokenPair};
use super::{Auth, AuthError};
use crate::domain::{OrgId, UserId, Username};
use crate::metrics::{Outcome, Principal};
use crate::store::LoginRecord;

impl Auth {
    /// Logs `username` in to `org`: one generic failure, the same work, whatever is wrong.
    pub async fn login_user(
        &self,
        org: OrgId,
        username: &str,
        password: SecretString,
        client: IpAddr,
    ) -> Result<TokenPair, AuthError> {
        let username = Username::normalize(username);
        let (record, credential): (LoginRecord, String) = self
            .check_user_password(&username, password, client, Some(org))
            .await?;
        let subject = Subject::User {
            user: record.user_id,
            org,
        };
        let pair = self
            .start_session(&subject, &credential, client, self.user_lifetimes(), true)
            .await?;
        tracing::info!(%client, user = record.user_id.get(), org = org.get(), "login succeeded");
        Ok(pair)
    }

    /// Counts the attempt under the lockout, checks the password (against the dummy hash when
    /// there is no such user), and records the outcome. With `org`, the user must be a member of
    /// it. Returns the user and the password hash that was checked (upgraded if it was weak).
    pub(crate) async fn check_user_password(
        &self,
        username: &Username,
        password: SecretString,
        client: IpAddr,
        org: Option<OrgId>,
    ) -> Result<(LoginRecord, String), AuthError> {
        // A login the hashing threads cannot take is turned away before anything is counted.
        let slot = self.hasher.reserve()?;
        let keys = self.throttle.user_keys(username.as_str(), client);
        if let Some(retry_after) = self.throttle.admit(&keys, self.now()).await? {
            tracing::info!(%client, "login refused: locked out");
            self.metrics.login(Principal::User, Outcome::LockedOut);
            match self.audited_org(org).await? {
                Some(org)
                    if !self
                        .throttle
                        .first_report(org.get(), client, retry_after, self.now()) => {}
                Some(org) => {
                    let e = event(
                        Some(org),
                        self.now(),
                        Kind::LockedOut,
                        None,
                        None,
                        Some(client),
                    );
                    self.audit.record(e).await;
                }
                None => self.metrics.unaudited_attempt(Principal::User),
            }
            return Err(AuthError::LockedOut { retry_after });
        }
        let record = if username.could_exist() {
            self.store.find_login(username, org).await?
        } else {
            None
        };
        let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
        let checked = match slot.check(password, stored_hash).await {
            Ok(checked) => checked,
            Err(e) => {
                // No credential was checked: this attempt must not count as a failure.
                self.throttle.release(&keys).await?;
                return Err(e);
            }
        };
        // Only the username of a member is recorded: a password typed into the username field
        // must not land in the audit log, nor may an organization learn of other tenants' users.
        let known = record
            .as_ref()
            .filter(|r| org.is_none() || r.role.is_some())
            .map(|_| username.as_str());
        let user = record.as_ref().map(|r| r.user_id);
        let member = |r: &LoginRecord| org.is_none() || r.role.is_some();
        let Some(record) = record.filter(|r| checked.matches && r.active && member(r)) else {
            tracing::info!(%client, "login failed");
            self.metrics.login(Principal::User, Outcome::Failure);
            // Without an organization (a console sign-in), the events go to each organization
            // the user belongs to, so that their administrators see them.
            let audit_orgs = match org {
                Some(org) => Vec::from_iter(self.audited_org(Some(org)).await?),
                None => self.orgs_of(user).await?,
            };
            if audit_orgs.is_empty() {
                self.metrics.unaudited_attempt(Principal::User);
            }
            for org in audit_orgs {
                let e = event(
                    Some(org),
                    self.now(),
                    Kind::LoginFailed,
                    known,
                    known,
                    Some(client),
                );
                self.audit.record(e).await;
            }
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle.succeeded(&keys).await?;
        let mut credential = record.password_hash.clone();
        if let Some(hash) = checked.rehash
            && self
                .store
                .upgrade_password_hash(record.user_id, &credential, &hash)
                .await?
        {
            credential = hash;
        }
        self.metrics.login(Principal::User, Outcome::Success);
        let audit_orgs = match org {
            Some(org) => vec![org],
            None => self.orgs_of(user).await?,
        };
        for org in audit_orgs {
            let e = event(
                Some(org),
                self.now(),
                Kind::LoginSucceeded,
                known,
                known,
                Some(client),
            );
            self.audit.record(e).await;
        }
        Ok((record, credential))
    }

    /// The organization an attempt's events go to: `None` when it does not exist. Anyone can
    /// send failed logins to any organization id, and an event for each would let them fill the
    /// activity log (and the disk) from outside; such attempts are counted in `/metrics` only.
    /// Every failure asks, whatever else is wrong, so that all failures do the same work.
    async fn audited_org(&self, org: Option<OrgId>) -> Result<Option<OrgId>, AuthError> {
        let Some(org) = org else {
            return Ok(None);
        };
        Ok(self.store.org_exists(org).await?.then_some(org))
    }

    /// The organizations a user belongs to: where the events of a sign-in without an
    /// organization (the console's) go. None for an unknown username.
    async fn orgs_of(&self, user: Option<UserId>) -> Result<Vec<OrgId>, AuthError> {
        let Some(user) = user else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .memberships_of(user)
            .await?
            .iter()
            .map(|(o, _)| OrgId::from_db(o.id))
            .collect())
    }
}
