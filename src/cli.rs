//! The command line: `serve`, `migrate`, and the admin commands (`org`, `user`, `keys`), all on
//! the same database as the server, running or not.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::app::{Application, shutdown_signal};
use crate::auth::admin::{self, Actor, AdminError};
use crate::auth::keys::{self, create_stored_key, retire_stored_key};
use crate::auth::password::hash_password;
use crate::clock::{Clock, SystemClock, format_rfc3339_millis};
use crate::config::{HumanDuration, LogFormat, Settings, SettingsArgs};
use crate::domain::{ConsumerKey, OrgId, Password, Role, Scopes, Username};
use crate::store::{OpenError, Retirement, Store, Successor};
use crate::tokens::master::{DefaultKey, MasterKey, MasterKeyError};

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
    #[arg(long, global = true, env = "PORTEIRO_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve,
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

#[derive(Debug, Subcommand)]
enum IntegrationCommand {
    /// Create an integration; its secret key is shown this once.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        name: String,
        /// A scope granted to the integration; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    List {
        #[arg(long)]
        org: OrgId,
    },
    /// Revoke an integration, ending its sessions.
    Revoke {
        #[arg(value_parser = parse_consumer_key)]
        consumer_key: ConsumerKey,
    },
    /// Replace an integration's secret key (shown this once), ending its sessions.
    RotateSecret {
        #[arg(value_parser = parse_consumer_key)]
        consumer_key: ConsumerKey,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    Create {
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user with a first membership. Without --password-stdin a password is generated
    /// and shown once.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long, value_parser = parse_username)]
        username: Username,
        #[arg(long, default_value = "member")]
        role: Role,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Add a membership or change its role. Adding an account to an organization it is not yet
    /// in needs --reset-password or --keep-password: whoever chose its password could otherwise
    /// sign in there too.
    Grant {
        #[arg(long, value_parser = parse_username)]
        username: Username,
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        role: Role,
        /// Give the account a new password (shown once) and end all its sessions.
        #[arg(long, conflicts_with = "keep_password")]
        reset_password: bool,
        /// Keep the account's password: only when it is known to the account's owner alone.
        #[arg(long)]
        keep_password: bool,
    },
    /// Remove a user from an organization, ending their sessions there.
    Revoke {
        #[arg(long, value_parser = parse_username)]
        username: Username,
        #[arg(long)]
        org: OrgId,
    },
    List {
        #[arg(long)]
        org: OrgId,
    },
    /// Disable a user, ending all their sessions.
    Disable {
        #[arg(long, value_parser = parse_username)]
        username: Username,
    },
    Enable {
        #[arg(long, value_parser = parse_username)]
        username: Username,
    },
    /// Change a password, ending all the user's sessions.
    SetPassword {
        #[arg(long, value_parser = parse_username)]
        username: Username,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a signing key: published at once, signing from its activation time.
    Rotate {
        #[arg(long, default_value = "5m")]
        activate_in: HumanDuration,
    },
    /// List the signing keys: kid, algorithm, created, activates, retired.
    List,
    /// Withdraw a (compromised) key at once: it leaves the JWKS and its tokens are refused.
    /// If it signed, the newest other key signs instead, or a new one.
    Retire { kid: String },
    /// Make a master key (32 random bytes, base64): printed, or written to a new file (mode
    /// 0600).
    GenerateMasterKey {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-encrypt every signing key under the master key in FILE, in one transaction; then start
    /// the servers with that file.
    Rewrap {
        #[arg(long)]
        new_master_key_file: PathBuf,
    },
}

fn parse_consumer_key(s: &str) -> Result<ConsumerKey, crate::domain::ParseError> {
    ConsumerKey::parse(s)
}

fn parse_username(s: &str) -> Result<Username, crate::domain::ParseError> {
    Username::parse(s)
}

/// What a command prints on success: a JSON value, and the human rendering of it.
struct Output {
    json: Value,
    human: String,
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::resolve(cli.settings.clone(), cli.config.as_ref()) {
        Ok(s) => s,
        Err(e) => return fail(&AdminError::Invalid(format!("{e:#}"))),
    };
    init_logging(&settings, matches!(cli.command, Command::Serve));
    let result = match cli.command {
        Command::Serve => return serve(settings).await,
        command => admin_command(command, &settings).await,
    };
    match result {
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

fn fail(e: &AdminError) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        AdminError::Internal(_) | AdminError::Unavailable(_) => ExitCode::FAILURE,
        _ => ExitCode::from(2),
    }
}

fn init_logging(settings: &Settings, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},sqlx=warn")));
    let format = settings
        .log_format
        .unwrap_or(if std::io::stderr().is_terminal() {
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

async fn serve(settings: Settings) -> ExitCode {
    let shutdown = shutdown_signal();
    let app = match Application::build(settings.clone(), Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: cannot start: {e:#}");
            // A missing or wrong master key is the operator's to fix, like a bad argument.
            if e.chain().any(|cause| cause.is::<MasterKeyError>()) {
                return ExitCode::from(2);
            }
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = first_start(&app).await {
        eprintln!("error: first start failed: {e:#}");
        return ExitCode::FAILURE;
    }
    tracing::info!(address = %app.local_addr(), "porteiro is listening");
    match app.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// On a database with no organization, creates organization 1 and its owner, and prints how to
/// log in.
async fn first_start(app: &Application) -> anyhow::Result<()> {
    let store = &app.state().auth.store;
    if !store.list_orgs().await?.is_empty() {
        return Ok(());
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (username, password, generated) = match (
        env("PORTEIRO_ADMIN_USERNAME"),
        env("PORTEIRO_ADMIN_PASSWORD"),
    ) {
        (Some(u), Some(p)) => (
            Username::parse(&u)?,
            Password::parse(SecretString::from(p))?,
            false,
        ),
        (None, None) => (
            Username::parse("admin@localhost")?,
            Password::generate(),
            true,
        ),
        _ => anyhow::bail!(
            "set both PORTEIRO_ADMIN_USERNAME and PORTEIRO_ADMIN_PASSWORD, or neither"
        ),
    };
    let hash = app
        .state()
        .auth
        .hasher
        .hash(password.secret().clone())
        .await?;
    let now = SystemClock.now();
    let Some((org, _)) = store
        .bootstrap("Default organization", &username, &hash, now)
        .await?
    else {
        return Ok(());
    };
    let mut address = app.local_addr();
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    println!("Porteiro first start: created organization {org} and its owner.");
    println!("username: {username}");
    let url = format!("http://{address}/api/v1/auth/token/{org}/");
    if generated {
        println!("password: {} (shown only this once)", password.expose());
        // Letters, digits and the username's e-mail characters: safe inside single quotes.
        let body = json!({"username": username.as_str(), "password": password.expose()});
        println!(
            "curl -s -X POST {url} -H 'Content-Type: application/json' -d {}",
            shell_quote(&body.to_string())
        );
    } else {
        // The password stays out of standard output: curl reads it from the environment and
        // form-encodes it, whatever characters it holds.
        println!(
            "curl -s -X POST {url} --data-urlencode {} --data-urlencode \"password=$PORTEIRO_ADMIN_PASSWORD\"",
            shell_quote(&format!("username={username}"))
        );
    }
    Ok(())
}

/// Quotes `s` for a POSIX shell: single quotes, with each `'` written as `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

async fn admin_command(command: Command, settings: &Settings) -> Result<Output, AdminError> {
    // Everything that can be checked without the database is checked first, so that bad input
    // writes nothing; a command that only changes existing records does not create a database.
    let password = match &command {
        Command::User(UserCommand::Create { password_stdin, .. })
        | Command::User(UserCommand::SetPassword { password_stdin, .. }) => {
            Some(read_password(*password_stdin)?)
        }
        _ => None,
    };
    if let Command::Keys(KeysCommand::GenerateMasterKey { out }) = &command {
        return generate_master_key(out.as_deref());
    }
    let creates = matches!(
        command,
        Command::Migrate
            | Command::Org(OrgCommand::Create { .. })
            | Command::Keys(KeysCommand::Rotate { .. })
    );
    let store = Store::open(
        &settings.database,
        creates,
        2,
        settings.database_connect_timeout,
        settings.sqlite_synchronous,
    )
    .await
    .map_err(|e| match e {
        OpenError::Missing(path) => AdminError::NotFound(format!(
            "there is no database at {path}; run `porteiro migrate` or `porteiro serve` first"
        )),
        OpenError::Other(e) => AdminError::Internal(e.context("cannot open the database")),
    })?;
    let now = SystemClock.now();
    let result = match command {
        Command::Serve => unreachable!("serve is not an admin command"),
        Command::Migrate => {
            let n = store.migrate().await?;
            Ok(Output {
                json: json!({"migrations": n}),
                human: format!("database is up to date ({n} migrations)"),
            })
        }
        Command::Org(c) => org_command(c, &store, now).await,
        Command::User(c) => user_command(c, password, &store, settings, now).await,
        Command::Integration(c) => integration_command(c, &store, now).await,
        Command::Keys(c) => keys_command(c, &store, settings, now).await,
    };
    store.close().await;
    result
}

async fn org_command(command: OrgCommand, store: &Store, now: i64) -> Result<Output, AdminError> {
    match command {
        OrgCommand::Create { name } => {
            let org = admin::create_org(store, &name, now).await?;
            Ok(Output {
                human: format!("created organization {} ({})", org.id, org.name),
                json: json!({"id": org.id, "name": org.name}),
            })
        }
        OrgCommand::List => {
            let orgs = store.list_orgs().await?;
            Ok(Output {
                human: orgs
                    .iter()
                    .map(|o| format!("{}\t{}", o.id, o.name))
                    .collect::<Vec<_>>()
                    .join("\n"),
                json: json!(orgs),
            })
        }
    }
}

/// Reads a password: one line of standard input without its line ending, or a generated one.
fn read_password(from_stdin: bool) -> Result<(Password, bool), AdminError> {
    if !from_stdin {
        return Ok((Password::generate(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        AdminError::Invalid(format!("cannot read the password from standard input: {e}"))
    })?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok((Password::parse(SecretString::from(line.to_owned()))?, false))
}

async fn hash(password: &Password, settings: &Settings) -> Result<String, AdminError> {
    let (secret, params) = (password.secret().clone(), settings.argon2);
    tokio::task::spawn_blocking(move || hash_password(&secret, params))
        .await
        .map_err(|e| AdminError::Internal(e.into()))?
        .map_err(AdminError::Internal)
}

fn member_json(m: &crate::store::MemberRecord) -> Value {
    json!({"id": m.id, "username": m.username, "org_id": m.org_id, "role": m.role})
}

async fn user_command(
    command: UserCommand,
    password: Option<(Password, bool)>,
    store: &Store,
    settings: &Settings,
    now: i64,
) -> Result<Output, AdminError> {
    let password = || {
        password
            .clone()
            .ok_or_else(|| AdminError::Internal(anyhow::anyhow!("no password was read")))
    };
    match command {
        UserCommand::Create {
            org,
            username,
            role,
            password_stdin: _,
        } => {
            let (password, generated) = password()?;
            admin::require_org(store, org).await?;
            let hash = hash(&password, settings).await?;
            let member =
                admin::create_user(store, &Actor::cli(), org, &username, role, &hash, now).await?;
            let mut out = member_json(&member);
            let mut human = format!(
                "created user {} ({}) in organization {} as {}",
                member.id, member.username, member.org_id, member.role
            );
            if generated {
                out["password"] = json!(password.expose());
                human.push_str(&format!(
                    "\npassword: {} (shown only this once)",
                    password.expose()
                ));
            }
            Ok(Output { json: out, human })
        }
        UserCommand::Grant {
            username,
            org,
            role,
            reset_password,
            keep_password,
        } => {
            let new_password = if reset_password {
                let password = Password::generate();
                let hash = hash(&password, settings).await?;
                Some((password, hash))
            } else {
                None
            };
            let choice = match (&new_password, keep_password) {
                (Some((_, hash)), _) => admin::PasswordChoice::Reset { hash },
                (None, true) => admin::PasswordChoice::Keep,
                (None, false) => admin::PasswordChoice::Undecided,
            };
            let granted =
                admin::grant_by_operator(store, &Actor::cli(), &username, org, role, choice, now)
                    .await?;
            let member = &granted.member;
            let mut json = member_json(member);
            let mut human = format!(
                "{} is {} of organization {}",
                member.username, member.role, member.org_id
            );
            match (&new_password, granted.password_reset) {
                (Some((password, _)), true) => {
                    json["password"] = json!(password.expose());
                    human.push_str(&format!(
                        "; its sessions have ended\npassword: {} (shown only this once)",
                        password.expose()
                    ));
                }
                _ if granted.was_member && (reset_password || keep_password) => {
                    human.push_str(" (already a member: password unchanged)");
                }
                _ => {}
            }
            Ok(Output { json, human })
        }
        UserCommand::Revoke { username, org } => {
            admin::revoke(store, &Actor::cli(), &username, org, now).await?;
            Ok(Output {
                human: format!("{username} is no longer a member of organization {org}"),
                json: json!({"username": username.as_str(), "org_id": org.get(), "revoked": true}),
            })
        }
        UserCommand::List { org } => {
            let members = admin::list_members(store, org).await?;
            Ok(Output {
                human: members
                    .iter()
                    .map(|m| {
                        let status = if m.active { "active" } else { "disabled" };
                        format!("{}\t{}\t{}\t{status}", m.id, m.username, m.role)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                json: json!(members),
            })
        }
        UserCommand::Disable { username } => set_active(store, &username, false, now).await,
        UserCommand::Enable { username } => set_active(store, &username, true, now).await,
        UserCommand::SetPassword {
            username,
            password_stdin: _,
        } => {
            let (password, generated) = password()?;
            admin::require_user(store, &username).await?;
            let hash = hash(&password, settings).await?;
            admin::set_password(store, &Actor::cli(), &username, &hash, now).await?;
            let mut out = json!({"username": username.as_str()});
            let mut human = format!("password of {username} changed; their sessions have ended");
            if generated {
                out["password"] = json!(password.expose());
                human.push_str(&format!(
                    "\npassword: {} (shown only this once)",
                    password.expose()
                ));
            }
            Ok(Output { json: out, human })
        }
    }
}

async fn set_active(
    store: &Store,
    username: &Username,
    active: bool,
    now: i64,
) -> Result<Output, AdminError> {
    admin::set_active(store, &Actor::cli(), username, active, now).await?;
    let word = if active {
        "enabled"
    } else {
        "disabled; their sessions have ended"
    };
    Ok(Output {
        human: format!("{username} is {word}"),
        json: json!({"username": username.as_str(), "active": active}),
    })
}

fn integration_json(i: &crate::store::IntegrationRecord) -> Value {
    json!({
        "consumer_key": i.consumer_key,
        "org_id": i.org_id.get(),
        "name": i.name,
        "scope": i.scopes.items(),
        "created": format_rfc3339_millis(i.created_at),
        "last_used": i.last_used_at.map(format_rfc3339_millis),
        "revoked": i.revoked_at.map(format_rfc3339_millis),
    })
}

async fn integration_command(
    command: IntegrationCommand,
    store: &Store,
    now: i64,
) -> Result<Output, AdminError> {
    match command {
        IntegrationCommand::Create { org, name, scopes } => {
            let scopes = Scopes::parse(&scopes)?;
            let (record, secret) =
                admin::create_integration(store, &Actor::cli(), org, &name, &scopes, now).await?;
            Ok(Output {
                human: format!(
                    "created integration {} ({}) in organization {}\nconsumer_key: {}\nsecret_key: {} (shown only this once)",
                    record.name,
                    record.scopes.joined(),
                    record.org_id,
                    record.consumer_key,
                    secret.expose()
                ),
                json: json!({
                    "consumer_key": record.consumer_key,
                    "secret_key": secret.expose(),
                    "org_id": record.org_id.get(),
                    "name": record.name,
                    "scope": record.scopes.items(),
                }),
            })
        }
        IntegrationCommand::List { org } => {
            let list = admin::list_integrations(store, org).await?;
            Ok(Output {
                human: list
                    .iter()
                    .map(|i| {
                        let status = if i.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        format!(
                            "{}\t{}\t{}\t{status}",
                            i.consumer_key,
                            i.name,
                            i.scopes.joined()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                json: Value::Array(list.iter().map(integration_json).collect()),
            })
        }
        IntegrationCommand::Revoke { consumer_key } => {
            admin::revoke_integration(store, &Actor::cli(), &consumer_key, now).await?;
            Ok(Output {
                human: format!("integration {consumer_key} is revoked; its sessions have ended"),
                json: json!({"consumer_key": consumer_key.as_str(), "revoked": true}),
            })
        }
        IntegrationCommand::RotateSecret { consumer_key } => {
            let (secret, _) =
                admin::rotate_integration_secret(store, &Actor::cli(), &consumer_key, now).await?;
            Ok(Output {
                human: format!(
                    "new secret for integration {consumer_key}; its sessions have ended\nsecret_key: {} (shown only this once)",
                    secret.expose()
                ),
                json: json!({"consumer_key": consumer_key.as_str(), "secret_key": secret.expose()}),
            })
        }
    }
}

/// The master key of a key command, as the server would have it (on SQLite, by default, the
/// file beside the database, created if the database has none yet).
async fn unlock(store: &Store, settings: &Settings) -> Result<MasterKey, AdminError> {
    keys::unlock(store, &settings.master_key, &settings.database)
        .await
        .map_err(master_key_error)
}

fn master_key_error(e: anyhow::Error) -> AdminError {
    match e.downcast::<MasterKeyError>() {
        Ok(e) => AdminError::Invalid(e.to_string()),
        Err(e) => AdminError::Internal(e),
    }
}

/// `keys generate-master-key`: needs no database.
fn generate_master_key(out: Option<&std::path::Path>) -> Result<Output, AdminError> {
    use secrecy::ExposeSecret;
    let key = MasterKey::generate()?;
    let text = key.to_base64();
    let Some(path) = out else {
        return Ok(Output {
            json: json!({"master_key": text.expose_secret()}),
            human: text.expose_secret().to_owned(),
        });
    };
    let line = secrecy::zeroize::Zeroizing::new(format!("{}\n", text.expose_secret()));
    match crate::store::files::write_new_private(path, line.as_bytes()) {
        Ok(true) => Ok(Output {
            json: json!({"file": path.display().to_string()}),
            human: format!(
                "wrote a new master key to {} (readable by its owner only); keep a copy somewhere safe: without it the signing keys cannot be decrypted",
                path.display()
            ),
        }),
        Ok(false) => Err(AdminError::Duplicate(format!(
            "{} already exists; it was left as it was",
            path.display()
        ))),
        Err(e) => Err(AdminError::Invalid(format!(
            "cannot write {}: {e}",
            path.display()
        ))),
    }
}

async fn keys_command(
    command: KeysCommand,
    store: &Store,
    settings: &Settings,
    now: i64,
) -> Result<Output, AdminError> {
    match command {
        KeysCommand::Rotate { activate_in } => {
            if settings.algorithm == crate::config::Algorithm::HS256 {
                return Err(AdminError::Invalid(
                    "HS256 signs with PORTEIRO_HS256_SECRET; change that secret on every instance instead".into(),
                ));
            }
            let master = unlock(store, settings).await?;
            // A key of another algorithm than the servers' would be published but never sign.
            let newest = store
                .list_keys()
                .await?
                .into_iter()
                .rfind(|k| k.retired_at.is_none());
            if let Some(newest) = newest.filter(|k| k.algorithm != settings.algorithm.as_str()) {
                return Err(AdminError::Invalid(format!(
                    "the newest key is {}, but this command was given --algorithm {}; pass the servers' --algorithm",
                    newest.algorithm,
                    settings.algorithm.as_str()
                )));
            }
            let activates = now + activate_in.0.as_secs() as i64;
            let key = create_stored_key(store, &master, settings.algorithm, now, activates).await?;
            Ok(Output {
                human: format!(
                    "created key {} ({}), published now, signing from {}",
                    key.kid,
                    key.algorithm,
                    format_rfc3339_millis(activates)
                ),
                json: json!({
                    "kid": key.kid,
                    "algorithm": key.algorithm,
                    "created": format_rfc3339_millis(key.created_at),
                    "activates": format_rfc3339_millis(key.activates_at),
                }),
            })
        }
        KeysCommand::List => {
            let keys = store.list_keys().await?;
            let rows: Vec<Value> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    // A key stops signing when `keys retire` withdraws it, or when a later key
                    // of its algorithm activates (at its own activation, if that came first).
                    let superseded = keys[i + 1..]
                        .iter()
                        .filter(|l| l.algorithm == k.algorithm && l.retired_at.is_none())
                        .map(|l| l.activates_at.max(k.activates_at))
                        .min();
                    let retired = match (k.retired_at, superseded) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    json!({
                        "kid": k.kid,
                        "algorithm": k.algorithm,
                        "created": format_rfc3339_millis(k.created_at),
                        "activates": format_rfc3339_millis(k.activates_at),
                        "retired": retired.map(format_rfc3339_millis),
                    })
                })
                .collect();
            let human = rows
                .iter()
                .map(|r| {
                    format!(
                        "{}\t{}\tcreated {}\tactivates {}\tretired {}",
                        r["kid"].as_str().unwrap_or_default(),
                        r["algorithm"].as_str().unwrap_or_default(),
                        r["created"].as_str().unwrap_or_default(),
                        r["activates"].as_str().unwrap_or_default(),
                        r["retired"].as_str().unwrap_or("-"),
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Output {
                json: json!(rows),
                human,
            })
        }
        KeysCommand::Retire { kid } => {
            let master = unlock(store, settings).await?;
            match retire_stored_key(store, &master, &kid, now).await? {
                Retirement::Unknown => Err(AdminError::NotFound(format!(
                    "there is no signing key {kid}"
                ))),
                Retirement::AlreadyRetired(at) => Ok(Output {
                    human: format!(
                        "key {kid} was already retired at {}",
                        format_rfc3339_millis(at)
                    ),
                    json: json!({"kid": kid, "retired": format_rfc3339_millis(at), "signing": null}),
                }),
                Retirement::Retired { successor, .. } => {
                    let (signing, how) = match &successor {
                        None => (None, ""),
                        Some(Successor::Active(kid)) => (Some(kid), ""),
                        Some(Successor::Activated(kid)) => (Some(kid), ", activated now"),
                        Some(Successor::Created(kid)) => (Some(kid), ", created now"),
                    };
                    let mut human = format!(
                        "retired key {kid}: it has left the JWKS and its tokens are refused (by running servers within 5 s)"
                    );
                    if let Some(signing) = signing {
                        human.push_str(&format!("; key {signing} signs instead{how}"));
                    }
                    Ok(Output {
                        human,
                        json: json!({
                            "kid": kid,
                            "retired": format_rfc3339_millis(now),
                            "signing": signing,
                        }),
                    })
                }
            }
        }
        KeysCommand::Rewrap {
            new_master_key_file,
        } => {
            let new = MasterKey::load(
                &crate::config::MasterKeySource::File(new_master_key_file.clone()),
                DefaultKey::None,
                true,
            )
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
            let current = unlock(store, settings).await?;
            let count = keys::rewrap(store, &current, &new)
                .await
                .map_err(master_key_error)?;
            let file = new_master_key_file.display();
            Ok(Output {
                human: format!(
                    "re-encrypted {count} signing keys under the master key in {file}; start every server with --master-key-file {file} (the previous master key no longer opens them)"
                ),
                json: json!({"keys": count, "master_key_file": file.to_string()}),
            })
        }
        KeysCommand::GenerateMasterKey { out } => generate_master_key(out.as_deref()),
    }
}
