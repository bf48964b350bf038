//! Console sign-ins: a browser session for an owner or admin, kept in the database as a digest of
//! its cookie token, with a CSRF token, an idle timeout and an absolute lifetime. The same lockout
//! as the API applies.

use std::net::IpAddr;

use secrecy::SecretString;

use super::{Auth, AuthError};
use crate::domain::{OrgId, Role, UserId, Username};
use crate::tokens::claims::{jti_digest, random_id};

/// A console session ends after this long without a request.
pub const IDLE_TIMEOUT_SECONDS: i64 = 30 * 60;
/// And this long after its sign-in however busy it is, so that a cookie taken from a browser
/// that is kept open does not administer the organization for ever.
pub const LIFETIME_SECONDS: i64 = 8 * 60 * 60;

/// Why a sign-in did not open a console session.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Right password, but not an owner or admin of any organization.
    #[error("no organization to administer")]
    NoAccess,
}

/// A freshly opened console session: the cookie value and the form token.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub csrf_token: String,
    pub org: OrgId,
}

/// The console session a cookie stands for.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub user: UserId,
    pub org: OrgId,
    pub csrf_token: String,
}

impl Auth {
    /// Checks the password under the lockout and opens a console session in the first
    /// organization the user administers.
    pub async fn console_sign_in(
        &self,
        username: &str,
        password: SecretString,
        client: IpAddr,
    ) -> Result<SignedIn, SignInError> {
        let username = Username::normalize(username);
        let (record, credential) = self
            .check_user_password(&username, password, client, None)
            .await?;
        let orgs = self
            .store
            .memberships_of(record.user_id)
            .await
            .map_err(AuthError::from)?;
        let Some((org, _)) = orgs.iter().find(|(_, role)| *role != Role::Member) else {
            return Err(SignInError::NoAccess);
        };
        let org = OrgId::from_db(org.id);
        let (token, csrf_token) = (random_id(), random_id());
        let opened = self
            .store
            .insert_console_session(
                &jti_digest(&token),
                record.user_id,
                org,
                &csrf_token,
                &credential,
                self.now(),
            )
            .await
            .map_err(AuthError::from)?;
        // The password was changed, the account disabled or the role taken away since the
        // password was checked: the sign-in fails like one with a wrong password.
        if !opened {
            return Err(AuthError::InvalidCredentials.into());
        }
        Ok(SignedIn {
            token,
            csrf_token,
            org,
        })
    }

    /// The open console session of a cookie token, neither idle nor older than its lifetime;
    /// seeing it keeps it alive.
    pub async fn console_user(&self, token: &str) -> Result<Option<ConsoleUser>, AuthError> {
        let digest = jti_digest(token);
        let Some(session) = self.store.find_console_session(&digest).await? else {
            return Ok(None);
        };
        let now = self.now();
        if now - session.last_seen_at > IDLE_TIMEOUT_SECONDS
            || now - session.created_at > LIFETIME_SECONDS
        {
            self.store.end_console_session(&digest, now).await?;
            return Ok(None);
        }
        self.store
            .touch_console_session(&digest, session.org_id, now)
            .await?;
        Ok(Some(ConsoleUser {
            user: session.user_id,
            org: session.org_id,
            csrf_token: session.csrf_token,
        }))
    }

    /// Moves a console session to another organization the user administers.
    pub async fn console_switch(
        &self,
        token: &str,
        user: UserId,
        org: OrgId,
    ) -> Result<bool, AuthError> {
        let administers = self
            .store
            .memberships_of(user)
            .await?
            .iter()
            .any(|(o, role)| o.id == org.get() && *role != Role::Member);
        if administers {
            self.store
                .touch_console_session(&jti_digest(token), org, self.now())
                .await?;
        }
        Ok(administers)
    }

    pub async fn console_sign_out(&self, token: &str) -> Result<(), AuthError> {
        self.store
            .end_console_session(&jti_digest(token), self.now())
            .await?;
        Ok(())
    }
}
