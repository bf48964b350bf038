//! The config file the Debian package installs, `packaging/porteiro.toml`, checked against the
//! settings: as shipped, and with every setting it lists uncommented, so that renaming a flag
//! cannot leave the packaged file naming a key the server refuses.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use super::Settings;
use super::args::{CommonArgs, ServeArgs};
use super::layers::{ParseError, parse};

const SHIPPED: &str = include_str!("../../packaging/porteiro.toml");

/// `serve`'s settings and `--config`, read from no environment.
#[derive(Parser)]
struct Serve {
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    serve: ServeArgs,
}

fn resolve(toml_text: &str) -> anyhow::Result<Settings> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("porteiro.toml");
    std::fs::write(&path, toml_text)?;
    let argv: Vec<OsString> = vec!["porteiro".into(), "--config".into(), path.into()];
    let command = Serve::command().mut_args(|arg| arg.env(None));
    match parse::<Serve>(command, argv) {
        Ok(cli) => Settings::from_args(cli.common, cli.serve),
        Err(ParseError::Config(e)) => Err(e),
        Err(ParseError::Usage(e)) => Err(e.into()),
    }
}

#[test]
fn the_packaged_config_file_is_accepted_as_shipped() {
    let settings = resolve(SHIPPED).unwrap();
    assert_eq!(settings.database, "sqlite:///var/lib/porteiro/porteiro.db");
}

#[test]
fn every_setting_the_packaged_config_file_lists_is_a_real_one_at_its_default() {
    let uncommented: String = SHIPPED
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(key, _)| !key.contains(' ')) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let table: toml::Table = toml::from_str(&uncommented).unwrap();
    assert!(table.len() > 20, "{table:?}");
    let all = resolve(&uncommented).unwrap();
    let defaults = resolve("database = \"sqlite:///var/lib/porteiro/porteiro.db\"").unwrap();
    // The values shown are the defaults (the issuer and the proxies, which have none, are
    // examples).
    assert_eq!(all.access_token_lifetime, defaults.access_token_lifetime);
    assert_eq!(all.lockout.window, defaults.lockout.window);
    assert_eq!(all.max_connections, defaults.max_connections);
    assert_eq!(all.audit_retention, Some(Duration::from_secs(90 * 86400)));
    assert_eq!(all.argon2.memory_kib, defaults.argon2.memory_kib);
    assert_eq!(all.listen, defaults.listen);
}
