//! The integration dialect's and OAuth 2's use-cases: authenticate a consumer key and secret key
//! under the lockout, issue and refresh integration tokens, client credentials, introspection
//! and revocation.

use std::net::IpAddr;

use super::audit::{Kind, event};
use super::sessions::{Identity, Subject, TokenPair};
use super::{Auth, AuthError};
use crate::domain::{ConsumerKey, Integration, OrgId, Scopes, SecretKey};
use crate::metrics::{Outcome, Principal};
use crate::store::EndReason;
use crate::tokens::claims::jti_digest;
use crate::tokens::{Claims, TokenType};

/// Client credentials as presented, before any check.
#[derive(Debug)]
pub struct ClientAuth {
    pub client_id: String,
    pub client_secret: SecretKey,
}

/// What introspection found about an active token.
#[derive(Debug)]
pub struct Introspection {
    pub claims: Claims,
    /// The username, for user tokens.
    pub username: Option<String>,
}

/// Compared against when the consumer key is unknown, so that case does the same work.
const NO_SECRET_DIGEST: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn subject_of_integration(record: &Integration, scopes: Scopes) -> Subject {
    Subject::Integration {
        id: record.id,
        org: record.org_id,
        consumer_key: record.consumer_key.clone(),
        scopes,
    }
}

impl Auth {
    /// Checks a consumer key and secret key under the lockout (see [`Throttle::peek`]). A success
    /// is recorded in the audit log when it leads to tokens (`for_tokens`); checks that only
    /// authenticate an introspection or revocation are not logins.
    ///
    /// [`Throttle::peek`]: super::throttle::Throttle::peek
    async fn authenticate_integration(
        &self,
        key: &ConsumerKey,
        secret: &SecretKey,
        client: IpAddr,
        for_tokens: bool,
    ) -> Result<Integration, AuthError> {
        let keys = self.throttle.integration_keys(key.as_str(), client);
        let now = self.now();
        let peek = self.throttle.peek(&keys, now).await?;
        let record = self.integration_record(key).await?;
        let org = record.as_ref().map(|r| r.org_id);
        if let Some(retry_after) = peek.locked {
            return Err(self
                .integration_locked_out(key, org, client, retry_after)
                .await);
        }
        let digest = record
            .as_ref()
            .map_or(NO_SECRET_DIGEST, |r| r.secret_digest.as_str());
        let matches = secret.matches(digest);
        let Some(record) = record.filter(|r| matches && r.revoked_at.is_none()) else {
            if let Some(retry_after) = self.throttle.failed(&keys, now).await? {
                return Err(self
                    .integration_locked_out(key, org, client, retry_after)
                    .await);
            }
            tracing::info!(%client, consumer_key = %key, "integration authentication failed");
            self.metrics.login(Principal::Integration, Outcome::Failure);
            // An unknown consumer key concerns no organization: no activity log would show its
            // event, and anyone could send them without end (see `Auth::audited_org`).
            match org {
                Some(org) => {
                    let key = Some(key.as_str());
                    let e = event(Some(org), now, Kind::LoginFailed, key, key, Some(client));
                    self.audit.record(e).await;
                }
                None => self.metrics.unaudited_attempt(Principal::Integration),
            }
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle.forget(&keys, peek).await?;
        self.metrics.login(Principal::Integration, Outcome::Success);
        if for_tokens {
            let key = Some(record.consumer_key.as_str());
            let e = event(
                Some(record.org_id),
                now,
                Kind::IntegrationAuthenticated,
                key,
                key,
                Some(client),
            );
            self.audit.record(e).await;
        }
        // Last use is shown to administrators to the minute; writing it on every token would
        // make every client-credentials call a second write.
        if record.last_used_at.is_none_or(|at| now - at >= 60) {
            self.store.touch_integration(record.id, now).await?;
            self.integrations.clear();
        }
        Ok(record)
    }

    /// An integration's record, as read from the database at most a second ago (see
    /// [`super::recent`]): unknown keys are not remembered.
    pub(crate) async fn integration_record(
        &self,
        key: &ConsumerKey,
    ) -> Result<Option<Integration>, AuthError> {
        let now = self.now();
        if let Some(record) = self.integrations.get(key.as_str(), now) {
            return Ok(Some(record));
        }
        let record = self.store.find_integration(key).await?;
        if let Some(record) = &record {
            self.integrations.insert(key.as_str(), record, now);
        }
        Ok(record)
    }

    async fn integration_locked_out(
        &self,
        key: &ConsumerKey,
        org: Option<OrgId>,
        client: IpAddr,
        retry_after: u64,
    ) -> AuthError {
        tracing::info!(%client, consumer_key = %key, "integration refused: locked out");
        self.metrics
            .login(Principal::Integration, Outcome::LockedOut);
        match org {
            Some(org)
                if !self
                    .throttle
                    .first_report(org.get(), client, retry_after, self.now()) => {}
            Some(org) => {
                let key = Some(key.as_str());
                let e = event(
                    Some(org),
                    self.now(),
                    Kind::LockedOut,
                    key,
                    key,
                    Some(client),
                );
                self.audit.record(e).await;
            }
            None => self.metrics.unaudited_attempt(Principal::Integration),
        }
        AuthError::LockedOut { retry_after }
    }

    /// `POST /auth`: a session with an access and a refresh token.
    pub async fn login_integration(
        &self,
        key: &ConsumerKey,
        secret: &SecretKey,
        client: IpAddr,
    ) -> Result<TokenPair, AuthError> {
        let record = self
            .authenticate_integration(key, secret, client, true)
            .await?;
        let subject = subject_of_integration(&record, record.scopes.clone());
        self.start_session(
            &subject,
            &record.secret_digest,
            client,
            self.integration_lifetimes(),
            true,
        )
        .await
    }

    /// An integration's refresh, always rotated. With `client`, the token must have been issued
    /// to that client. Its access token is the dialects' JWT: `POST /oauth/token` refreshes with
    /// [`Auth::refresh_oauth_client`].
    pub async fn refresh_integration(
        &self,
        token: &str,
        client: Option<&Integration>,
    ) -> Result<TokenPair, AuthError> {
        self.refresh_integration_for(token, client, None).await
    }

    /// The refresh token grant of `POST /oauth/token`: [`Auth::refresh_integration`] for that
    /// client, whose access token follows the OAuth token profile for the `resources` asked for
    /// (see [`Auth::oauth_audience`]).
    pub async fn refresh_oauth_client(
        &self,
        token: &str,
        client: &Integration,
        resources: &[String],
    ) -> Result<TokenPair, AuthError> {
        let audience = self.oauth_audience(resources)?;
        self.refresh_integration_for(token, Some(client), audience.as_deref())
            .await
    }

    async fn refresh_integration_for(
        &self,
        token: &str,
        client: Option<&Integration>,
        audience: Option<&str>,
    ) -> Result<TokenPair, AuthError> {
        let claims = self.verify_open(token)?;
        if claims.token_type != TokenType::Refresh || claims.user_id.is_some() {
            return Err(AuthError::InvalidToken);
        }
        if let Some(client) = client
            && claims.client_id.as_deref() != Some(client.consumer_key.as_str())
        {
            return Err(AuthError::InvalidToken);
        }
        let Some(Identity::Integration(record)) = self.subject_of(&claims).await? else {
            return Err(AuthError::InvalidToken);
        };
        let subject = subject_of_integration(&record, record.scopes.clone());
        let lifetimes = self.integration_lifetimes();
        self.refresh_session(&claims, &subject, true, lifetimes, audience)
            .await
    }

    /// Authenticates an OAuth client; every failure is `InvalidClient` (or a lockout).
    /// `for_tokens`: the token endpoint (an audited login), not introspection or revocation.
    pub async fn authenticate_client(
        &self,
        auth: &ClientAuth,
        client: IpAddr,
        for_tokens: bool,
    ) -> Result<Integration, AuthError> {
        let key = ConsumerKey::parse(&auth.client_id).map_err(|_| AuthError::InvalidClient)?;
        self.authenticate_integration(&key, &auth.client_secret, client, for_tokens)
            .await
            .map_err(|e| match e {
                AuthError::InvalidCredentials => AuthError::InvalidClient,
                other => other,
            })
    }

    /// Client credentials: an access token only, with the requested scopes (all of the
    /// integration's when none are asked for), shaped by the OAuth token profile for the
    /// `resources` asked for (see [`Auth::oauth_audience`]).
    pub async fn client_credentials(
        &self,
        record: &Integration,
        requested: Option<Scopes>,
        resources: &[String],
        client: IpAddr,
    ) -> Result<(TokenPair, Scopes), AuthError> {
        let audience = self.oauth_audience(resources)?;
        let scopes = match requested {
            Some(asked) if !record.scopes.contains_all(&asked) => {
                return Err(AuthError::InvalidScope);
            }
            Some(asked) => asked,
            None => record.scopes.clone(),
        };
        let subject = subject_of_integration(record, scopes.clone());
        let pair = self
            .start_session_for(
                &subject,
                &record.secret_digest,
                client,
                self.integration_lifetimes(),
                false,
                audience.as_deref(),
            )
            .await?;
        Ok((pair, scopes))
    }

    /// RFC 7662: what `client` may learn about `token` — only tokens of its own organization,
    /// unexpired, of an open session, whose subject is still entitled; a refresh token only while
    /// it is its session's current one.
    pub async fn introspect(
        &self,
        client: &Integration,
        token: &str,
    ) -> Result<Option<Introspection>, AuthError> {
        let Ok(claims) = self.verify_open(token) else {
            return Ok(None);
        };
        if claims.org_id != client.org_id.get() {
            return Ok(None);
        }
        let username = match self.subject_of(&claims).await? {
            None => return Ok(None),
            Some(Identity::User(member)) => Some(member.username),
            Some(Identity::Integration(_)) => None,
        };
        if claims.token_type == TokenType::Refresh {
            let current = self.store.find_session(&claims.sid).await?;
            if !current.is_some_and(|s| !s.ended && s.current_jti_digest == jti_digest(&claims.jti))
            {
                return Ok(None);
            }
        }
        Ok(Some(Introspection { claims, username }))
    }

    /// RFC 7009: a client revokes its own token, ending its session; anything else is ignored.
    pub async fn revoke_token(&self, client: &Integration, token: &str) -> Result<(), AuthError> {
        let Ok(claims) = self.verify_open(token) else {
            return Ok(());
        };
        if claims.client_id.as_deref() != Some(client.consumer_key.as_str()) {
            return Ok(());
        }
        // A client-credentials token has no session row (see `domain::secret_generation`).
        let now = self.now();
        let ended = self
            .store
            .end_integration_session(
                &claims.sid,
                client.id,
                client.org_id,
                now,
                EndReason::ClientRevoked,
            )
            .await?;
        self.ended.insert(claims.sid.clone(), now);
        if ended {
            let key = Some(client.consumer_key.as_str());
            let e = event(
                Some(client.org_id),
                self.now(),
                Kind::SessionEnded,
                key,
                key,
                None,
            );
            self.audit.record(e).await;
        }
        Ok(())
    }
}
