//! `user grant` of an account new to the organization: the operator chooses what becomes of
//! its password, which another tenant may know.

use super::*;

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
