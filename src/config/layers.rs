//! Flags over the environment over an optional TOML file over the built-in defaults. clap does
//! flags, environment and defaults; the file's values become the defaults of the arguments they
//! name, so clap's own order puts the file where it belongs, and a value keeps one parser
//! wherever it comes from.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, FromArgMatches};

use super::args::{ENVIRONMENT_ONLY, settings_command};

/// The id of the argument that names the config file (`--config`, `PORTEIRO_CONFIG`).
pub const CONFIG: &str = "config";

/// Why a command line was not parsed.
#[derive(Debug)]
pub enum ParseError {
    /// A bad flag or value, or a request for help: clap prints it and exits.
    Usage(clap::Error),
    /// The config file cannot be read or holds something that is not a setting.
    Config(anyhow::Error),
}

/// Parses `argv` with `command`, the values of the config file it names standing in for the
/// defaults. A value read from the environment only ([`ENVIRONMENT_ONLY`]) is refused on the
/// command line.
pub fn parse<C: FromArgMatches>(command: Command, argv: Vec<OsString>) -> Result<C, ParseError> {
    let matches = command
        .clone()
        .try_get_matches_from(&argv)
        .map_err(ParseError::Usage)?;
    let file = matches.try_get_one::<PathBuf>(CONFIG).ok().flatten();
    let mut command = match file {
        Some(path) => with_defaults(command, &read(path).map_err(ParseError::Config)?),
        None => command,
    };
    let matches = command
        .try_get_matches_from_mut(&argv)
        .map_err(ParseError::Usage)?;
    refuse_environment_only_flags(&mut command, &matches).map_err(ParseError::Usage)?;
    C::from_arg_matches(&matches).map_err(ParseError::Usage)
}

/// The settings in the file at `path`, by argument id, each checked as its flag would be.
fn read(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let file = path.display();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {file}"))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("invalid config file {file}"))?;
    let settings = settings_command().mut_args(|arg| arg.env(None));
    let mut values = BTreeMap::new();
    let mut flags = vec![OsString::from("porteiro")];
    for (key, value) in table {
        let Some(long) = settings
            .get_arguments()
            .filter(|arg| arg.get_help_heading() != Some(ENVIRONMENT_ONLY))
            .find(|arg| arg.get_id() == key.as_str())
            .and_then(|arg| arg.get_long())
        else {
            bail!("invalid config file {file}: unknown key `{key}`");
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!(
                "invalid config file {file}: `{key}` is a {}, not a string, a number or a boolean",
                other.type_str()
            ),
        };
        flags.push(format!("--{long}={value}").into());
        values.insert(key, value);
    }
    if let Err(e) = settings.try_get_matches_from(flags) {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        return Err(anyhow!(
            "invalid config file {file}: {}",
            first.trim_start_matches("error: ")
        ));
    }
    Ok(values)
}

/// `command` with `values` as the defaults of the arguments they name, in every subcommand.
fn with_defaults(command: Command, values: &BTreeMap<String, String>) -> Command {
    command
        .mut_args(|arg| match values.get(arg.get_id().as_str()) {
            Some(value) => arg.default_value(value.clone()),
            None => arg,
        })
        .mut_subcommands(|sub| with_defaults(sub, values))
}

fn refuse_environment_only_flags(
    command: &mut Command,
    matches: &ArgMatches,
) -> Result<(), clap::Error> {
    let given = command
        .get_arguments()
        .filter(|arg| arg.get_help_heading() == Some(ENVIRONMENT_ONLY))
        .find(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine))
        .map(|arg| {
            let env = arg
                .get_env()
                .map(|name| format!(" ({})", name.to_string_lossy()))
                .unwrap_or_default();
            format!(
                "--{} is read from the environment only{env}: a command line is visible to every user of the machine",
                arg.get_long().unwrap_or_default()
            )
        });
    if let Some(message) = given {
        return Err(command.error(ErrorKind::ArgumentConflict, message));
    }
    match matches.subcommand() {
        Some((name, matches)) => match command.find_subcommand_mut(name) {
            Some(sub) => refuse_environment_only_flags(sub, matches),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::config::Settings;
    use crate::config::SqliteSynchronous;
    use crate::config::args::{CommonArgs, ServeArgs};

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

    fn resolve(flags: &[&str], toml_text: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("porteiro.toml");
        std::fs::write(&path, toml_text).unwrap();
        let mut argv: Vec<OsString> = vec!["porteiro".into(), "--config".into(), path.into()];
        argv.extend(flags.iter().map(OsString::from));
        let command = Serve::command().mut_args(|arg| arg.env(None));
        match parse::<Serve>(command, argv) {
            Ok(cli) => Settings::from_args(cli.common, cli.serve),
            Err(ParseError::Config(e)) => Err(e),
            Err(ParseError::Usage(e)) => Err(e.into()),
        }
    }

    #[test]
    fn the_file_fills_what_flags_and_environment_leave_out() {
        let s = resolve(
            &["--access-token-lifetime", "5m"],
            "access_token_lifetime = \"3m\"\nrefresh_token_lifetime = \"2h\"\nrotate_refresh_tokens = true\n",
        )
        .unwrap();
        assert_eq!(s.access_token_lifetime, Duration::from_secs(300));
        assert_eq!(s.refresh_token_lifetime, Duration::from_secs(7200));
        assert!(s.rotate_refresh_tokens);
    }

    #[test]
    fn the_file_sets_numbers_and_choices() {
        let s = resolve(
            &[],
            "sqlite_synchronous = \"full\"\naudit_retention = \"7d\"\nmax_connections = 20\n",
        )
        .unwrap();
        assert_eq!(s.sqlite_synchronous, SqliteSynchronous::Full);
        assert_eq!(s.audit_retention, Some(Duration::from_secs(7 * 86400)));
        assert_eq!(s.max_connections, 20);
        assert!(resolve(&[], "sqlite_synchronous = \"extra\"\n").is_err());
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        let e = resolve(&[], "acess_token_lifetime = \"3m\"").unwrap_err();
        assert!(e.to_string().contains("acess_token_lifetime"), "{e}");
        // Secrets come from the environment only, never from the file.
        assert!(resolve(&[], "hs256_secret = \"0123456789abcdef0123456789abcdef\"").is_err());
    }

    #[test]
    fn a_bad_value_in_the_file_names_the_file_and_the_flag() {
        let e = resolve(&[], "lockout_window = \"soon\"").unwrap_err();
        let message = e.to_string();
        assert!(message.starts_with("invalid config file "), "{message}");
        assert!(message.contains("--lockout-window"), "{message}");
    }

    #[test]
    fn a_secret_on_the_command_line_is_refused() {
        let secret = "0123456789abcdef0123456789abcdef";
        let e = resolve(&["--algorithm", "HS256", "--hs256-secret", secret], "").unwrap_err();
        let message = e.to_string();
        assert!(
            message.contains("--hs256-secret is read from the environment only"),
            "{message}"
        );
    }
}
