//! The use-cases, each a method of a service type: [`Auth`] for users' logins (`logins`),
//! sessions ([`sessions`]), integrations and OAuth clients (`integrations`) and console
//! sign-ins ([`console_sessions`]); [`admin::Administration`] and [`admin::OrgAdmin`] for the
//! administration of organizations; [`keys::Keys`] for the signing keys. Around them: the
//! lockout ([`throttle`]), the password hashing pool ([`hashing`]), the audit log ([`audit`])
//! and records remembered for a moment ([`recent`]). This layer knows rules, never wire formats.

pub mod admin;
pub mod audience;
pub mod audit;
pub mod console_sessions;
mod error;
pub mod hashing;
mod integrations;
pub mod keys;
mod logins;
pub mod recent;
pub mod sessions;
pub mod throttle;

use ipnet::IpNet;
use secrecy::SecretString;

pub use error::AuthError;
pub use integrations::{ClientAuth, Introspection};
pub use sessions::{Identity, Lifetimes, SessionSettings, TokenPair};

use crate::clock::SharedClock;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::tokens::Tokens;
use sessions::ended::EndedSessions;
use sessions::writes::SessionWrites;

/// What the use-cases are configured with: the application builds it from its settings.
pub struct AuthSettings {
    pub sessions: SessionSettings,
    pub argon2: hashing::Argon2Settings,
    /// How many threads hash passwords: one per core.
    pub hashing_threads: usize,
    pub lockout: throttle::LockoutSettings,
    /// The key of the lockout's counters, derived from the master key (see [`throttle`]).
    pub lockout_key: [u8; 32],
    /// How long an ended session is remembered, in seconds: the longest access-token lifetime
    /// (with the leeway), after which every token of it has expired anyway.
    pub remember_ended_for: i64,
    /// The proxies whose `X-Forwarded-For` is believed, for the client address of a request.
    pub trusted_proxies: Vec<IpNet>,
    /// How `POST /oauth/token` shapes access tokens.
    pub oauth_access_tokens: audience::OAuthAccessTokens,
}

/// The use-cases of the token endpoints and the console's sign-ins, with everything they need:
/// built once per process and shared by every request.
pub struct Auth {
    store: Store,
    tokens: Tokens,
    hasher: hashing::PasswordHasher,
    throttle: throttle::Throttle,
    ended: EndedSessions,
    sessions: SessionSettings,
    trusted_proxies: Vec<IpNet>,
    clock: SharedClock,
    metrics: Metrics,
    audit: audit::AuditLog,
    identities: recent::Recent<Identity>,
    integrations: recent::Recent<crate::domain::Integration>,
    session_writes: SessionWrites,
    oauth_access_tokens: audience::OAuthAccessTokens,
}

impl Auth {
    /// Starts the hashing threads and the writers of sessions and audit events, and reads the
    /// sessions ended so far. The audit writer is handed back, to be stopped (and drained) when
    /// the server stops.
    pub async fn start(
        store: Store,
        tokens: Tokens,
        settings: AuthSettings,
        clock: SharedClock,
    ) -> anyhow::Result<(Self, audit::AuditWriter)> {
        let ended = EndedSessions::new(settings.remember_ended_for);
        ended.poll(&store, clock.now()).await?;
        let (audit, audit_writer) = audit::AuditLog::start(store.clone());
        let auth = Auth {
            hasher: hashing::PasswordHasher::new(settings.argon2, settings.hashing_threads)?,
            throttle: throttle::Throttle::new(
                store.clone(),
                settings.lockout,
                settings.lockout_key,
            ),
            session_writes: SessionWrites::start(store.clone()),
            ended,
            sessions: settings.sessions,
            trusted_proxies: settings.trusted_proxies,
            oauth_access_tokens: settings.oauth_access_tokens,
            tokens,
            clock,
            metrics: Metrics::default(),
            audit,
            identities: recent::Recent::default(),
            integrations: recent::Recent::default(),
            store,
        };
        Ok((auth, audit_writer))
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether the database can be used now: it answers, and no outage is under way (or a
    /// probe write just ended one; see `Store::ready`). What `/readyz` answers.
    pub async fn database_ready(&self) -> bool {
        self.store.ready().await
    }

    /// Whether the database answers and no outage is under way, without a probe write: what
    /// the metrics show.
    pub async fn database_up(&self) -> bool {
        self.store.trouble().is_none() && self.store.ping().await
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// How sessions are issued and refreshed (the token lifetimes among them).
    pub fn session_settings(&self) -> &SessionSettings {
        &self.sessions
    }

    /// The proxies whose `X-Forwarded-For` is believed: the client address of every request
    /// (for the lockout and the audit log) is read with them.
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }

    /// Passwords being hashed now or waiting for a hashing thread.
    pub fn hashing_in_flight(&self) -> usize {
        self.hasher.in_flight()
    }

    /// How many ended sessions this instance remembers.
    pub fn ended_sessions_remembered(&self) -> usize {
        self.ended.len()
    }

    /// Reads the sessions ended elsewhere since the last poll (see [`EndedSessions::poll`]).
    pub async fn poll_ended_sessions(&self) -> sqlx::Result<()> {
        self.ended.poll(&self.store.background(), self.now()).await
    }

    /// Hashes a new password on the hashing threads.
    pub async fn hash_password(&self, password: SecretString) -> Result<String, AuthError> {
        self.hasher.hash(password).await
    }
}
