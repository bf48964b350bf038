//! The user-login dialect's use-cases: log in, refresh, verify, log out, and resolve an access
//! token to who it belongs to.

use std::net::IpAddr;

use secrecy::SecretString;

use super::audit::{Kind, event};
use super::issue::{Subject, TokenPair};
use super::{Auth, AuthError};
use crate::domain::{OrgId, Scopes, UserId, Username};
use crate::metrics::{Outcome, Principal};
use crate::store::{EndReason, IntegrationRecord, LoginRecord, MemberRecord};
use crate::tokens::claims::jti_digest;
use crate::tokens::{Claims, TokenType};

/// Who an access token belongs to.
#[derive(Debug, Clone)]
pub enum Identity {
    User(MemberRecord),
    Integration(IntegrationRecord),
}

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

    fn verify_user_refresh(&self, token: &str) -> Result<(Claims, Subject), AuthError> {
        let claims = self.verify_open(token)?;
        match (claims.token_type, claims.user_id) {
            (TokenType::Refresh, Some(user)) => {
                let subject = Subject::User {
                    user: UserId::from_db(user),
                    org: OrgId::from_db(claims.org_id),
                };
                Ok((claims, subject))
            }
            _ => Err(AuthError::InvalidToken),
        }
    }

    /// A user's refresh: a new access token, and with rotation on a new refresh token too.
    pub async fn refresh_user(&self, token: &str) -> Result<TokenPair, AuthError> {
        let (claims, subject) = self.verify_user_refresh(token)?;
        if !matches!(subject, Subject::User { .. }) {
            return Err(AuthError::InvalidToken);
        }
        // The session's row says whether the user is still an active member.
        let rotate = self.settings.rotate_refresh_tokens;
        self.refresh_session(&claims, &subject, rotate, self.user_lifetimes())
            .await
    }

    /// Any token of ours, access or refresh, unexpired and of an open session. A refresh token
    /// outlives the in-memory list of ended sessions, so its session is read from the database,
    /// and a consumed refresh token is no longer valid.
    pub async fn verify_any(&self, token: &str) -> Result<(), AuthError> {
        let claims = self.verify_open(token)?;
        if claims.token_type == TokenType::Refresh {
            self.current_refresh_session(&claims).await?;
        }
        Ok(())
    }

    /// Fails unless `claims` are of the current refresh token of an open session.
    async fn current_refresh_session(&self, claims: &Claims) -> Result<(), AuthError> {
        let session = self
            .store
            .find_session(&claims.sid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if session.ended || session.current_jti_digest != jti_digest(&claims.jti) {
            return Err(AuthError::InvalidToken);
        }
        Ok(())
    }

    /// Logout: the refresh token's session ends. A consumed refresh token is refused as by
    /// token-refresh, and ends the session as reuse.
    pub async fn blacklist_user_refresh(&self, token: &str) -> Result<(), AuthError> {
        let (claims, _) = self.verify_user_refresh(token)?;
        if let Err(e) = self.current_refresh_session(&claims).await {
            if matches!(e, AuthError::InvalidToken) {
                self.end_session(&claims.sid, EndReason::RefreshReuse)
                    .await?;
            }
            return Err(e);
        }
        if self.end_session(&claims.sid, EndReason::Logout).await? {
            Ok(())
        } else {
            Err(AuthError::InvalidToken)
        }
    }

    /// Resolves a bearer access token to who it belongs to, as they are now (to the second). An
    /// integration's scopes are those the token carries, not all of the integration's: a
    /// client-credentials token may have asked for fewer, and a resource server that authorizes
    /// by this answer must not grant more than the token was given.
    pub async fn identify(&self, token: &str) -> Result<Identity, AuthError> {
        let claims = self.verify_open(token)?;
        if claims.token_type != TokenType::Access {
            return Err(AuthError::InvalidToken);
        }
        let now = self.now();
        let identity = match self.identities.get(&claims.sid, now) {
            Some(identity) => identity,
            None => {
                let identity = self
                    .subject_of(&claims)
                    .await?
                    .ok_or(AuthError::InvalidToken)?;
                self.identities.insert(&claims.sid, &identity, now);
                identity
            }
        };
        Ok(match identity {
            Identity::Integration(mut record) => {
                record.scopes = Scopes::from_db(claims.scope.as_deref().unwrap_or_default());
                Identity::Integration(record)
            }
            user => user,
        })
    }

    /// The current record of a token's subject, if still entitled to tokens of its organization.
    pub(crate) async fn subject_of(&self, claims: &Claims) -> Result<Option<Identity>, AuthError> {
        let org = OrgId::from_db(claims.org_id);
        if let Some(user) = claims.user_id {
            return Ok(self
                .store
                .active_member(UserId::from_db(user), org)
                .await?
                .map(Identity::User));
        }
        let Some(key) = claims
            .client_id
            .as_deref()
            .and_then(|k| crate::domain::ConsumerKey::parse(k).ok())
        else {
            return Ok(None);
        };
        Ok(self
            .integration_record(&key)
            .await?
            .filter(|i| i.revoked_at.is_none() && i.org_id == org)
            .map(Identity::Integration))
    }
}
