//! `porteiro integration`: machine clients and their secret keys.

use clap::Subcommand;
use serde_json::{Value, json};

use super::Failure;
use super::Output;
use crate::auth::admin::Administration;
use crate::domain::{ConsumerKey, OrgId, Scopes};
use crate::store::Store;
use crate::views;

#[derive(Debug, Subcommand)]
pub(super) enum IntegrationCommand {
    /// Create an integration; its secret key is shown this once.
    Create {
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
        /// The integration's name.
        #[arg(long)]
        name: String,
        /// A scope granted to the integration; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    /// List an organization's integrations: consumer key, name, scopes, status.
    List {
        /// The organization's id.
        #[arg(long)]
        org: OrgId,
    },
    /// Revoke an integration, ending its sessions.
    Revoke {
        /// The integration's consumer key.
        #[arg(value_parser = parse_consumer_key)]
        consumer_key: ConsumerKey,
    },
    /// Replace an integration's secret key (shown this once), ending its sessions.
    RotateSecret {
        /// The integration's consumer key.
        #[arg(value_parser = parse_consumer_key)]
        consumer_key: ConsumerKey,
    },
}

fn parse_consumer_key(s: &str) -> Result<ConsumerKey, crate::domain::ParseError> {
    ConsumerKey::parse(s)
}

pub(super) async fn integration_command(
    command: IntegrationCommand,
    store: &Store,
    now: i64,
) -> Result<Output, Failure> {
    match command {
        IntegrationCommand::Create { org, name, scopes } => {
            let scopes = Scopes::parse(&scopes)?;
            let (record, secret) = Administration::operator(store)
                .create_integration(org, &name, &scopes, now)
                .await?;
            Ok(Output {
                human: format!(
                    "created integration {} ({}) in organization {}\nconsumer_key: {}\nsecret_key: {} (shown only this once)",
                    record.name,
                    record.scopes.joined(),
                    record.org_id,
                    record.consumer_key,
                    secret.expose()
                ),
                // Not `views::integration` with the secret added: the contract fixes this
                // object to these five keys, what a client needs to obtain tokens.
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
            let list = Administration::operator(store)
                .list_integrations(org)
                .await?;
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
                json: Value::Array(list.iter().map(views::integration).collect()),
            })
        }
        IntegrationCommand::Revoke { consumer_key } => {
            Administration::operator(store)
                .revoke_integration(&consumer_key, now)
                .await?;
            Ok(Output {
                human: format!("integration {consumer_key} is revoked; its sessions have ended"),
                json: json!({"consumer_key": consumer_key.as_str(), "revoked": true}),
            })
        }
        IntegrationCommand::RotateSecret { consumer_key } => {
            let (secret, _) = Administration::operator(store)
                .rotate_integration_secret(&consumer_key, now)
                .await?;
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
