//! `porteiro keys`: signing keys and the master key that encrypts them.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde_json::{Value, json};

use super::Failure;
use super::Output;
use crate::auth::admin::AdminError;
use crate::auth::keys::Keys;
use crate::clock::format_rfc3339_millis;
use crate::config::args::{AlgorithmArg, CommonArgs, parse_duration};
use crate::config::{Algorithm, MasterKeySource};
use crate::store::{Retirement, Store, Successor};
use crate::tokens::master::{DefaultKey, MasterKey, MasterKeyError};

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Create a signing key: published at once, signing from its activation time.
    Rotate {
        /// How long the key is published before it signs.
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
        activate_in: Duration,
        /// The servers' algorithm: the new key's.
        #[command(flatten)]
        algorithm: AlgorithmArg,
    },
    /// List the signing keys: kid, algorithm, created, activates, retired.
    List,
    /// Withdraw a (compromised) key at once: it leaves the JWKS and its tokens are refused.
    /// If it signed, the newest other key signs instead, or a new one.
    Retire {
        /// The key's id.
        kid: String,
    },
    /// Make a master key (32 random bytes, base64): printed, or written to a new file (mode
    /// 0600).
    GenerateMasterKey {
        /// Write the key to this new file instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Re-encrypt every signing key under the master key in FILE, in one transaction; then start
    /// the servers with that file.
    Rewrap {
        /// The file of the new master key (see generate-master-key).
        #[arg(long, value_name = "FILE")]
        new_master_key_file: PathBuf,
    },
}

/// The master key of a key command, as the server would have it (on SQLite, by default, the
/// file beside the database, created if the database has none yet).
async fn unlock(store: &Store, common: &CommonArgs) -> Result<MasterKey, Failure> {
    let source = common
        .master_key_source()
        .map_err(|e| Failure::Refused(format!("{e:#}")))?;
    Keys::unlock(store, &source, &common.database)
        .await
        .map_err(master_key_error)
}

fn master_key_error(e: anyhow::Error) -> Failure {
    match e.downcast::<MasterKeyError>() {
        Ok(e) => Failure::Refused(e.to_string()),
        Err(e) => AdminError::Internal(e).into(),
    }
}

/// `keys generate-master-key`: needs no database.
pub(super) fn generate_master_key(out: Option<&std::path::Path>) -> Result<Output, Failure> {
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
    match crate::files::write_new_private(path, line.as_bytes()) {
        Ok(true) => Ok(Output {
            json: json!({"file": path.display().to_string()}),
            human: format!(
                "wrote a new master key to {} (readable by its owner only); keep a copy somewhere safe: without it the signing keys cannot be decrypted",
                path.display()
            ),
        }),
        Ok(false) => Err(Failure::Refused(format!(
            "{} already exists; it was left as it was",
            path.display()
        ))),
        Err(e) => Err(Failure::Refused(format!(
            "cannot write {}: {e}",
            path.display()
        ))),
    }
}

pub(super) async fn keys_command(
    command: KeysCommand,
    store: &Store,
    common: &CommonArgs,
    now: i64,
) -> Result<Output, Failure> {
    match command {
        KeysCommand::Rotate {
            activate_in,
            algorithm: AlgorithmArg { algorithm },
        } => {
            if algorithm == Algorithm::HS256 {
                return Err(Failure::Refused(
                    "HS256 signs with PORTEIRO_HS256_SECRET; change that secret on every instance instead".into(),
                ));
            }
            let master = unlock(store, common).await?;
            // A key of another algorithm than the servers' would be published but never sign.
            let newest = store
                .list_keys()
                .await?
                .into_iter()
                .rfind(|k| k.retired_at.is_none());
            if let Some(newest) = newest.filter(|k| k.algorithm != algorithm.as_str()) {
                return Err(Failure::Refused(format!(
                    "the newest key is {}, but this command was given --algorithm {}; pass the servers' --algorithm",
                    newest.algorithm,
                    algorithm.as_str()
                )));
            }
            let activates = now + activate_in.as_secs() as i64;
            let key = Keys::new(store, &master)
                .create(algorithm, now, activates)
                .await?;
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
            let master = unlock(store, common).await?;
            match Keys::new(store, &master).retire(&kid, now).await? {
                Retirement::Unknown => {
                    Err(Failure::Refused(format!("there is no signing key {kid}")))
                }
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
                &MasterKeySource::File(new_master_key_file.clone()),
                DefaultKey::None,
                true,
            )
            .map_err(|e| Failure::Refused(e.to_string()))?;
            let current = unlock(store, common).await?;
            let count = Keys::new(store, &current)
                .rewrap(&new)
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
