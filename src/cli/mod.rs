//! The command line: `serve`, `migrate`, and the admin commands (`org`, `user`, `integration`,
//! `keys`), all on the same database as the server, running or not. Each command takes only the
//! settings it uses: every one takes the database's ([`CommonArgs`]), `serve` all the others.

mod import;
mod integration;
mod keys;
mod manpage;
mod org;
mod serve;
mod user;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use serde_json::{Value, json};

use crate::auth::admin::AdminError;
use crate::clock::{Clock, SystemClock};
use crate::config::args::{CommonArgs, ServeArgs};
use crate::config::layers::{self, ParseError};
use crate::config::{LogFormat, Settings};
use crate::store::{OpenError, Store};

use self::integration::IntegrationCommand;
use self::keys::KeysCommand;
use self::org::OrgCommand;
use self::user::UserCommand;

#[derive(Debug, Parser)]
#[command(
    name = "porteiro",
    version,
    about = "A self-hosted token service for multi-tenant APIs"
)]
pub struct Cli {
    /// Print one JSON object (a JSON array for list commands) instead of a human line.
    #[arg(long, global = true)]
    json: bool,
    /// An optional TOML file of settings; flags and environment take precedence over it.
    #[arg(id = layers::CONFIG, long, env = "PORTEIRO_CONFIG", value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Write the manual page, porteiro(1), in roff to standard output.
    #[command(hide = true)]
    Manpage,
    #[command(flatten)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Apply database migrations.
    Migrate,
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users and memberships.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage integrations (machine clients).
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// What a command prints on success: a JSON value, and the human rendering of it.
struct Output {
    json: Value,
    human: String,
}

/// Runs the command line of this process.
pub async fn run() -> ExitCode {
    let cli: Cli = match layers::parse(Cli::command(), std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(ParseError::Usage(e)) => e.exit(),
        Err(ParseError::Config(e)) => return fail(&Failure::Refused(format!("{e:#}"))),
    };
    let command = match cli.command {
        Command::Serve(serve) => {
            let first_start = serve.first_start.clone();
            return match Settings::from_args(cli.common, *serve) {
                Ok(settings) => {
                    init_logging(settings.log_format, true);
                    serve::serve(settings, first_start).await
                }
                Err(e) => fail(&Failure::Refused(format!("{e:#}"))),
            };
        }
        Command::Manpage => return manpage::manpage(),
        Command::Admin(command) => command,
    };
    if let Err(e) = cli
        .common
        .check()
        .and_then(|()| cli.common.master_key_source())
    {
        return fail(&Failure::Refused(format!("{e:#}")));
    }
    init_logging(cli.common.log_format, false);
    match admin_command(command, &cli.common).await {
        Ok(out) => {
            if cli.json {
                println!("{}", out.json);
            } else {
                println!("{}", out.human);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &Failure) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        Failure::Admin(AdminError::Internal(_) | AdminError::Unavailable(_) | AdminError::Busy) => {
            ExitCode::FAILURE
        }
        _ => ExitCode::from(2),
    }
}

/// Why a command failed: an administrative change refused (exit 2) or failed (exit 1), or a
/// refusal of the command line's own (exit 2), worded here with the operator's advice.
#[derive(Debug)]
enum Failure {
    Admin(AdminError),
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(why) => f.write_str(why),
            Failure::Admin(AdminError::UsernameTaken(username)) => write!(
                f,
                "user {username} already exists; to add it to another organization use `user \
                 grant` with --reset-password (a new password, ending its sessions) or \
                 --keep-password"
            ),
            Failure::Admin(e @ AdminError::PasswordChoiceNeeded { .. }) => write!(
                f,
                "{e}. Run again with --reset-password (a new password, shown once, ending its \
                 sessions) or, if its password is known to its owner alone, --keep-password"
            ),
            Failure::Admin(e) => write!(f, "{e}"),
        }
    }
}

impl<E: Into<AdminError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Admin(e.into())
    }
}

fn init_logging(format: Option<LogFormat>, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},sqlx=warn")));
    let format = format.unwrap_or(if std::io::stderr().is_terminal() {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn admin_command(command: AdminCommand, common: &CommonArgs) -> Result<Output, Failure> {
    // Everything that can be checked without the database is checked first, so that bad input
    // writes nothing; a command that only changes existing records does not create a database.
    let user_input = match &command {
        AdminCommand::User(c) => Some(user::Input::read(c)?),
        _ => None,
    };
    if let AdminCommand::Keys(KeysCommand::GenerateMasterKey { out }) = &command {
        return keys::generate_master_key(out.as_deref());
    }
    let creates = matches!(
        command,
        AdminCommand::Migrate
            | AdminCommand::Org(OrgCommand::Create { .. })
            | AdminCommand::Keys(KeysCommand::Rotate { .. })
    );
    let store = Store::open(
        &common.database,
        creates,
        2,
        common.database_connect_timeout,
        common.sqlite_synchronous,
    )
    .await
    .map_err(|e| match e {
        OpenError::Missing(path) => Failure::Refused(format!(
            "there is no database at {path}; run `porteiro migrate` or `porteiro serve` first"
        )),
        OpenError::Other(e) => AdminError::Internal(e.context("cannot open the database")).into(),
    })?;
    let now = SystemClock.now();
    let result = match command {
        AdminCommand::Migrate => {
            let n = store.migrate().await?;
            Ok(Output {
                json: json!({"migrations": n}),
                human: format!("database is up to date ({n} migrations)"),
            })
        }
        AdminCommand::Org(c) => org::org_command(c, &store, now).await,
        AdminCommand::User(c) => user::user_command(c, user_input, &store, now).await,
        AdminCommand::Integration(c) => integration::integration_command(c, &store, now).await,
        AdminCommand::Keys(c) => keys::keys_command(c, &store, common, now).await,
    };
    store.close().await;
    result
}
