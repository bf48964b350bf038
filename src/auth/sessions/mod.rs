//! Sessions, whoever their subject: a session starts at a login (`issue`), its refresh token
//! is refreshed with optional rotation (`refresh`), its tokens are verified, and it ends at a
//! logout, by an administrator or by reuse of a consumed refresh token. The session writes of
//! the token endpoints go through one batching writer ([`writes`]); the sessions ended are known
//! in memory ([`ended`]), so that a bearer check costs no database round trip.

pub mod ended;
mod issue;
mod refresh;
pub mod writes;

use std::time::Duration;

use super::{Auth, AuthError};
use crate::domain::secret_generation::marker_of;
use crate::domain::{Integration, Member, OrgId, Scopes, UserId};
use crate::store::{EndReason, SessionRecord};
use crate::tokens::claims::jti_digest;
use crate::tokens::{Claims, TokenType};

/// Who a session's tokens are for.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    User {
        user: UserId,
        org: OrgId,
    },
    Integration {
        id: i64,
        org: OrgId,
        consumer_key: String,
        scopes: Scopes,
    },
}

impl Subject {
    fn org(&self) -> OrgId {
        match self {
            Subject::User { org, .. } | Subject::Integration { org, .. } => *org,
        }
    }
}

/// How sessions are issued and refreshed.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// The token lifetimes of users' sessions.
    pub user: Lifetimes,
    /// The token lifetimes of integrations' sessions.
    pub integration: Lifetimes,
    /// Whether a user's refresh replaces the refresh token too (an integration's always does).
    pub rotate_refresh_tokens: bool,
    /// How long after a rotation a retry with the consumed token is answered alike.
    pub refresh_reuse_grace: Duration,
}

/// A freshly issued set of tokens. `refresh` is absent where none is issued.
#[derive(Debug)]
pub struct TokenPair {
    pub access: String,
    pub access_exp: i64,
    pub refresh: Option<String>,
    pub refresh_exp: i64,
}

/// Token lifetimes of one dialect, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access: i64,
    pub refresh: i64,
}

/// Who an access token belongs to.
#[derive(Debug, Clone)]
pub enum Identity {
    User(Member),
    Integration(Integration),
}

impl Auth {
    /// Verifies a token of ours whose session is still open.
    pub(crate) fn verify_open(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.tokens.verify(token, self.now()).map_err(|reason| {
            tracing::debug!(%reason, "token refused");
            AuthError::InvalidToken
        })?;
        if self.ended.contains(&claims.sid) {
            return Err(AuthError::InvalidToken);
        }
        // An integration's token also ends with the secret it was issued under.
        if let Some(key) = claims.client_id.as_deref()
            && claims.user_id.is_none()
            && marker_of(key, &claims.sid).is_some_and(|marker| self.ended.contains(&marker))
        {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
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

    /// A session that exists, has not ended and whose subject is still entitled.
    async fn open_session(&self, sid: &str) -> Result<SessionRecord, AuthError> {
        let session = self
            .store
            .find_session(sid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if session.ended {
            self.ended.insert(sid.to_owned(), self.now());
            return Err(AuthError::InvalidToken);
        }
        if !session.entitled {
            return Err(AuthError::InvalidToken);
        }
        Ok(session)
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

    /// Ends a session here and now, and remembers it for bearer checks on this instance.
    pub async fn end_session(&self, sid: &str, reason: EndReason) -> Result<bool, AuthError> {
        let now = self.now();
        let ended = self.store.end_session(sid, now, reason).await?;
        self.ended.insert(sid.to_owned(), now);
        Ok(ended)
    }

    /// Remembers sessions ended by an administrative change made through this instance, so that
    /// its bearer checks refuse them at once, and forgets the records it had read before.
    pub fn remember_ended(&self, sids: Vec<String>) {
        self.identities.clear();
        self.integrations.clear();
        let now = self.now();
        for sid in sids {
            self.ended.insert(sid, now);
        }
    }
}
