//! One `Settings` struct, filled from flags, then the environment, then an optional TOML file,
//! then defaults — in that order of precedence.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use crate::auth::hashing::Argon2Settings;
pub use crate::auth::throttle::LockoutSettings;

/// A duration written the humantime way: `90s`, `15m`, `1h`, `2d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = humantime::DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s).map(HumanDuration)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The token signing algorithms Porteiro can be pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
pub enum Algorithm {
    #[value(name = "ES256")]
    ES256,
    #[value(name = "EdDSA")]
    EdDSA,
    #[value(name = "RS256")]
    RS256,
    #[value(name = "HS256")]
    HS256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How hard SQLite works to keep a commit: its `synchronous` pragma in WAL mode. Both keep every
/// commit across a crash of the process; they differ when the machine loses power or the kernel
/// fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    /// The log is synced at checkpoints only: a power loss may take the last commits with it,
    /// answers already sent included (a rotation whose new token the client holds).
    #[default]
    Normal,
    /// The log is synced at every commit, before the answer: a commit that was answered survives a
    /// power loss, at the cost of one `fsync` per write transaction.
    Full,
}

impl SqliteSynchronous {
    /// The pragma's value, as SQLite reads it back: 1 for NORMAL, 2 for FULL.
    pub fn pragma_value(self) -> i64 {
        match self {
            SqliteSynchronous::Normal => 1,
            SqliteSynchronous::Full => 2,
        }
    }
}

/// Every setting as it may arrive from a flag, the environment or the file. The TOML key of each is
/// the field name, which is also the flag name with `_` for `-`.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PORTEIRO_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Database URL: sqlite://FILE or postgres://USER:PASS@HOST/DB.
    #[arg(long, env = "PORTEIRO_DATABASE", global = true)]
    pub database: Option<String>,
    /// Issuer (`iss`) of every token; defaults to http://<listen address>.
    #[arg(long, env = "PORTEIRO_ISSUER", global = true)]
    pub issuer: Option<String>,
    /// Token signing algorithm.
    #[arg(long, env = "PORTEIRO_ALGORITHM", global = true)]
    pub algorithm: Option<Algorithm>,
    #[arg(long, env = "PORTEIRO_ACCESS_TOKEN_LIFETIME", global = true)]
    pub access_token_lifetime: Option<HumanDuration>,
    #[arg(long, env = "PORTEIRO_REFRESH_TOKEN_LIFETIME", global = true)]
    pub refresh_token_lifetime: Option<HumanDuration>,
    /// Whether a user's refresh token is consumed and replaced on every refresh.
    #[arg(long, env = "PORTEIRO_ROTATE_REFRESH_TOKENS", global = true, action = clap::ArgAction::Set)]
    pub rotate_refresh_tokens: Option<bool>,
    #[arg(
        long,
        env = "PORTEIRO_INTEGRATION_ACCESS_TOKEN_LIFETIME",
        global = true
    )]
    pub integration_access_token_lifetime: Option<HumanDuration>,
    #[arg(
        long,
        env = "PORTEIRO_INTEGRATION_REFRESH_TOKEN_LIFETIME",
        global = true
    )]
    pub integration_refresh_token_lifetime: Option<HumanDuration>,
    /// How long after a rotation its predecessor may be presented again as a retry.
    #[arg(long, env = "PORTEIRO_REFRESH_REUSE_GRACE", global = true)]
    pub refresh_reuse_grace: Option<HumanDuration>,
    /// Clock skew tolerated when checking `exp`.
    #[arg(long, env = "PORTEIRO_LEEWAY", global = true)]
    pub leeway: Option<HumanDuration>,
    #[arg(long, env = "PORTEIRO_LOCKOUT_ACCOUNT_FAILURES", global = true)]
    pub lockout_account_failures: Option<u32>,
    /// Failures of one user account from any addresses that lock the account everywhere; 0 turns
    /// this backstop off. Integrations have no account-wide lock.
    #[arg(long, env = "PORTEIRO_LOCKOUT_ACCOUNT_BACKSTOP", global = true)]
    pub lockout_account_backstop: Option<u32>,
    #[arg(long, env = "PORTEIRO_LOCKOUT_ADDRESS_FAILURES", global = true)]
    pub lockout_address_failures: Option<u32>,
    #[arg(long, env = "PORTEIRO_LOCKOUT_WINDOW", global = true)]
    pub lockout_window: Option<HumanDuration>,
    #[arg(long, env = "PORTEIRO_LOCKOUT_DURATION", global = true)]
    pub lockout_duration: Option<HumanDuration>,
    /// Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed.
    #[arg(long, env = "PORTEIRO_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    #[arg(long, env = "PORTEIRO_ARGON2_MEMORY_KIB", global = true)]
    pub argon2_memory_kib: Option<u32>,
    #[arg(long, env = "PORTEIRO_ARGON2_ITERATIONS", global = true)]
    pub argon2_iterations: Option<u32>,
    #[arg(long, env = "PORTEIRO_ARGON2_PARALLELISM", global = true)]
    pub argon2_parallelism: Option<u32>,
    #[arg(long, env = "PORTEIRO_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    #[arg(long, env = "PORTEIRO_DATABASE_POOL_SIZE", global = true)]
    pub database_pool_size: Option<u32>,
    #[arg(long, env = "PORTEIRO_DATABASE_CONNECT_TIMEOUT", global = true)]
    pub database_connect_timeout: Option<HumanDuration>,
    /// SQLite only: `normal` keeps every commit across a crash of the process, `full` across a
    /// power loss too, at the cost of an fsync per write.
    #[arg(long, env = "PORTEIRO_SQLITE_SYNCHRONOUS", global = true)]
    pub sqlite_synchronous: Option<SqliteSynchronous>,
    /// How long the activity log keeps an event; 0s keeps every event for ever.
    #[arg(long, env = "PORTEIRO_AUDIT_RETENTION", global = true)]
    pub audit_retention: Option<HumanDuration>,
    /// The file holding the master key (32 random bytes, base64) that encrypts the signing keys.
    /// On SQLite it defaults to `<database file>.key`, created at first start; on PostgreSQL it
    /// is required (or `PORTEIRO_MASTER_KEY` inline).
    #[arg(long, env = "PORTEIRO_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// How long a client may take to send a request's headers.
    #[arg(long, env = "PORTEIRO_HEADER_TIMEOUT", global = true)]
    pub header_timeout: Option<HumanDuration>,
    /// How many connections may be open at once; more wait in the kernel's backlog.
    #[arg(long, env = "PORTEIRO_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<u32>,
}

impl SettingsArgs {
    /// Fills every setting not given on the command line or in the environment from `file`.
    fn or(self, file: SettingsArgs) -> SettingsArgs {
        macro_rules! pick {
            ($($field:ident),* $(,)?) => {
                SettingsArgs { $($field: self.$field.or(file.$field)),* }
            };
        }
        pick!(
            listen,
            database,
            issuer,
            algorithm,
            access_token_lifetime,
            refresh_token_lifetime,
            rotate_refresh_tokens,
            integration_access_token_lifetime,
            integration_refresh_token_lifetime,
            refresh_reuse_grace,
            leeway,
            lockout_account_failures,
            lockout_account_backstop,
            lockout_address_failures,
            lockout_window,
            lockout_duration,
            trusted_proxies,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            log_format,
            database_pool_size,
            database_connect_timeout,
            sqlite_synchronous,
            audit_retention,
            master_key_file,
            header_timeout,
            max_connections,
        )
    }
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
    /// How long a keep-alive connection may wait for its next request: 60 s, not a flag (tests
    /// lower it).
    pub idle_timeout: Duration,
}

/// Where the master key comes from.
#[derive(Clone, Default)]
pub enum MasterKeySource {
    /// Not configured: on SQLite `<database file>.key`, created at first start; on PostgreSQL
    /// an error.
    #[default]
    Default,
    /// `--master-key-file` / `PORTEIRO_MASTER_KEY_FILE`.
    File(PathBuf),
    /// `PORTEIRO_MASTER_KEY`: the key itself, base64.
    Inline(SecretString),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Default => f.write_str("Default"),
            MasterKeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            MasterKeySource::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

impl Settings {
    /// Resolves flags and environment (already in `args`, clap put flags first) over the optional
    /// TOML file over the defaults, and checks the result.
    pub fn resolve(args: SettingsArgs, config_file: Option<&PathBuf>) -> anyhow::Result<Self> {
        let file = match config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => SettingsArgs::default(),
        };
        let a = args.or(file);
        let dur = |v: Option<HumanDuration>, default: u64| {
            v.map_or(Duration::from_secs(default), |d| d.0)
        };
        let algorithm = a.algorithm.unwrap_or(Algorithm::ES256);
        let hs256_secret = std::env::var("PORTEIRO_HS256_SECRET")
            .ok()
            .map(SecretString::from);
        if algorithm == Algorithm::HS256 {
            match &hs256_secret {
                None => bail!("--algorithm HS256 needs the shared secret in PORTEIRO_HS256_SECRET"),
                Some(s) if s.expose_secret().len() < 32 => {
                    bail!("PORTEIRO_HS256_SECRET must be at least 32 bytes long")
                }
                Some(_) => {}
            }
        }
        let trusted_proxies = a
            .trusted_proxies
            .as_deref()
            .map(parse_trusted_proxies)
            .transpose()?
            .unwrap_or_default();
        let inline_master_key = std::env::var("PORTEIRO_MASTER_KEY")
            .ok()
            .filter(|s| !s.is_empty())
            .map(SecretString::from);
        let master_key = match (a.master_key_file, inline_master_key) {
            (Some(_), Some(_)) => {
                bail!(
                    "set either --master-key-file (PORTEIRO_MASTER_KEY_FILE) or PORTEIRO_MASTER_KEY, not both"
                )
            }
            (Some(path), None) => MasterKeySource::File(path),
            (None, Some(key)) => MasterKeySource::Inline(key),
            (None, None) => MasterKeySource::Default,
        };
        let settings = Settings {
            listen: a
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database: a
                .database
                .unwrap_or_else(|| "sqlite://porteiro.db".to_owned()),
            issuer: a.issuer.map(|s| s.trim_end_matches('/').to_owned()),
            algorithm,
            hs256_secret: hs256_secret.filter(|_| algorithm == Algorithm::HS256),
            access_token_lifetime: dur(a.access_token_lifetime, 3600),
            refresh_token_lifetime: dur(a.refresh_token_lifetime, 86400),
            rotate_refresh_tokens: a.rotate_refresh_tokens.unwrap_or(false),
            integration_access_token_lifetime: dur(a.integration_access_token_lifetime, 3600),
            integration_refresh_token_lifetime: dur(
                a.integration_refresh_token_lifetime,
                48 * 3600,
            ),
            refresh_reuse_grace: dur(a.refresh_reuse_grace, 10),
            leeway: dur(a.leeway, 0),
            lockout: LockoutSettings {
                account_failures: a.lockout_account_failures.unwrap_or(5),
                account_backstop: a.lockout_account_backstop.unwrap_or(100),
                address_failures: a.lockout_address_failures.unwrap_or(50),
                window: dur(a.lockout_window, 15 * 60),
                duration: dur(a.lockout_duration, 15 * 60),
            },
            trusted_proxies,
            argon2: Argon2Settings {
                memory_kib: a.argon2_memory_kib.unwrap_or(19456),
                iterations: a.argon2_iterations.unwrap_or(2),
                parallelism: a.argon2_parallelism.unwrap_or(1),
            },
            log_format: a.log_format,
            database_pool_size: a.database_pool_size.unwrap_or(10),
            database_connect_timeout: dur(a.database_connect_timeout, 3),
            sqlite_synchronous: a.sqlite_synchronous.unwrap_or_default(),
            audit_retention: Some(dur(a.audit_retention, 90 * 86400)).filter(|d| !d.is_zero()),
            master_key,
            header_timeout: dur(a.header_timeout, 10),
            max_connections: a.max_connections.unwrap_or(10_000),
            idle_timeout: Duration::from_secs(60),
        };
        settings.check()?;
        Ok(settings)
    }

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
        argon2::Params::new(
            self.argon2.memory_kib,
            self.argon2.iterations,
            self.argon2.parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        if let Some(issuer) = &self.issuer
            && !(issuer.starts_with("http://") || issuer.starts_with("https://"))
        {
            bail!("--issuer must be an http:// or https:// URL");
        }
        Ok(())
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

fn parse_trusted_proxies(list: &str) -> anyhow::Result<Vec<IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .with_context(|| format!("{s:?} in --trusted-proxies is not an address or CIDR"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_with_file(args: SettingsArgs, toml_text: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porteiro.toml");
        std::fs::write(&path, toml_text).unwrap();
        Settings::resolve(args, Some(&path))
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = Settings::resolve(SettingsArgs::default(), None).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database, "sqlite://porteiro.db");
        assert_eq!(s.algorithm, Algorithm::ES256);
        assert_eq!(s.access_token_lifetime, Duration::from_secs(3600));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(86400));
        assert!(!s.rotate_refresh_tokens);
        assert_eq!(
            s.integration_refresh_token_lifetime,
            Duration::from_secs(48 * 3600)
        );
        assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(s.lockout.account_failures, 5);
        assert_eq!(s.lockout.address_failures, 50);
        assert_eq!(s.lockout.account_backstop, 100);
        assert_eq!(s.header_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 10_000);
        assert!(matches!(s.master_key, MasterKeySource::Default));
        assert_eq!(s.argon2.memory_kib, 19456);
        assert_eq!(s.issuer_for(s.listen), "http://127.0.0.1:8080");
        assert_eq!(s.audit_retention, Some(Duration::from_secs(90 * 86400)));
        assert_eq!(s.sqlite_synchronous, SqliteSynchronous::Normal);
    }

    #[test]
    fn sqlite_synchronous_is_normal_or_full_from_a_flag_or_the_file() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            settings: SettingsArgs,
        }
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.settings);
        let full = parse(&["porteiro", "--sqlite-synchronous", "full"]).unwrap();
        assert_eq!(full.sqlite_synchronous, Some(SqliteSynchronous::Full));
        let s = Settings::resolve(full, None).unwrap();
        assert_eq!(s.sqlite_synchronous.pragma_value(), 2);
        assert!(parse(&["porteiro", "--sqlite-synchronous", "off"]).is_err());
        let from_file =
            resolve_with_file(SettingsArgs::default(), "sqlite_synchronous = \"full\"\n").unwrap();
        assert_eq!(from_file.sqlite_synchronous, SqliteSynchronous::Full);
        assert!(
            resolve_with_file(SettingsArgs::default(), "sqlite_synchronous = \"extra\"\n").is_err()
        );
    }

    #[test]
    fn an_audit_retention_of_zero_keeps_every_event() {
        let keep = |v: &str| {
            let args = SettingsArgs {
                audit_retention: Some(v.parse().unwrap()),
                ..Default::default()
            };
            Settings::resolve(args, None).unwrap().audit_retention
        };
        assert_eq!(keep("0s"), None);
        assert_eq!(keep("30d"), Some(Duration::from_secs(30 * 86400)));
        let from_file =
            resolve_with_file(SettingsArgs::default(), "audit_retention = \"7d\"\n").unwrap();
        assert_eq!(
            from_file.audit_retention,
            Some(Duration::from_secs(7 * 86400))
        );
    }

    #[test]
    fn the_file_fills_what_flags_and_environment_leave_out() {
        let args = SettingsArgs {
            access_token_lifetime: Some("5m".parse().unwrap()),
            ..Default::default()
        };
        let s = resolve_with_file(
            args,
            "access_token_lifetime = \"3m\"\nrefresh_token_lifetime = \"2h\"\nrotate_refresh_tokens = true\n",
        )
        .unwrap();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(7200));
        assert!(s.rotate_refresh_tokens);
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        assert!(
            resolve_with_file(SettingsArgs::default(), "acess_token_lifetime = \"3m\"").is_err()
        );
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidrs() {
        let nets = parse_trusted_proxies("10.0.0.0/8, 127.0.0.1,::1").unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
        assert!(parse_trusted_proxies("10.0.0.0/8,nonsense").is_err());
    }

    #[test]
    fn an_issuer_with_a_trailing_slash_is_trimmed() {
        let args = SettingsArgs {
            issuer: Some("https://auth.example.com/".into()),
            ..Default::default()
        };
        let s = Settings::resolve(args, None).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("https://auth.example.com"));
    }
}
