//! `--help` as an operator reads it, and the config file under the flags and the environment.

use super::*;

/// `porteiro <args> --help`'s standard output.
fn help(porteiro: &Porteiro, args: &[&str]) -> String {
    let mut command = porteiro.bare_command(&[]);
    command.args(args).arg("--help");
    let outcome = run_to_completion(command, "");
    assert!(outcome.status.success(), "{outcome:?}");
    outcome.stdout
}

/// The lines that describe `flag` in a help text: its own and those up to the next flag.
fn entry<'a>(help: &'a str, flag: &str) -> Option<Vec<&'a str>> {
    let mut lines = help.lines().skip_while(|l| {
        let l = l.trim_start();
        let after = l.strip_prefix(flag);
        !after.is_some_and(|after| after.is_empty() || after.starts_with(' '))
    });
    let first = lines.next()?;
    // Up to the next flag (`--x` or `-h, --help`) or heading (`Tokens:`, not indented).
    let rest = lines.take_while(|l| {
        let flag = l.trim_start();
        let next_flag = flag.starts_with("--") || flag.get(2..3) == Some(",");
        let heading = !l.starts_with(' ') && l.ends_with(':');
        !next_flag && !heading
    });
    Some(std::iter::once(first).chain(rest).collect())
}

#[test]
fn serve_help_shows_a_settings_description_default_and_environment_variable() {
    let porteiro = Porteiro::new();
    let help = help(&porteiro, &["serve"]);

    let lockout = entry(&help, "--lockout-window").expect("--lockout-window is listed");
    let text = lockout.join("\n");
    assert!(text.contains("How long failures are counted"), "{text}");
    assert!(text.contains("[default: 15m]"), "{text}");
    assert!(text.contains("PORTEIRO_LOCKOUT_WINDOW"), "{text}");
    let refresh = entry(&help, "--refresh-token-lifetime").unwrap().join("\n");
    assert!(refresh.contains("[default: 1d]"), "{refresh}");
    // The database URL may hold a password, the secrets are secrets: never their values.
    let secret = "a-value-that-must-not-be-printed-0123456789";
    let mut command = porteiro.bare_command(&[
        ("PORTEIRO_HS256_SECRET", secret),
        (
            "PORTEIRO_DATABASE",
            &format!("postgres://porteiro:{secret}@db/porteiro"),
        ),
    ]);
    command.args(["serve", "--help"]);
    let with_secrets = run_to_completion(command, "");
    assert!(with_secrets.stdout.contains("PORTEIRO_HS256_SECRET"));
    assert!(!with_secrets.stdout.contains(secret), "{with_secrets:?}");
}

#[test]
fn every_flag_of_serve_has_a_description_and_an_environment_variable() {
    let porteiro = Porteiro::new();
    let help = help(&porteiro, &["serve"]);
    let flags: Vec<&str> = help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("--"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(flags.len() > 30, "{help}");

    for flag in flags {
        let text = entry(&help, flag).unwrap().join(" ");
        let described = text.split_whitespace().count() > 3;
        assert!(described, "{flag} has no description: {text}");
        if flag != "--json" && flag != "--help" {
            assert!(text.contains("[env: PORTEIRO_"), "{flag}: {text}");
        }
    }
}

#[test]
fn user_help_lists_the_database_settings_and_none_of_the_servers() {
    let porteiro = Porteiro::new();

    for args in [
        &["user"][..],
        &["user", "list"],
        &["org"],
        &["keys", "list"],
    ] {
        let help = help(&porteiro, args);
        assert!(entry(&help, "--database").is_some(), "{args:?}: {help}");
        for serve_only in ["--listen", "--lockout-window", "--access-token-lifetime"] {
            assert!(entry(&help, serve_only).is_none(), "{args:?}: {help}");
        }
    }
    // Commands that hash a password take the servers' hashing cost.
    let create = help(&porteiro, &["user", "create"]);
    assert!(entry(&create, "--argon2-memory-kib").is_some(), "{create}");
}

#[test]
fn admin_commands_take_the_database_from_a_config_file_under_the_environment() {
    let porteiro = Porteiro::new();
    let path = |name: &str| porteiro.dir.path().join(name).display().to_string();
    // One file for the servers and the admin commands: serve's settings are accepted and unused.
    let config = format!(
        "database = \"sqlite://{}\"\nlockout_window = \"5m\"\nrotate_refresh_tokens = true\n",
        path("from-file.db")
    );
    std::fs::write(porteiro.dir.path().join("porteiro.toml"), config).unwrap();
    let config = path("porteiro.toml");

    let mut command = porteiro.bare_command(&[]);
    command.args([
        "org", "create", "--name", "Acme", "--json", "--config", &config,
    ]);
    run_to_completion(command, "").json();
    assert!(porteiro.has_file("from-file.db"));

    let from_env = format!("sqlite://{}", path("from-env.db"));
    let mut command = porteiro.bare_command(&[
        ("PORTEIRO_DATABASE", &from_env),
        ("PORTEIRO_CONFIG", &config),
    ]);
    command.args(["org", "create", "--name", "Acme", "--json"]);
    run_to_completion(command, "").json();
    assert!(porteiro.has_file("from-env.db"));
}

#[test]
fn a_config_file_with_an_unknown_key_is_refused_with_status_2() {
    let porteiro = Porteiro::new();
    std::fs::write(
        porteiro.dir.path().join("bad.toml"),
        "acess_token_lifetime = \"3m\"\n",
    )
    .unwrap();

    let refused = porteiro.run("org list --config bad.toml");

    refused.assert_refused();
    assert!(
        refused.stderr.contains("acess_token_lifetime"),
        "{refused:?}"
    );
    assert!(!porteiro.has_file("porteiro.db"));
}

#[test]
fn a_secret_given_as_a_flag_is_refused_naming_its_environment_variable() {
    let porteiro = Porteiro::new();

    let refused = porteiro.run_args(
        &[
            "serve",
            "--algorithm",
            "HS256",
            "--hs256-secret",
            "0123456789abcdef0123456789abcdef",
        ],
        "",
    );

    refused.assert_refused();
    assert!(
        refused.stderr.contains("PORTEIRO_HS256_SECRET"),
        "{refused:?}"
    );
    assert!(!porteiro.has_file("porteiro.db"));
}
