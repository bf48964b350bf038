//! Starting a session and issuing its tokens: the claims of each token, signed before the
//! session is written.

use std::net::IpAddr;

use super::{Lifetimes, Subject, TokenPair};
use crate::auth::{Auth, AuthError};
use crate::domain::SecretGeneration;
use crate::store::{NewSession, SessionKind};
use crate::tokens::claims::{integration_session_id, jti_digest, random_id, session_id};
use crate::tokens::{Claims, JwtType, TokenType};

impl Auth {
    pub(crate) fn user_lifetimes(&self) -> Lifetimes {
        self.sessions.user
    }

    pub(crate) fn integration_lifetimes(&self) -> Lifetimes {
        self.sessions.integration
    }

    pub(super) fn claims(
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
            aud: None,
        }
    }

    /// An access token: the dialects' JWT without `audience`; with one, an RFC 9068 access
    /// token (`typ: at+jwt`) for that audience, with the same claims besides.
    pub(super) fn sign_access(
        &self,
        subject: &Subject,
        sid: &str,
        now: i64,
        lifetime: i64,
        audience: Option<&str>,
    ) -> Result<(String, i64), AuthError> {
        let exp = now + lifetime;
        let mut claims = self.claims(subject, TokenType::Access, sid, random_id(), now, exp);
        let typ = match audience {
            None => JwtType::Jwt,
            Some(audience) => {
                claims.aud = Some(audience.to_owned());
                JwtType::AtJwt
            }
        };
        Ok((self.tokens.sign_as(typ, &claims, now)?, exp))
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
        self.start_session_for(subject, credential, client, lifetimes, with_refresh, None)
            .await
    }

    /// [`Auth::start_session`], with an access token for `audience` (see `sign_access`).
    pub(crate) async fn start_session_for(
        &self,
        subject: &Subject,
        credential: &str,
        client: IpAddr,
        lifetimes: Lifetimes,
        with_refresh: bool,
        audience: Option<&str>,
    ) -> Result<TokenPair, AuthError> {
        let now = self.now();
        let generation = match subject {
            Subject::User { .. } => None,
            Subject::Integration { consumer_key, .. } => Some(SecretGeneration {
                consumer_key,
                secret_digest: credential,
            }),
        };
        let sid = generation
            .as_ref()
            .map_or_else(session_id, integration_session_id);
        let refresh_exp = if with_refresh {
            now + lifetimes.refresh
        } else {
            now + lifetimes.access
        };
        // The tokens are signed before the session is written: signing is CPU work, and done
        // here it overlaps with the batch of sessions being written before this one.
        let (access, access_exp) =
            self.sign_access(subject, &sid, now, lifetimes.access, audience)?;
        if let (Some(generation), false) = (generation, with_refresh) {
            // Client credentials: an access token alone, ended only with its generation (or by
            // `/oauth/revoke`), so no session row (see `domain::secret_generation`). A secret
            // rotated or an integration revoked since the check, through this instance or
            // another one that this one has heard from, is a failed login as with a row.
            if self.ended.contains(&generation.marker()) {
                return Err(AuthError::InvalidCredentials);
            }
            return Ok(TokenPair {
                access,
                access_exp,
                refresh: None,
                refresh_exp,
            });
        }
        let refresh_jti = random_id();
        let refresh_jti_digest = jti_digest(&refresh_jti);
        let (kind, user_id, integration_id) = match subject {
            Subject::User { user, .. } => (SessionKind::User, Some(*user), None),
            Subject::Integration { id, .. } => (SessionKind::Integration, None, Some(*id)),
        };
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
}
