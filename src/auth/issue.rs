//! Issuing tokens for a session, whoever its subject: starting a session at login, and the
//! refresh step with optional rotation (consume once, grace for a retry, reuse ends the session).

use std::net::IpAddr;

use super::{Auth, AuthError};
use crate::domain::{OrgId, Scopes, UserId};
use crate::store::{EndReason, NewSession, Rotation, SessionKind, SessionRecord};
use crate::tokens::claims::{jti_digest, next_jti, random_id, session_id};
use crate::tokens::{Claims, TokenType};

/// Who a session's tokens are for.
#[derive(Debug, Clone)]
pub enum Subject {
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

impl Auth {
    pub(crate) fn user_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.settings.access_token_lifetime.as_secs() as i64,
            refresh: self.settings.refresh_token_lifetime.as_secs() as i64,
        }
    }

    pub(crate) fn integration_lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.settings.integration_access_token_lifetime.as_secs() as i64,
            refresh: self.settings.integration_refresh_token_lifetime.as_secs() as i64,
        }
    }

    fn claims(
        &self,
        subject: &Subject,
        token_type: TokenType,
        sid: &str,
        jti: String,
        iat: i64,
        exp: i64,
    ) -> Claims {
        let (sub, user_id, client, scope) = match subject {
            Subject::User { user, .. } => (user.to_string(), Some(user.get()), None, None),
            Subject::Integration {
                consumer_key,
                scopes,
                ..
            } => (
                consumer_key.clone(),
                None,
                Some(consumer_key.clone()),
                (!scopes.is_empty()).then(|| scopes.joined()),
            ),
        };
        Claims {
            token_type,
            exp,
            iat,
            jti,
            iss: self.tokens.issuer.clone(),
            sub,
            sid: sid.to_owned(),
            org_id: subject.org().get(),
            user_id,
            id: client.clone(),
            client_id: client,
            scope,
        }
    }

    fn sign_access(
        &self,
        subject: &Subject,
        sid: &str,
        now: i64,
        lifetime: i64,
    ) -> Result<(String, i64), AuthError> {
        let exp = now + lifetime;
        let claims = self.claims(subject, TokenType::Access, sid, random_id(), now, exp);
        Ok((self.tokens.sign(&claims, now)?, exp))
    }

    /// Starts a session for `subject` and issues its first tokens; without `with_refresh` only an
    /// access token (client credentials). `credential` is the password hash or secret digest just
    /// checked: if it changed meanwhile, or the subject lost its access, the login fails.
    pub(crate) async fn start_session(
        &self,
        subject: &Subject,
        credential: &str,
        client: IpAddr,
        lifetimes: Lifetimes,
        with_refresh: bool,
    ) -> Result<TokenPair, AuthError> {
        let now = self.now();
        let sid = session_id();
        let refresh_jti = random_id();
        let refresh_jti_digest = jti_digest(&refresh_jti);
        let refresh_exp = if with_refresh {
            now + lifetimes.refresh
        } else {
            now + lifetimes.access
        };
        let (kind, user_id, integration_id) = match subject {
            Subject::User { user, .. } => (SessionKind::User, Some(*user), None),
            Subject::Integration { id, .. } => (SessionKind::Integration, None, Some(*id)),
        };
        // The tokens are signed before the session is written: signing is CPU work, and done
        // here it overlaps with the batch of sessions being written before this one.
        let (access, access_exp) = self.sign_access(subject, &sid, now, lifetimes.access)?;
        let refresh = if with_refresh {
            let claims = self.claims(
                subject,
                TokenType::Refresh,
                &sid,
                refresh_jti,
                now,
                refresh_exp,
            );
            Some(self.tokens.sign(&claims, now)?)
        } else {
            None
        };
        let created = self
            .session_writes
            .insert(NewSession {
                sid,
                kind,
                user_id,
                integration_id,
                org_id: subject.org(),
                client_addr: client.to_string(),
                now,
                refresh_jti_digest,
                refresh_exp,
                credential: credential.to_owned(),
            })
            .await?;
        if !created {
            return Err(AuthError::InvalidCredentials);
        }
        Ok(TokenPair {
            access,
            access_exp,
            refresh,
            refresh_exp,
        })
    }

    /// The refresh step for a verified refresh token of an open session whose subject is still
    /// entitled (both checked in the database with the session). Without rotation the presented
    /// token must be the session's one and stays valid; with rotation it is consumed atomically,
    /// in one statement when all is well.
    pub(crate) async fn refresh_session(
        &self,
        claims: &Claims,
        subject: &Subject,
        rotate: bool,
        lifetimes: Lifetimes,
    ) -> Result<TokenPair, AuthError> {
        let sid = claims.sid.as_str();
        let presented = jti_digest(&claims.jti);
        let now = self.now();
        if !rotate {
            let session = self.open_session(sid).await?;
            if presented != session.current_jti_digest {
                return Err(AuthError::InvalidToken);
            }
            // "Last used" is shown to the minute; refreshing must not cost a write every time.
            if now - session.last_used_at >= 60 {
                self.store.touch_session(sid, now).await?;
            }
            let (access, access_exp) = self.sign_access(subject, sid, now, lifetimes.access)?;
            return Ok(TokenPair {
                access,
                access_exp,
                refresh: None,
                refresh_exp: claims.exp,
            });
        }
        let now_ms = self.clock.now_millis();
        let next = next_jti(sid, &claims.jti);
        let next_exp = now + lifetimes.refresh;
        let rotated = self
            .session_writes
            .rotate(Rotation {
                sid: sid.to_owned(),
                presented: presented.clone(),
                next: jti_digest(&next),
                next_exp,
                now,
                now_ms,
            })
            .await?;
        let (iat, exp) = if rotated {
            (now, next_exp)
        } else {
            // Lost the race, presented an old token, or the session is over: only a retry of the
            // immediate predecessor inside the grace window is answered, with the same newest
            // token.
            let session = self.open_session(sid).await?;
            if session.current_jti_digest == presented {
                // Not consumed, so not a reuse: the session's subject lost its access just now.
                return Err(AuthError::InvalidToken);
            }
            let retry = session.previous_jti_digest.as_deref() == Some(presented.as_str())
                && session.current_jti_digest == jti_digest(&next)
                && session
                    .rotated_at_ms
                    .is_some_and(|at| self.within_reuse_grace(at, now_ms));
            if !retry {
                self.refresh_reused(claims, now).await?;
                return Err(AuthError::InvalidToken);
            }
            let rotated_at = session.rotated_at_ms.map_or(now, |ms| ms.div_euclid(1000));
            (rotated_at, session.current_exp)
        };
        let refresh = self.claims(subject, TokenType::Refresh, sid, next, iat, exp);
        let (access, access_exp) = self.sign_access(subject, sid, now, lifetimes.access)?;
        Ok(TokenPair {
            access,
            access_exp,
            refresh: Some(self.tokens.sign(&refresh, now)?),
            refresh_exp: exp,
        })
    }

    /// Whether a retry at `now_ms` of a token consumed at `rotated_at_ms` falls inside the grace
    /// window: strictly less than the window after the rotation, to the millisecond, so a window
    /// of 0 s accepts no retry at all.
    fn within_reuse_grace(&self, rotated_at_ms: i64, now_ms: i64) -> bool {
        let grace =
            i64::try_from(self.settings.refresh_reuse_grace.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(rotated_at_ms) < grace
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

    /// A consumed refresh token came back, outside the grace of a retry: its session ends.
    async fn refresh_reused(&self, claims: &Claims, now: i64) -> Result<(), AuthError> {
        if self
            .end_session(&claims.sid, EndReason::RefreshReuse)
            .await?
        {
            self.metrics.refresh_reuse();
            let org = Some(OrgId::from_db(claims.org_id));
            let who = Some(claims.sub.as_str());
            self.audit
                .record(super::audit::event(
                    org,
                    now,
                    super::audit::Kind::RefreshReuse,
                    who,
                    who,
                    None,
                ))
                .await;
            tracing::warn!(org = claims.org_id, sub = %claims.sub, "refresh token reuse: session ended");
        }
        Ok(())
    }

    /// Verifies a token of ours whose session is still open.
    pub(crate) fn verify_open(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = self.tokens.verify(token, self.now()).map_err(|reason| {
            tracing::debug!(%reason, "token refused");
            AuthError::InvalidToken
        })?;
        if self.ended.contains(&claims.sid) {
            return Err(AuthError::InvalidToken);
        }
        Ok(claims)
    }

    /// Ends a session here and now, and remembers it for bearer checks on this instance.
    pub async fn end_session(&self, sid: &str, reason: EndReason) -> Result<bool, AuthError> {
        let now = self.now();
        let ended = self.store.end_session(sid, now, reason).await?;
        self.ended.insert(sid.to_owned(), now);
        Ok(ended)
    }
}
