//! Every setting, defined once as a clap argument: its flag, its environment variable, its
//! default and its description, which `--help` shows together. `serve` takes them all; an admin
//! command takes [`CommonArgs`] and only the groups it uses ([`HashingArgs`], [`AlgorithmArg`]).
//! The TOML key of a setting is its argument's id, the flag's name with `_` for `-`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::builder::PossibleValue;
use clap::{ArgAction, Args, Command, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use super::{
    Algorithm, Argon2Settings, LogFormat, MasterKeySource, OAuthTokenProfile, SqliteSynchronous,
    check_argon2,
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

// The value types belong to the layers that use them (`tokens`, `store`), which know nothing of
// clap: how a flag names their values is said here.

impl ValueEnum for Algorithm {
    fn value_variants<'a>() -> &'a [Self] {
        &Algorithm::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for OAuthTokenProfile {
    fn value_variants<'a>() -> &'a [Self] {
        &[OAuthTokenProfile::Jwt, OAuthTokenProfile::Rfc9068]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            OAuthTokenProfile::Jwt => PossibleValue::new(self.as_str()).help(
                "The JWT of every Porteiro token: `typ: JWT`, no `aud`; a `resource` is ignored",
            ),
            OAuthTokenProfile::Rfc9068 => PossibleValue::new(self.as_str()).help(
                "RFC 9068 JWT access tokens: `typ: at+jwt` and an `aud` (--oauth-audience, or \
                 the RFC 8707 `resource` asked for); the other APIs' tokens keep their shape",
            ),
        })
    }
}

impl ValueEnum for SqliteSynchronous {
    fn value_variants<'a>() -> &'a [Self] {
        &[SqliteSynchronous::Normal, SqliteSynchronous::Full]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            SqliteSynchronous::Normal => PossibleValue::new("normal").help(
                "The log is synced at checkpoints only: a power loss may take the last commits \
                 with it, answers already sent included (a rotation whose new token the client \
                 holds)",
            ),
            SqliteSynchronous::Full => PossibleValue::new("full").help(
                "The log is synced at every commit, before the answer: a commit that was \
                 answered survives a power loss, at the cost of one `fsync` per write \
                 transaction",
            ),
        })
    }
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
    pub oauth_tokens: OAuthTokenArgs,
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

/// The shape of the access tokens `POST /oauth/token` issues.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = TOKENS)]
pub struct OAuthTokenArgs {
    /// Shape of the access tokens of POST /oauth/token: `jwt` as every other token, or
    /// `rfc9068` (`typ: at+jwt` with an `aud`).
    #[arg(
        long,
        env = "PORTEIRO_OAUTH_TOKEN_PROFILE",
        value_name = "PROFILE",
        default_value = "jwt"
    )]
    pub oauth_token_profile: OAuthTokenProfile,
    /// With --oauth-token-profile rfc9068 (and required by it): the `aud` of an access token
    /// whose request names no `resource`, an absolute URI [default: none].
    #[arg(long, env = "PORTEIRO_OAUTH_AUDIENCE", value_name = "URI")]
    pub oauth_audience: Option<String>,
    /// With --oauth-token-profile rfc9068: comma-separated URIs a request may name as its
    /// `resource` (RFC 8707), besides --oauth-audience [default: none].
    #[arg(long, env = "PORTEIRO_OAUTH_RESOURCES", value_name = "LIST")]
    pub oauth_resources: Option<String>,
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

/// Every setting, as `serve` takes them: what a config file may hold.
pub fn settings_command() -> Command {
    ServeArgs::augment_args(CommonArgs::augment_args(Command::new("porteiro")))
}
