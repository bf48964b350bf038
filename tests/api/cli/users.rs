//! Creating and managing users and memberships.

use super::*;

#[tokio::test]
async fn user_create_with_password_stdin_drops_a_trailing_lf_or_crlf() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    for (username, ending) in [("lf@example.com", "\n"), ("crlf@example.com", "\r\n")] {
        let line = format!(
            "user create --org {org} --username {username} --role admin --password-stdin --json"
        );
        let created = porteiro
            .run_with_stdin(&line, &format!("{PASSWORD}{ending}"))
            .json();
        let expected =
            json!({"id": created["id"], "username": username, "org_id": org, "role": "admin"});
        assert_eq!(created, expected);
    }

    let server = porteiro.serve().await;

    for username in ["lf@example.com", "crlf@example.com"] {
        let response = server.login(org, username, PASSWORD).await;
        assert_eq!(response.status(), 200, "{username} cannot log in");
    }
}

#[tokio::test]
async fn user_create_without_password_stdin_prints_a_generated_password_that_logs_in() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.json(&format!(
        "user create --org {org} --username gen@example.com --json"
    ));

    assert_eq!(
        keys_of(&created),
        ["id", "org_id", "password", "role", "username"]
    );
    assert_eq!(created["role"], "member");
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 16, "{password:?} is too short");
    let server = porteiro.serve().await;
    let response = server.login(org, "gen@example.com", password).await;
    assert_eq!(response.status(), 200);
}

#[test]
fn user_create_trims_and_lower_cases_the_username() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let created = porteiro.create_user(org, "  Ana.Souza@Example.COM.br ", PASSWORD);

    assert_eq!(created["username"], "ana.souza@example.com.br");
    assert_eq!(
        porteiro.members(org)[0]["username"],
        "ana.souza@example.com.br"
    );
}

/// Runs `user create --org <org> --json <args>` with `stdin`, asserts the refusal, and that the
/// organization's member list did not change.
fn assert_user_create_refused(porteiro: &Porteiro, org: i64, args: &[&str], stdin: &str) {
    let before = porteiro.members(org);
    let org_arg = org.to_string();
    let mut line = vec!["user", "create", "--org", &org_arg, "--json"];
    line.extend_from_slice(args);

    porteiro.run_args(&line, stdin).assert_refused();

    assert_eq!(porteiro.members(org), before, "{line:?} wrote something");
}

#[test]
fn user_create_with_a_bad_email_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for bad in [
        "not-an-address",
        "@example.com",
        "ana@",
        "a@b@c",
        "an a@example.com",
    ] {
        assert_user_create_refused(&porteiro, org, &["--username", bad], "");
    }
}

#[test]
fn user_create_with_an_unknown_role_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for role in ["superuser", "Owner", ""] {
        let args = ["--username", "ana@example.com", "--role", role];
        assert_user_create_refused(&porteiro, org, &args, "");
    }
}

#[test]
fn user_create_with_an_unknown_org_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    let outcome = porteiro.run_with_stdin(
        "user create --org 999 --username ana@example.com --password-stdin --json",
        &format!("{PASSWORD}\n"),
    );

    outcome.assert_refused();
    // Had a user row been written, the name would now be taken.
    let created = porteiro.create_user(org, "ana@example.com", PASSWORD);
    assert_eq!(created["username"], "ana@example.com");
}

#[test]
fn user_create_with_an_org_that_is_not_a_positive_integer_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    for bad in ["0", "-1", "abc", "1.0", "99999999999999999999"] {
        let line = format!("user create --org {bad} --username ana@example.com --json");
        porteiro.run(&line).assert_refused();
    }
    assert_eq!(porteiro.members(org), json!([]));
}

#[test]
fn user_create_of_an_existing_username_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    for org in [acme, globex] {
        let args = ["--username", "ANA@example.com", "--password-stdin"];
        assert_user_create_refused(&porteiro, org, &args, "Another-Password-9\n");
    }
    assert_eq!(porteiro.members(globex), json!([]));
}

#[test]
fn user_create_with_a_password_under_8_characters_exits_2_and_writes_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");

    // Seven characters: the line ending must not count as the eighth.
    for stdin in ["1234567\n", "1234567\r\n", "\n", ""] {
        let args = ["--username", "ana@example.com", "--password-stdin"];
        assert_user_create_refused(&porteiro, org, &args, stdin);
    }
    assert_eq!(porteiro.members(org), json!([]));
}

// Managing users

#[test]
fn user_list_with_json_prints_every_member_of_the_organization() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let bia = porteiro.create_user(acme, "bia@example.com", PASSWORD);
    porteiro.create_user(globex, "caio@example.com", PASSWORD);

    let list = porteiro.members(acme);

    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    for (member, created) in list.iter().zip([&ana, &bia]) {
        assert_eq!(member["id"], created["id"]);
        assert_eq!(member["username"], created["username"]);
        assert_eq!(member["org_id"], acme);
        assert_eq!(member["role"], "member");
        assert_eq!(member["active"], true);
    }
}

#[test]
fn user_list_of_an_unknown_organization_exits_2() {
    let porteiro = Porteiro::new();

    porteiro.run("user list --org 42 --json").assert_refused();
}

#[test]
fn user_grant_adds_a_membership_and_changes_its_role() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let grant = |role| {
        porteiro.json(&format!(
            "user grant --username ana@example.com --org {globex} --role {role} --json"
        ))
    };

    let added = grant("admin");
    let changed = grant("owner");

    let expected = |role| json!({"id": ana["id"], "username": "ana@example.com", "org_id": globex, "role": role});
    assert_eq!(added, expected("admin"));
    assert_eq!(changed, expected("owner"));
    let members = porteiro.members(globex);
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["role"], "owner");
    assert_eq!(porteiro.members(acme)[0]["role"], "member");
}

#[test]
fn user_revoke_removes_the_membership_in_that_organization_only() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);
    porteiro.json(&format!(
        "user grant --username ana@example.com --org {globex} --role member --json"
    ));

    let revoked = porteiro.json(&format!(
        "user revoke --username ana@example.com --org {acme} --json"
    ));

    let expected = json!({"username": "ana@example.com", "org_id": acme, "revoked": true});
    assert_eq!(revoked, expected);
    assert_eq!(porteiro.members(acme), json!([]));
    assert_eq!(porteiro.members(globex).as_array().unwrap().len(), 1);
}

#[test]
fn user_disable_and_enable_print_the_new_state_and_user_list_shows_it() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let disabled = porteiro.json("user disable --username ana@example.com --json");
    let listed_after_disable = porteiro.members(org)[0]["active"].clone();
    let enabled = porteiro.json("user enable --username ana@example.com --json");
    let listed_after_enable = porteiro.members(org)[0]["active"].clone();

    assert_eq!(
        disabled,
        json!({"username": "ana@example.com", "active": false})
    );
    assert_eq!(
        enabled,
        json!({"username": "ana@example.com", "active": true})
    );
    assert_eq!(listed_after_disable, false);
    assert_eq!(listed_after_enable, true);
}

#[tokio::test]
async fn user_set_password_with_password_stdin_replaces_the_password() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let changed = porteiro
        .run_with_stdin(
            "user set-password --username Ana@Example.com --password-stdin --json",
            "Brand-New-Password-8\r\n",
        )
        .json();

    assert_eq!(changed, json!({"username": "ana@example.com"}));
    let server = porteiro.serve().await;
    let with_new = server
        .login(org, "ana@example.com", "Brand-New-Password-8")
        .await;
    assert_eq!(with_new.status(), 200);
    let with_old = server.login(org, "ana@example.com", PASSWORD).await;
    assert_eq!(with_old.status(), 401);
}

#[test]
fn user_set_password_without_password_stdin_prints_a_generated_password() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    porteiro.create_user(org, "ana@example.com", PASSWORD);

    let changed = porteiro.json("user set-password --username ana@example.com --json");

    assert_eq!(keys_of(&changed), ["password", "username"]);
    assert!(
        changed["password"].as_str().unwrap().len() >= 16,
        "{changed}"
    );
}

#[test]
fn user_commands_on_an_unknown_user_exit_2_and_write_nothing() {
    let porteiro = Porteiro::new();
    let org = porteiro.create_org("Acme");
    let ghost = "--username ghost@example.com";

    for line in [
        format!("user grant {ghost} --org {org} --role member"),
        format!("user revoke {ghost} --org {org}"),
        format!("user disable {ghost}"),
        format!("user enable {ghost}"),
        format!("user set-password {ghost} --password-stdin"),
    ] {
        let outcome = porteiro.run_with_stdin(&line, &format!("{PASSWORD}\n"));
        outcome.assert_refused();
    }
    assert_eq!(porteiro.members(org), json!([]));
}

#[test]
fn user_revoke_of_someone_who_is_not_a_member_exits_2() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    let outcome = porteiro.run(&format!(
        "user revoke --username ana@example.com --org {globex}"
    ));

    outcome.assert_refused();
    assert_eq!(porteiro.members(acme).as_array().unwrap().len(), 1);
}
