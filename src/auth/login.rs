//! The user-login dialect's use-cases: log in, refresh (with optional rotation), verify, log out,
//! and resolve an access token to who it belongs to.

use std::net::IpAddr;

use secrecy::SecretString;

use super::throttle::AttemptKeys;
use super::{Auth, AuthError};
use crate::domain::{OrgId, UserId, Username};
use crate::store::{EndReason, MemberRecord, NewSession, SessionKind};
use crate::tokens::claims::{jti_digest, next_jti, random_id};
use crate::tokens::{Claims, TokenType};

/// A freshly issued pair; `refresh` is absent where the dialect keeps the presented one.
#[derive(Debug)]
pub struct TokenPair {
    pub access: String,
    pub access_exp: i64,
    pub refresh: Option<String>,
    pub refresh_exp: i64,
}

/// Who an access token belongs to.
#[derive(Debug)]
pub enum Identity {
    User(MemberRecord),
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
        let keys = AttemptKeys::user(username.as_str(), client);
        if let Some(retry_after) = self.throttle.admit(&keys, self.now()).await? {
            tracing::info!(%client, "login refused: locked out");
            return Err(AuthError::LockedOut { retry_after });
        }
        let record = if username.could_exist() {
            self.store.find_login(&username, org).await?
        } else {
            None
        };
        let stored_hash = record.as_ref().map(|r| r.password_hash.clone());
        let checked = self.hasher.check(password, stored_hash).await?;
        let Some(record) = record.filter(|r| checked.matches && r.active && r.role.is_some())
        else {
            tracing::info!(%client, org = org.get(), "login failed");
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle.succeeded(&keys).await?;
        if let Some(hash) = checked.rehash {
            self.store.set_password_hash(record.user_id, &hash).await?;
        }
        let pair = self.start_user_session(record.user_id, org, client).await?;
        tracing::info!(%client, user = record.user_id.get(), org = org.get(), "login succeeded");
        Ok(pair)
    }

    async fn start_user_session(
        &self,
        user: UserId,
        org: OrgId,
        client: IpAddr,
    ) -> Result<TokenPair, AuthError> {
        let now = self.now();
        let sid = random_id();
        let refresh_jti = random_id();
        let refresh_exp = now + self.settings.refresh_token_lifetime.as_secs() as i64;
        self.store
            .insert_session(&NewSession {
                sid: &sid,
                kind: SessionKind::User,
                user_id: Some(user),
                org_id: org,
                client_addr: &client.to_string(),
                now,
                refresh_jti_digest: &jti_digest(&refresh_jti),
                refresh_exp,
            })
            .await?;
        let refresh = self.user_claims(
            TokenType::Refresh,
            user,
            org,
            &sid,
            refresh_jti,
            now,
            refresh_exp,
        );
        let (access, access_exp) = self.user_access(user, org, &sid, now)?;
        Ok(TokenPair {
            access,
            access_exp,
            refresh: Some(self.tokens.sign(&refresh, now)?),
            refresh_exp,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn user_claims(
        &self,
        token_type: TokenType,
        user: UserId,
        org: OrgId,
        sid: &str,
        jti: String,
        iat: i64,
        exp: i64,
    ) -> Claims {
        Claims {
            token_type,
            exp,
            iat,
            jti,
            iss: self.tokens.issuer.clone(),
            sub: user.to_string(),
            sid: sid.to_owned(),
            org_id: org.get(),
            user_id: Some(user.get()),
            client_id: None,
            id: None,
            scope: None,
        }
    }

    fn user_access(
        &self,
        user: UserId,
        org: OrgId,
        sid: &str,
        now: i64,
    ) -> Result<(String, i64), AuthError> {
        let exp = now + self.settings.access_token_lifetime.as_secs() as i64;
        let claims = self.user_claims(TokenType::Access, user, org, sid, random_id(), now, exp);
        Ok((self.tokens.sign(&claims, now)?, exp))
    }

    /// Verifies a token of ours whose session is still open.
    fn verify_open(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.tokens.verify(token, self.now()).map_err(|reason| {
            tracing::debug!(%reason, "token refused");
            AuthError::InvalidToken
        })?;
        if self.ended.contains(&claims.sid) {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
    }

    fn verify_user_refresh(&self, token: &str) -> Result<(Claims, UserId, OrgId), AuthError> {
        let claims = self.verify_open(token)?;
        match (claims.token_type, claims.user_id) {
            (TokenType::Refresh, Some(user)) => {
                let (user, org) = (UserId::from_db(user), OrgId::from_db(claims.org_id));
                Ok((claims, user, org))
            }
            _ => Err(AuthError::InvalidToken),
        }
    }

    /// Ends a session here and now, and remembers it for bearer checks on this instance.
    pub async fn end_session(&self, sid: &str, reason: EndReason) -> Result<bool, AuthError> {
        let now = self.now();
        let ended = self.store.end_session(sid, now, reason).await?;
        self.ended.insert(sid.to_owned(), now);
        Ok(ended)
    }

    /// A user's refresh: a new access token, and with rotation on a new refresh token too.
    pub async fn refresh_user(&self, token: &str) -> Result<TokenPair, AuthError> {
        let (claims, user, org) = self.verify_user_refresh(token)?;
        let session = self
            .store
            .find_session(&claims.sid)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if session.ended {
            self.ended.insert(claims.sid.clone(), self.now());
            return Err(AuthError::InvalidToken);
        }
        if self.store.active_member(user, org).await?.is_none() {
            return Err(AuthError::InvalidToken);
        }
        let presented = jti_digest(&claims.jti);
        let now = self.now();
        if !self.settings.rotate_refresh_tokens {
            if presented != session.current_jti_digest {
                return Err(AuthError::InvalidToken);
            }
            self.store.touch_session(&claims.sid, now).await?;
            let (access, access_exp) = self.user_access(user, org, &claims.sid, now)?;
            return Ok(TokenPair {
                access,
                access_exp,
                refresh: None,
                refresh_exp: claims.exp,
            });
        }
        let next = next_jti(&claims.sid, &claims.jti);
        let next_exp = now + self.settings.refresh_token_lifetime.as_secs() as i64;
        let (iat, exp) = if self
            .store
            .rotate_refresh(&claims.sid, &presented, &jti_digest(&next), next_exp, now)
            .await?
        {
            (now, next_exp)
        } else {
            // Lost the race or presented an old token: only a retry of the immediate predecessor
            // inside the grace window is answered — with the same newest token.
            let session = self
                .store
                .find_session(&claims.sid)
                .await?
                .ok_or(AuthError::InvalidToken)?;
            let grace = self.settings.refresh_reuse_grace.as_secs() as i64;
            let retry = !session.ended
                && session.previous_jti_digest.as_deref() == Some(presented.as_str())
                && session.current_jti_digest == jti_digest(&next)
                && session.rotated_at.is_some_and(|at| now - at <= grace);
            if !retry {
                if self
                    .end_session(&claims.sid, EndReason::RefreshReuse)
                    .await?
                {
                    tracing::warn!(
                        user = user.get(),
                        org = org.get(),
                        "refresh token reuse: session ended"
                    );
                }
                return Err(AuthError::InvalidToken);
            }
            (session.rotated_at.unwrap_or(now), session.current_exp)
        };
        let refresh = self.user_claims(TokenType::Refresh, user, org, &claims.sid, next, iat, exp);
        let (access, access_exp) = self.user_access(user, org, &claims.sid, now)?;
        Ok(TokenPair {
            access,
            access_exp,
            refresh: Some(self.tokens.sign(&refresh, now)?),
            refresh_exp: exp,
        })
    }

    /// Any token of ours, access or refresh, unexpired and of an open session.
    pub fn verify_any(&self, token: &str) -> Result<(), AuthError> {
        self.verify_open(token).map(|_| ())
    }

    /// Logout: the refresh token's session ends.
    pub async fn blacklist_user_refresh(&self, token: &str) -> Result<(), AuthError> {
        let (claims, _, _) = self.verify_user_refresh(token)?;
        if self.end_session(&claims.sid, EndReason::Logout).await? {
            Ok(())
        } else {
            Err(AuthError::InvalidToken)
        }
    }

    /// Resolves a bearer access token to who it belongs to.
    pub async fn identify(&self, token: &str) -> Result<Identity, AuthError> {
        let claims = self.verify_open(token)?;
        if claims.token_type != TokenType::Access {
            return Err(AuthError::InvalidToken);
        }
        match claims.user_id {
            Some(user) => self
                .store
                .active_member(UserId::from_db(user), OrgId::from_db(claims.org_id))
                .await?
                .map(Identity::User)
                .ok_or(AuthError::InvalidToken),
            None => Err(AuthError::InvalidToken),
        }
    }
}
