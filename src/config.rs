//! The resolved configuration of one Porteiro process, [`Settings`], and the types of its values.
//! Each setting is defined once, as a clap argument in [`args`] (its flag, environment variable,
//! default and description, all shown by `--help`); [`layers`] puts an optional TOML file under
//! the flags and the environment; `resolve` turns the parsed arguments into `Settings`.

pub mod args;
pub mod layers;
mod resolve;

#[cfg(test)]
mod packaged;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use ipnet::IpNet;
use secrecy::SecretString;

pub use crate::auth::audience::{OAuthAccessTokens, OAuthTokenProfile};
pub use crate::auth::hashing::Argon2Settings;
pub use crate::auth::throttle::LockoutSettings;
pub use crate::domain::ResourceUri;
pub use crate::store::SqliteSynchronous;
pub use crate::tokens::Algorithm;
pub use crate::tokens::master::MasterKeySource;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The resolved configuration of one Porteiro process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: String,
    /// `None` until the listener is bound, when it defaults to the bound address.
    pub issuer: Option<String>,
    pub algorithm: Algorithm,
    pub hs256_secret: Option<SecretString>,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub rotate_refresh_tokens: bool,
    pub integration_access_token_lifetime: Duration,
    pub integration_refresh_token_lifetime: Duration,
    pub refresh_reuse_grace: Duration,
    pub leeway: Duration,
    pub lockout: LockoutSettings,
    pub trusted_proxies: Vec<IpNet>,
    pub argon2: Argon2Settings,
    pub log_format: Option<LogFormat>,
    pub database_pool_size: u32,
    pub database_connect_timeout: Duration,
    /// SQLite's `synchronous` pragma; ignored on PostgreSQL.
    pub sqlite_synchronous: SqliteSynchronous,
    /// `None`: the activity log keeps every event.
    pub audit_retention: Option<Duration>,
    /// Where the master key is, as configured (see [`MasterKeySource`]).
    pub master_key: MasterKeySource,
    pub header_timeout: Duration,
    pub max_connections: u32,
    /// How `POST /oauth/token` shapes access tokens; see [`Settings::oauth_access_tokens`].
    pub oauth_token_profile: OAuthTokenProfile,
    /// The `aud` of an RFC 9068 access token whose request names no resource.
    pub oauth_audience: Option<ResourceUri>,
    /// The other resources an RFC 9068 access token may be asked for.
    pub oauth_resources: Vec<ResourceUri>,
    /// How long a keep-alive connection may wait for its next request: 60 s, not a flag (tests
    /// lower it).
    pub idle_timeout: Duration,
}

impl Settings {
    /// Refuses what no server could run with, naming the flag.
    fn check(&self) -> anyhow::Result<()> {
        for (name, d) in [
            ("access-token-lifetime", self.access_token_lifetime),
            ("refresh-token-lifetime", self.refresh_token_lifetime),
            (
                "integration-access-token-lifetime",
                self.integration_access_token_lifetime,
            ),
            (
                "integration-refresh-token-lifetime",
                self.integration_refresh_token_lifetime,
            ),
            ("lockout-window", self.lockout.window),
            ("lockout-duration", self.lockout.duration),
        ] {
            if d.as_secs() == 0 {
                bail!("--{name} must be at least one second");
            }
        }
        if self.header_timeout.is_zero() {
            bail!("--header-timeout must be more than 0s");
        }
        if self.max_connections == 0 {
            bail!("--max-connections must be at least 1");
        }
        if self.lockout.account_failures == 0 || self.lockout.address_failures == 0 {
            bail!("the lockout failure limits must be at least 1");
        }
        crate::store::check_url(&self.database)?;
        if self.database_pool_size == 0 {
            bail!("--database-pool-size must be at least 1");
        }
        check_argon2(&self.argon2)?;
        if let Some(issuer) = &self.issuer
            && !(issuer.starts_with("http://") || issuer.starts_with("https://"))
        {
            bail!("--issuer must be an http:// or https:// URL");
        }
        self.oauth_access_tokens()?;
        Ok(())
    }

    /// How the token endpoint shapes access tokens. The RFC 9068 profile needs a default
    /// audience, since its tokens must carry an `aud`; the audience settings mean nothing
    /// without it, and are refused rather than silently ignored.
    pub fn oauth_access_tokens(&self) -> anyhow::Result<OAuthAccessTokens> {
        match (self.oauth_token_profile, &self.oauth_audience) {
            (OAuthTokenProfile::Rfc9068, Some(audience)) => Ok(OAuthAccessTokens::Rfc9068 {
                default_audience: audience.clone(),
                resources: self.oauth_resources.clone(),
            }),
            (OAuthTokenProfile::Rfc9068, None) => bail!(
                "--oauth-token-profile rfc9068 needs --oauth-audience (PORTEIRO_OAUTH_AUDIENCE): \
                 the URI of the resource server its access tokens are for by default"
            ),
            (OAuthTokenProfile::Jwt, _)
                if self.oauth_audience.is_some() || !self.oauth_resources.is_empty() =>
            {
                bail!(
                    "--oauth-audience and --oauth-resources apply only to \
                     --oauth-token-profile rfc9068"
                )
            }
            (OAuthTokenProfile::Jwt, _) => Ok(OAuthAccessTokens::Jwt),
        }
    }

    /// The issuer, defaulting to the address the server is bound to.
    pub fn issuer_for(&self, bound: SocketAddr) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }

    /// The longest lifetime of any token Porteiro signs: how long a retired key stays published.
    pub fn longest_token_lifetime(&self) -> Duration {
        [
            self.access_token_lifetime,
            self.refresh_token_lifetime,
            self.integration_access_token_lifetime,
            self.integration_refresh_token_lifetime,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
            + self.leeway
    }

    /// The longest lifetime of an access token: how long an ended session must be remembered.
    pub fn longest_access_lifetime(&self) -> Duration {
        self.access_token_lifetime
            .max(self.integration_access_token_lifetime)
            + self.leeway
    }
}

/// Refuses Argon2id parameters the argon2 crate would not hash with.
fn check_argon2(argon2: &Argon2Settings) -> anyhow::Result<()> {
    argon2::Params::new(
        argon2.memory_kib,
        argon2.iterations,
        argon2.parallelism,
        None,
    )
    .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
    Ok(())
}
