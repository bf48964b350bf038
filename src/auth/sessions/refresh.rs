//! The refresh step: a new access token, and with rotation a new refresh token too — the
//! presented one consumed once, a retry within the grace window answered alike, and any other
//! reuse ending the session.

use super::{Lifetimes, Subject, TokenPair};
use crate::auth::audit::{Kind, event};
use crate::auth::{Auth, AuthError};
use crate::domain::{OrgId, UserId};
use crate::store::{EndReason, Rotation};
use crate::tokens::claims::{jti_digest, next_jti};
use crate::tokens::{Claims, TokenType};

impl Auth {
    pub(super) fn verify_user_refresh(&self, token: &str) -> Result<(Claims, Subject), AuthError> {
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
        // The session's row says whether the user is still an active member.
        let rotate = self.sessions.rotate_refresh_tokens;
        self.refresh_session(&claims, &subject, rotate, self.user_lifetimes(), None)
            .await
    }

    /// The refresh step for a verified refresh token of an open session whose subject is still
    /// entitled (both checked in the database with the session). Without rotation the presented
    /// token must be the session's one and stays valid; with rotation it is consumed atomically,
    /// in one statement when all is well. The new access token is for `audience` (see
    /// `sign_access`); a refresh token never has one.
    pub(crate) async fn refresh_session(
        &self,
        claims: &Claims,
        subject: &Subject,
        rotate: bool,
        lifetimes: Lifetimes,
        audience: Option<&str>,
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
            let (access, access_exp) =
                self.sign_access(subject, sid, now, lifetimes.access, audience)?;
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
        let (access, access_exp) =
            self.sign_access(subject, sid, now, lifetimes.access, audience)?;
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
            i64::try_from(self.sessions.refresh_reuse_grace.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(rotated_at_ms) < grace
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
                .record(event(org, now, Kind::RefreshReuse, who, who, None))
                .await;
            tracing::warn!(org = claims.org_id, sub = %claims.sub, "refresh token reuse: session ended");
        }
        Ok(())
    }
}
