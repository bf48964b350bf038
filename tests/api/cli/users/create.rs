//! `user create`: the password it takes or makes, the username it keeps, what it refuses.

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
