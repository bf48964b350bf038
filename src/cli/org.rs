//! `porteiro org`: organizations.

use clap::Subcommand;

use super::Failure;
use super::Output;
use crate::auth::admin::Administration;
use crate::store::Store;
use crate::views;

#[derive(Debug, Subcommand)]
pub(super) enum OrgCommand {
    /// Create an organization.
    Create {
        /// The organization's name, unique.
        #[arg(long)]
        name: String,
    },
    /// List the organizations: id, name.
    List,
}

pub(super) async fn org_command(
    command: OrgCommand,
    store: &Store,
    now: i64,
) -> Result<Output, Failure> {
    match command {
        OrgCommand::Create { name } => {
            let org = Administration::operator(store)
                .create_org(&name, now)
                .await?;
            Ok(Output {
                human: format!("created organization {} ({})", org.id, org.name),
                json: views::organization(&org),
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
                json: orgs.iter().map(views::organization).collect(),
            })
        }
    }
}
