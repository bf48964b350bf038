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
    let grant = |role, choice| {
        porteiro.json(&format!(
            "user grant --username ana@example.com --org {globex} --role {role} {choice} --json"
        ))
    };

    let added = grant("admin", "--keep-password");
    let changed = grant("owner", "");

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
        "user grant --username ana@example.com --org {globex} --role member --keep-password --json"
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

/// Creates `username` in `org` with `role` and [`PASSWORD`], as the operator would.
fn create_with_role(porteiro: &Porteiro, org: i64, username: &str, role: &str) -> Value {
    let org = org.to_string();
    let line = [
        "user",
        "create",
        "--org",
        &org,
        "--username",
        username,
        "--role",
        role,
        "--password-stdin",
        "--json",
    ];
    porteiro.run_args(&line, &format!("{PASSWORD}\n")).json()
}

/// The password of a `password: <it> (shown only this once)` line.
fn shown_password(stdout: &str) -> &str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .and_then(|l| l.strip_suffix(" (shown only this once)"))
        .unwrap_or_else(|| panic!("no password line in {stdout:?}"))
}

#[tokio::test]
async fn an_account_squatted_by_another_tenants_admin_is_not_granted_with_the_password_they_know() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let bravo = porteiro.create_org("Bravo");
    create_with_role(&porteiro, acme, "boss@acme.example", "admin");
    let server = porteiro.serve().await;
    // Acme's admin creates the account Bravo's CEO will use, and sees its password.
    let (_, boss) = server.tokens(acme, "boss@acme.example", PASSWORD).await;
    let created: Value = server
        .client
        .post(server.url("/api/v1/admin/users"))
        .bearer_auth(&boss)
        .json(&json!({"username": "ceo@bravo.example", "role": "member"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let squatted = created["password"].as_str().unwrap().to_owned();

    // The operator follows the advice of `user create` and grants the account to Bravo.
    let refused = porteiro.run(&format!(
        "user grant --username ceo@bravo.example --org {bravo} --role admin"
    ));

    refused.assert_refused();
    assert!(
        refused.stderr.contains(r#"1 ("Acme") as member"#),
        "{refused:?}"
    );
    assert_eq!(porteiro.members(bravo), json!([]));
    let takeover = server.login(bravo, "ceo@bravo.example", &squatted).await;
    assert_eq!(takeover.status(), 401, "Acme's admin got into Bravo");

    let reset = porteiro.run(&format!(
        "user grant --username ceo@bravo.example --org {bravo} --role admin --reset-password"
    ));

    assert!(reset.status.success(), "{reset:?}");
    let password = shown_password(&reset.stdout);
    for org in [acme, bravo] {
        let with_squatted = server.login(org, "ceo@bravo.example", &squatted).await;
        assert_eq!(with_squatted.status(), 401, "organization {org}");
    }
    let with_new = server.login(bravo, "ceo@bravo.example", password).await;
    assert_eq!(with_new.status(), 200);
}

#[test]
fn user_grant_of_an_account_new_to_the_organization_without_a_password_choice_exits_2_listing_its_organizations()
 {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let initech = porteiro.create_org("Initech");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);
    porteiro.json(&format!(
        "user grant --username ana@example.com --org {globex} --role admin --keep-password --json"
    ));

    let refused = porteiro.run(&format!(
        "user grant --username ana@example.com --org {initech} --role member --json"
    ));

    refused.assert_refused();
    let first = refused.stderr.lines().next().unwrap();
    assert!(
        first.contains(&format!(
            r#"{acme} ("Acme") as member, {globex} ("Globex") as admin"#
        )),
        "{refused:?}"
    );
    assert!(first.contains("--reset-password") && first.contains("--keep-password"));
    assert_eq!(refused.stdout, "");
    assert_eq!(porteiro.members(initech), json!([]));
}

#[test]
fn user_grant_with_both_password_flags_exits_2_and_changes_nothing() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    porteiro
        .run(&format!(
            "user grant --username ana@example.com --org {globex} --role member --reset-password --keep-password"
        ))
        .assert_refused();

    assert_eq!(porteiro.members(globex), json!([]));
}

#[tokio::test]
async fn user_grant_with_reset_password_prints_a_new_password_and_ends_the_accounts_sessions() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let server = porteiro.serve().await;
    let (refresh, access) = server.tokens(acme, "ana@example.com", PASSWORD).await;

    let granted = porteiro.json(&format!(
        "user grant --username ana@example.com --org {globex} --role admin --reset-password --json"
    ));

    assert_eq!(
        keys_of(&granted),
        ["id", "org_id", "password", "role", "username"]
    );
    assert_eq!(granted["id"], ana["id"]);
    assert_eq!(granted["role"], "admin");
    let password = granted["password"].as_str().unwrap();
    assert!(password.len() >= 16, "{password:?} is too short");
    assert_eq!(server.refresh(&refresh).await.status(), 401);
    let deadline = Instant::now() + Duration::from_secs(2);
    while server.me(&access).await.status() != 401 {
        assert!(Instant::now() < deadline, "the access token still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for org in [acme, globex] {
        let with_old = server.login(org, "ana@example.com", PASSWORD).await;
        assert_eq!(with_old.status(), 401, "organization {org}");
        let with_new = server.login(org, "ana@example.com", password).await;
        assert_eq!(with_new.status(), 200, "organization {org}");
    }
}

#[tokio::test]
async fn user_grant_with_keep_password_adds_the_account_with_the_password_it_had() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let server = porteiro.serve().await;
    let (refresh, _) = server.tokens(acme, "ana@example.com", PASSWORD).await;

    let granted = porteiro.json(&format!(
        "user grant --username ana@example.com --org {globex} --role member --keep-password --json"
    ));

    let expected =
        json!({"id": ana["id"], "username": "ana@example.com", "org_id": globex, "role": "member"});
    assert_eq!(granted, expected);
    let login = server.login(globex, "ana@example.com", PASSWORD).await;
    assert_eq!(login.status(), 200);
    assert_eq!(server.refresh(&refresh).await.status(), 200);
}

#[tokio::test]
async fn user_grant_of_an_existing_membership_changes_its_role_with_or_without_a_password_flag() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let ana = porteiro.create_user(acme, "ana@example.com", PASSWORD);
    let server = porteiro.serve().await;
    let (refresh, _) = server.tokens(acme, "ana@example.com", PASSWORD).await;

    let mut roles = Vec::new();
    for (role, flag) in [
        ("admin", ""),
        ("owner", "--reset-password"),
        ("member", "--keep-password"),
    ] {
        let granted = porteiro.json(&format!(
            "user grant --username ana@example.com --org {acme} --role {role} {flag} --json"
        ));
        let expected =
            json!({"id": ana["id"], "username": "ana@example.com", "org_id": acme, "role": role});
        assert_eq!(granted, expected, "{flag}: no new password");
        roles.push(porteiro.members(acme)[0]["role"].clone());
    }

    assert_eq!(roles, ["admin", "owner", "member"]);
    let login = server.login(acme, "ana@example.com", PASSWORD).await;
    assert_eq!(login.status(), 200, "the password did not change");
    assert_eq!(
        server.refresh(&refresh).await.status(),
        200,
        "nor did the session end"
    );
}

#[test]
fn user_create_of_an_existing_username_advises_a_grant_with_a_password_choice() {
    let porteiro = Porteiro::new();
    let acme = porteiro.create_org("Acme");
    let globex = porteiro.create_org("Globex");
    porteiro.create_user(acme, "ana@example.com", PASSWORD);

    let refused = porteiro.run_with_stdin(
        &format!("user create --org {globex} --username ana@example.com --password-stdin"),
        &format!("{PASSWORD}\n"),
    );

    refused.assert_refused();
    assert!(
        refused.stderr.contains("user grant")
            && refused.stderr.contains("--reset-password")
            && refused.stderr.contains("--keep-password"),
        "{refused:?}"
    );
}
