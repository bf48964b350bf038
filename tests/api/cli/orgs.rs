//! Organizations, `--json`, and where the database comes from.

use super::*;

#[test]
fn org_create_with_json_prints_exactly_one_object_with_id_and_name() {
    let porteiro = Porteiro::new();

    let org = porteiro.json("org create --name Acme --json");

    assert_eq!(keys_of(&org), ["id", "name"]);
    assert!(org["id"].as_i64().unwrap() >= 1, "{org}");
    assert_eq!(org["name"], "Acme");
}

#[test]
fn org_list_with_json_prints_an_array_of_every_organization() {
    let porteiro = Porteiro::new();
    porteiro.json("migrate --json");
    assert_eq!(porteiro.json("org list --json"), json!([]));
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");

    let list = porteiro.json("org list --json");

    let expected = json!([{"id": acme, "name": "Acme"}, {"id": globex, "name": "Globex"}]);
    assert_eq!(list, expected);
}

#[test]
fn org_create_with_a_duplicate_name_exits_2_and_leaves_org_list_unchanged() {
    let porteiro = Porteiro::new();
    porteiro.create_org("Acme");
    let before = porteiro.json("org list --json");

    let outcome = porteiro.run("org create --name Acme --json");

    outcome.assert_refused();
    assert_eq!(porteiro.json("org list --json"), before);
}

#[test]
fn the_json_flag_may_stand_before_between_or_after_the_subcommands() {
    let porteiro = Porteiro::new();

    for (name, line) in [
        ("A", "--json org create --name A"),
        ("B", "org --json create --name B"),
        ("C", "org create --json --name C"),
        ("D", "org create --name D --json"),
    ] {
        assert_eq!(porteiro.json(line)["name"], name, "{line}");
    }
}

#[test]
fn without_json_org_create_prints_a_human_line() {
    let porteiro = Porteiro::new();

    let outcome = porteiro.run("org create --name Acme");

    assert!(outcome.status.success(), "{outcome:?}");
    assert_eq!(outcome.stdout.lines().count(), 1, "{outcome:?}");
    assert!(
        serde_json::from_str::<Value>(&outcome.stdout).is_err(),
        "{outcome:?}"
    );
    assert!(outcome.stdout.contains("Acme"), "{outcome:?}");
}

#[test]
fn org_create_with_a_blank_name_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();

    for name in ["", "   "] {
        let outcome = porteiro.run_args(&["org", "create", "--name", name, "--json"], "");
        outcome.assert_refused();
    }
    assert_eq!(porteiro.json("org list --json"), json!([]));
}

#[test]
fn admin_commands_take_the_database_from_porteiro_database() {
    let porteiro = Porteiro::new();
    let elsewhere = format!("sqlite://{}/elsewhere.db", porteiro.dir.path().display());
    let mut command = porteiro.bare_command(&[("PORTEIRO_DATABASE", &elsewhere)]);
    command.args(["org", "create", "--name", "Acme", "--json"]);

    run_to_completion(command, "").json();

    let listed = porteiro.json_in(&elsewhere, "org list --json");
    assert_eq!(listed, json!([{"id": 1, "name": "Acme"}]));
    assert!(!porteiro.has_file("porteiro.db"));
}

#[test]
fn the_database_flag_beats_porteiro_database() {
    let porteiro = Porteiro::new();
    let elsewhere = format!("sqlite://{}/elsewhere.db", porteiro.dir.path().display());
    let args = ["org", "create", "--name", "Acme", "--json"];

    run_to_completion(
        porteiro.command(&args, &[("PORTEIRO_DATABASE", &elsewhere)]),
        "",
    )
    .json();

    assert_eq!(
        porteiro.json("org list --json"),
        json!([{"id": 1, "name": "Acme"}])
    );
    assert!(!porteiro.has_file("elsewhere.db"));
}

#[test]
fn commands_that_only_read_or_change_records_refuse_a_missing_database_and_create_no_file() {
    let porteiro = Porteiro::new();

    for line in [
        "org list --json",
        "user list --org 1 --json",
        "user disable --username ana@example.com",
        "keys list --json",
    ] {
        porteiro.run(line).assert_refused();
    }
    assert!(!porteiro.has_file("porteiro.db"));
}
