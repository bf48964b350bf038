//! Every setting, defined once as a clap argument: its flag, its environment variable, its
//! default and its description, which `--help` shows together. `serve` takes them all; an admin
//! command takes [`CommonArgs`] and only the groups it uses ([`HashingArgs`], [`AlgorithmArg`]).
//! The TOML key of a setting is its argument's id, the flag's name with `_` for `-`.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgAction, Args, Command, FromArgMatches};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use super::{
    Algorithm, Argon2Settings, LockoutSettings, LogFormat, MasterKeySource, Settings,
    SqliteSynchronous, check_argon2,
};

/// The help heading of the values read from the environment only, never from a flag or the file:
/// secrets, which a command line shows to every user of the machine, and one-time inputs.
pub const ENVIRONMENT_ONLY: &str = "From the environment only";

const DATABASE: &str = "Database";
const SERVER: &str = "Server";
const TOKENS: &str = "Tokens";
const THROTTLING: &str = "Login throttling";
const HASHING: &str = "Password hashing";

/// Parses a duration written the humantime way: `90s`, `15m`, `1h`, `2d`.
pub fn parse_duration(s: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(s)
}

/// The settings of every command: where the database and its master key are, and how to log.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Log line format [default: pretty on a terminal, json otherwise].
    #[arg(long, env = "PORTEIRO_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// Database URL: sqlite://FILE or postgres://USER:PASS@HOST/DB.
    #[arg(long, env = "PORTEIRO_DATABASE", value_name = "URL", default_value = "sqlite://porteiro.db",
        hide_env_values = true, global = true, help_heading = DATABASE)]
    pub database: String,
    /// How long to wait for a database connection.
    #[arg(long, env = "PORTEIRO_DATABASE_CONNECT_TIMEOUT", value_name = "DURATION",
        default_value = "3s", value_parser = parse_duration, global = true, help_heading = DATABASE)]
    pub database_connect_timeout: Duration,
    /// SQLite only: `normal` keeps commits across a crash of the process, `full` across a power
    /// loss too (an fsync per write).
    #[arg(long, env = "PORTEIRO_SQLITE_SYNCHRONOUS", value_name = "MODE", default_value = "normal",
        global = true, help_heading = DATABASE)]
    pub sqlite_synchronous: SqliteSynchronous,
    /// File of the master key that encrypts the signing keys [default: <database file>.key on
    /// SQLite; required on PostgreSQL].
    #[arg(long, env = "PORTEIRO_MASTER_KEY_FILE", value_name = "FILE", global = true,
        help_heading = DATABASE)]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself (base64), instead of a file.
    #[arg(long, env = "PORTEIRO_MASTER_KEY", value_name = "BASE64", hide_env_values = true,
        global = true, help_heading = ENVIRONMENT_ONLY)]
    pub master_key: Option<SecretString>,
}

impl CommonArgs {
    /// Refuses a database URL no store opens.
    pub fn check(&self) -> anyhow::Result<()> {
        crate::store::check_url(&self.database)
    }

    /// Where the master key comes from: a file, the key inline, or the default.
    pub fn master_key_source(&self) -> anyhow::Result<MasterKeySource> {
        let inline = self
            .master_key
            .clone()
            .filter(|key| !key.expose_secret().is_empty());
        Ok(match (self.master_key_file.clone(), inline) {
            (Some(_), Some(_)) => bail!(
                "set either --master-key-file (PORTEIRO_MASTER_KEY_FILE) or PORTEIRO_MASTER_KEY, not both"
            ),
            (Some(path), None) => MasterKeySource::File(path),
            (None, Some(key)) => MasterKeySource::Inline(key),
            (None, None) => MasterKeySource::Default,
        })
    }
}

/// The algorithm keys are made for: `serve` signs with it, `keys rotate` creates a key of it.
#[derive(Debug, Clone, Args)]
pub struct AlgorithmArg {
    /// Token signing algorithm.
    #[arg(long, env = "PORTEIRO_ALGORITHM", default_value = "ES256", help_heading = TOKENS)]
    pub algorithm: Algorithm,
}

/// Argon2id's cost: `serve` and the commands that set a password take the same.
#[derive(Debug, Clone, Args)]
pub struct HashingArgs {
    /// Argon2id memory cost, in KiB.
    #[arg(long, env = "PORTEIRO_ARGON2_MEMORY_KIB", value_name = "KIB", default_value_t = 19456,
        help_heading = HASHING)]
    pub argon2_memory_kib: u32,
    /// Argon2id passes over the memory.
    #[arg(long, env = "PORTEIRO_ARGON2_ITERATIONS", value_name = "N", default_value_t = 2,
        help_heading = HASHING)]
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    #[arg(long, env = "PORTEIRO_ARGON2_PARALLELISM", value_name = "N", default_value_t = 1,
        help_heading = HASHING)]
    pub argon2_parallelism: u32,
}

impl HashingArgs {
    /// The cost parameters, refused when argon2 would not hash with them.
    pub fn settings(&self) -> anyhow::Result<Argon2Settings> {
        let argon2 = Argon2Settings {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        check_argon2(&argon2)?;
        Ok(argon2)
    }
}

/// `serve`'s own settings, on top of [`CommonArgs`].
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PORTEIRO_LISTEN", value_name = "ADDRESS", default_value = "127.0.0.1:8080",
        help_heading = SERVER)]
    pub listen: SocketAddr,
    /// Issuer (`iss`) of every token: the public URL [default: http://<listen address>].
    #[arg(long, env = "PORTEIRO_ISSUER", value_name = "URL", help_heading = SERVER)]
    pub issuer: Option<String>,
    /// Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed.
    #[arg(long, env = "PORTEIRO_TRUSTED_PROXIES", value_name = "LIST", help_heading = SERVER)]
    pub trusted_proxies: Option<String>,
    /// How long a client may take to send a request's headers.
    #[arg(long, env = "PORTEIRO_HEADER_TIMEOUT", value_name = "DURATION", default_value = "10s",
        value_parser = parse_duration, help_heading = SERVER)]
    pub header_timeout: Duration,
    /// How many connections may be open at once; more wait in the kernel's backlog.
    #[arg(long, env = "PORTEIRO_MAX_CONNECTIONS", value_name = "N", default_value_t = 10_000,
        help_heading = SERVER)]
    pub max_connections: u32,
    /// How long the activity log keeps an event; 0s keeps every event for ever.
    #[arg(long, env = "PORTEIRO_AUDIT_RETENTION", value_name = "DURATION", default_value = "90d",
        value_parser = parse_duration, help_heading = SERVER)]
    pub audit_retention: Duration,
    /// How many database connections the server keeps.
    #[arg(long, env = "PORTEIRO_DATABASE_POOL_SIZE", value_name = "N", default_value_t = 10,
        help_heading = DATABASE)]
    pub database_pool_size: u32,
    #[command(flatten)]
    pub algorithm: AlgorithmArg,
    #[command(flatten)]
    pub tokens: TokenArgs,
    #[command(flatten)]
    pub throttling: ThrottlingArgs,
    #[command(flatten)]
    pub hashing: HashingArgs,
    /// The shared secret of --algorithm HS256, at least 32 bytes.
    #[arg(long, env = "PORTEIRO_HS256_SECRET", value_name = "SECRET", hide_env_values = true,
        help_heading = ENVIRONMENT_ONLY)]
    pub hs256_secret: Option<SecretString>,
    #[command(flatten)]
    pub first_start: FirstStartArgs,
}

/// How long tokens live, and how refresh tokens are reused.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = TOKENS)]
pub struct TokenArgs {
    /// Lifetime of a user's access token.
    #[arg(long, env = "PORTEIRO_ACCESS_TOKEN_LIFETIME", value_name = "DURATION",
        default_value = "1h", value_parser = parse_duration)]
    pub access_token_lifetime: Duration,
    /// Lifetime of a user's refresh token.
    #[arg(long, env = "PORTEIRO_REFRESH_TOKEN_LIFETIME", value_name = "DURATION",
        default_value = "1d", value_parser = parse_duration)]
    pub refresh_token_lifetime: Duration,
    /// Whether a user's refresh token is consumed and replaced on every refresh.
    #[arg(long, env = "PORTEIRO_ROTATE_REFRESH_TOKENS", value_name = "BOOL",
        default_value_t = false, action = ArgAction::Set)]
    pub rotate_refresh_tokens: bool,
    /// Lifetime of an integration's access token.
    #[arg(long, env = "PORTEIRO_INTEGRATION_ACCESS_TOKEN_LIFETIME", value_name = "DURATION",
        default_value = "1h", value_parser = parse_duration)]
    pub integration_access_token_lifetime: Duration,
    /// Lifetime of an integration's refresh token.
    #[arg(long, env = "PORTEIRO_INTEGRATION_REFRESH_TOKEN_LIFETIME", value_name = "DURATION",
        default_value = "48h", value_parser = parse_duration)]
    pub integration_refresh_token_lifetime: Duration,
    /// How long after a rotation its predecessor may be presented again as a retry.
    #[arg(long, env = "PORTEIRO_REFRESH_REUSE_GRACE", value_name = "DURATION",
        default_value = "10s", value_parser = parse_duration)]
    pub refresh_reuse_grace: Duration,
    /// Clock skew tolerated when checking `exp`.
    #[arg(long, env = "PORTEIRO_LEEWAY", value_name = "DURATION", default_value = "0s",
        value_parser = parse_duration)]
    pub leeway: Duration,
}

/// When failed logins lock an account, an address, or both.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = THROTTLING)]
pub struct ThrottlingArgs {
    /// Failures of one account from one address that lock that pair.
    #[arg(
        long,
        env = "PORTEIRO_LOCKOUT_ACCOUNT_FAILURES",
        value_name = "N",
        default_value_t = 5
    )]
    pub lockout_account_failures: u32,
    /// Failures of one user account from any addresses that lock it everywhere; 0 turns this off.
    #[arg(
        long,
        env = "PORTEIRO_LOCKOUT_ACCOUNT_BACKSTOP",
        value_name = "N",
        default_value_t = 100
    )]
    pub lockout_account_backstop: u32,
    /// Failures from one address that lock the address.
    #[arg(
        long,
        env = "PORTEIRO_LOCKOUT_ADDRESS_FAILURES",
        value_name = "N",
        default_value_t = 50
    )]
    pub lockout_address_failures: u32,
    /// How long failures are counted.
    #[arg(long, env = "PORTEIRO_LOCKOUT_WINDOW", value_name = "DURATION", default_value = "15m",
        value_parser = parse_duration)]
    pub lockout_window: Duration,
    /// How long a lock lasts.
    #[arg(long, env = "PORTEIRO_LOCKOUT_DURATION", value_name = "DURATION", default_value = "15m",
        value_parser = parse_duration)]
    pub lockout_duration: Duration,
}

/// The owner account the first start creates on an empty database: both or neither.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = ENVIRONMENT_ONLY)]
pub struct FirstStartArgs {
    /// First start only: the owner's username [default: admin@localhost].
    #[arg(long, env = "PORTEIRO_ADMIN_USERNAME", value_name = "EMAIL")]
    pub admin_username: Option<String>,
    /// First start only: the owner's password [default: generated, shown once].
    #[arg(
        long,
        env = "PORTEIRO_ADMIN_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub admin_password: Option<SecretString>,
}

impl Settings {
    /// The settings of `serve`, checked.
    pub fn from_args(common: CommonArgs, serve: ServeArgs) -> anyhow::Result<Self> {
        let algorithm = serve.algorithm.algorithm;
        let hs256_secret = serve.hs256_secret;
        if algorithm == Algorithm::HS256 {
            match &hs256_secret {
                None => bail!("--algorithm HS256 needs the shared secret in PORTEIRO_HS256_SECRET"),
                Some(s) if s.expose_secret().len() < 32 => {
                    bail!("PORTEIRO_HS256_SECRET must be at least 32 bytes long")
                }
                Some(_) => {}
            }
        }
        let trusted_proxies = serve
            .trusted_proxies
            .as_deref()
            .map(parse_trusted_proxies)
            .transpose()?
            .unwrap_or_default();
        let master_key = common.master_key_source()?;
        let (tokens, throttling, hashing) = (serve.tokens, serve.throttling, serve.hashing);
        let settings = Settings {
            listen: serve.listen,
            database: common.database,
            issuer: serve.issuer.map(|s| s.trim_end_matches('/').to_owned()),
            algorithm,
            hs256_secret: hs256_secret.filter(|_| algorithm == Algorithm::HS256),
            access_token_lifetime: tokens.access_token_lifetime,
            refresh_token_lifetime: tokens.refresh_token_lifetime,
            rotate_refresh_tokens: tokens.rotate_refresh_tokens,
            integration_access_token_lifetime: tokens.integration_access_token_lifetime,
            integration_refresh_token_lifetime: tokens.integration_refresh_token_lifetime,
            refresh_reuse_grace: tokens.refresh_reuse_grace,
            leeway: tokens.leeway,
            lockout: LockoutSettings {
                account_failures: throttling.lockout_account_failures,
                account_backstop: throttling.lockout_account_backstop,
                address_failures: throttling.lockout_address_failures,
                window: throttling.lockout_window,
                duration: throttling.lockout_duration,
            },
            trusted_proxies,
            argon2: Argon2Settings {
                memory_kib: hashing.argon2_memory_kib,
                iterations: hashing.argon2_iterations,
                parallelism: hashing.argon2_parallelism,
            },
            log_format: common.log_format,
            database_pool_size: serve.database_pool_size,
            database_connect_timeout: common.database_connect_timeout,
            sqlite_synchronous: common.sqlite_synchronous,
            audit_retention: Some(serve.audit_retention).filter(|d| !d.is_zero()),
            master_key,
            header_timeout: serve.header_timeout,
            max_connections: serve.max_connections,
            idle_timeout: Duration::from_secs(60),
        };
        settings.check()?;
        Ok(settings)
    }

    /// The settings `porteiro serve FLAGS…` runs with in an empty environment and without a
    /// config file: how tests make settings.
    pub fn from_flags<I, T>(flags: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = settings_command().mut_args(|arg| arg.env(None));
        let argv =
            std::iter::once(OsString::from("porteiro")).chain(flags.into_iter().map(Into::into));
        let matches = command.try_get_matches_from(argv)?;
        Settings::from_args(
            CommonArgs::from_arg_matches(&matches)?,
            ServeArgs::from_arg_matches(&matches)?,
        )
    }
}

/// Every setting, as `serve` takes them: what a config file may hold.
pub fn settings_command() -> Command {
    ServeArgs::augment_args(CommonArgs::augment_args(Command::new("porteiro")))
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

    #[test]
    fn defaults_match_the_contract() {
        let s = Settings::from_flags::<_, &str>([]).unwrap();
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
    fn sqlite_synchronous_is_normal_or_full() {
        let full = Settings::from_flags(["--sqlite-synchronous", "full"]).unwrap();
        assert_eq!(full.sqlite_synchronous, SqliteSynchronous::Full);
        assert_eq!(full.sqlite_synchronous.pragma_value(), 2);
        assert!(Settings::from_flags(["--sqlite-synchronous", "off"]).is_err());
    }

    #[test]
    fn an_audit_retention_of_zero_keeps_every_event() {
        let keep = |v: &str| {
            Settings::from_flags(["--audit-retention", v])
                .unwrap()
                .audit_retention
        };
        assert_eq!(keep("0s"), None);
        assert_eq!(keep("30d"), Some(Duration::from_secs(30 * 86400)));
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
        let s = Settings::from_flags(["--issuer", "https://auth.example.com/"]).unwrap();
        assert_eq!(s.issuer.as_deref(), Some("https://auth.example.com"));
    }

    #[test]
    fn hs256_needs_a_secret_of_32_bytes() {
        let hs256 = ["--algorithm", "HS256"];
        assert!(Settings::from_flags(hs256).is_err());
        let short = Settings::from_flags([&hs256[..], &["--hs256-secret", "short"]].concat());
        assert!(short.is_err());
        let long = "x".repeat(32);
        let s = Settings::from_flags([&hs256[..], &["--hs256-secret", &long]].concat()).unwrap();
        assert_eq!(s.hs256_secret.map(|s| s.expose_secret().len()), Some(32));
    }
}
