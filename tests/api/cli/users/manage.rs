//! Managing users: list, grant, revoke, disable, enable, set-password.

use super::*;

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
