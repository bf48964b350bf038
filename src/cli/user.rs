//! `porteiro user`: accounts and their memberships.

use std::io::BufRead;

use clap::Subcommand;
use secrecy::SecretString;
use serde_json::json;

use super::Failure;
use super::Output;
use super::import::{self, ImportArgs};
use crate::auth::admin::{self, AdminError, Administration};
use crate::auth::hashing::hash_password;
use crate::config::Argon2Settings;
use crate::config::args::HashingArgs;
use crate::domain::{OrgId, Password, Role, Username};
use crate::store::Store;
use crate::views;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Create a user with a first membership. Without --password-stdin a password is generated
    /// and shown once.
    Create {
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
        /// The user's role in the organization.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Read the password from one line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        hashing: HashingArgs,
    },
    /// Add a membership or change its role. Adding an account to an organization it is not yet
    /// in needs --reset-password or --keep-password: whoever chose its password could otherwise
    /// sign in there too.
    Grant {
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
        /// The user's role in the organization.
        #[arg(long)]
        role: Role,
        /// Give the account a new password (shown once) and end all its sessions.
        #[arg(long, conflicts_with = "keep_password")]
        reset_password: bool,
        /// Keep the account's password: only when it is known to the account's owner alone.
        #[arg(long)]
        keep_password: bool,
        #[command(flatten)]
        hashing: HashingArgs,
    },
    /// Remove a user from an organization, ending their sessions there.
    Revoke {
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
    },
    /// List an organization's members: id, username, role, status.
    List {
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
    },
    /// Disable a user, ending all their sessions.
    Disable {
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
    },
    /// Import users from Django with their password hashes, which Porteiro verifies as Django
    /// does until each user's first login re-hashes theirs to argon2id.
    Import(Box<ImportArgs>),
    /// Change a password, ending all the user's sessions.
    SetPassword {
        /// The user's e-mail address.
        #[arg(long, value_parser = parse_username)]
        username: Username,
        /// Read the password from one line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        hashing: HashingArgs,
    },
}

/// What a user command needs before it touches the database, read first so that bad input
/// writes nothing: the password it sets, and the cost to hash passwords with.
pub(super) struct Input {
    password: Option<(Password, bool)>,
    argon2: Option<Argon2Settings>,
}

impl Input {
    pub(super) fn read(command: &UserCommand) -> Result<Self, Failure> {
        let hashing = match command {
            UserCommand::Create { hashing, .. }
            | UserCommand::Grant { hashing, .. }
            | UserCommand::SetPassword { hashing, .. } => Some(hashing),
            _ => None,
        };
        let argon2 = hashing
            .map(HashingArgs::settings)
            .transpose()
            .map_err(|e| Failure::Refused(format!("{e:#}")))?;
        let password = match command {
            UserCommand::Create { password_stdin, .. }
            | UserCommand::SetPassword { password_stdin, .. } => {
                Some(read_password(*password_stdin)?)
            }
            _ => None,
        };
        Ok(Input { password, argon2 })
    }
}

fn parse_username(s: &str) -> Result<Username, crate::domain::ParseError> {
    Username::parse(s)
}

/// Reads a password: one line of standard input without its line ending, or a generated one.
fn read_password(from_stdin: bool) -> Result<(Password, bool), Failure> {
    if !from_stdin {
        return Ok((Password::generate(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        Failure::Refused(format!("cannot read the password from standard input: {e}"))
    })?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok((Password::parse(SecretString::from(line.to_owned()))?, false))
}

async fn hash_with(password: &Password, params: Argon2Settings) -> Result<String, AdminError> {
    let secret = password.secret().clone();
    tokio::task::spawn_blocking(move || hash_password(&secret, params))
        .await
        .map_err(|e| AdminError::Internal(e.into()))?
        .map_err(AdminError::Internal)
}

pub(super) async fn user_command(
    command: UserCommand,
    input: Option<Input>,
    store: &Store,
    now: i64,
) -> Result<Output, Failure> {
    let not_read = |what: &str| AdminError::Internal(anyhow::anyhow!("no {what} was read"));
    let Input { password, argon2 } = input.ok_or_else(|| not_read("input"))?;
    let password = || password.clone().ok_or_else(|| not_read("password"));
    let hash = async |password: &Password| match argon2 {
        Some(argon2) => hash_with(password, argon2).await,
        None => Err(not_read("hashing cost")),
    };
    match command {
        UserCommand::Create {
            org,
            username,
            role,
            ..
        } => {
            let (password, generated) = password()?;
            Administration::operator(store).require_org(org).await?;
            let hash = hash(&password).await?;
            let member = Administration::operator(store)
                .create_user(org, &username, role, &hash, now)
                .await?;
            let mut out = views::membership(&member);
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
            ..
        } => {
            let new_password = if reset_password {
                let password = Password::generate();
                let hash = hash(&password).await?;
                Some((password, hash))
            } else {
                None
            };
            let choice = match (&new_password, keep_password) {
                (Some((_, hash)), _) => admin::PasswordChoice::Reset { hash },
                (None, true) => admin::PasswordChoice::Keep,
                (None, false) => admin::PasswordChoice::Undecided,
            };
            let granted = Administration::operator(store)
                .grant_by_operator(&username, org, role, choice, now)
                .await?;
            let member = &granted.member;
            let mut json = views::membership(member);
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
            Administration::operator(store)
                .revoke(&username, org, now)
                .await?;
            Ok(Output {
                human: format!("{username} is no longer a member of organization {org}"),
                json: json!({"username": username.as_str(), "org_id": org.get(), "revoked": true}),
            })
        }
        UserCommand::List { org } => {
            let members = Administration::operator(store).list_members(org).await?;
            Ok(Output {
                human: members
                    .iter()
                    .map(|m| {
                        let status = if m.active { "active" } else { "disabled" };
                        format!("{}\t{}\t{}\t{status}", m.id, m.username, m.role)
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                json: members.iter().map(views::member).collect(),
            })
        }
        UserCommand::Import(args) => import::import_users(*args, store, now).await,
        UserCommand::Disable { username } => set_active(store, &username, false, now).await,
        UserCommand::Enable { username } => set_active(store, &username, true, now).await,
        UserCommand::SetPassword { username, .. } => {
            let (password, generated) = password()?;
            Administration::operator(store)
                .require_user(&username)
                .await?;
            let hash = hash(&password).await?;
            Administration::operator(store)
                .set_password(&username, &hash, now)
                .await?;
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
) -> Result<Output, Failure> {
    Administration::operator(store)
        .set_active(username, active, now)
        .await?;
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
