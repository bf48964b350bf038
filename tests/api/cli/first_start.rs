//! The first start: the owner account, its password shown once, and a curl line that works.

use super::*;

#[tokio::test]
async fn first_start_prints_admin_at_localhost_a_generated_password_and_a_curl_line_that_logs_in() {
    let porteiro = Porteiro::new();

    let server = porteiro.serve().await;

    let stdout = server.stdout();
    assert!(
        stdout.lines().any(|l| l == "username: admin@localhost"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("password: ")),
        "{stdout}"
    );
    let tokens = run_curl_line(&stdout, &[]);
    assert!(
        tokens["refresh"].is_string() && tokens["access"].is_string(),
        "{tokens}"
    );
}

#[tokio::test]
async fn first_start_with_admin_username_and_password_set_makes_that_user_owner_and_prints_no_password()
 {
    let porteiro = Porteiro::new();
    let env = [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", "Env-Given-Password-7"),
    ];

    let server = porteiro.serve_with_env(&env).await;

    let stdout = server.stdout();
    assert!(
        stdout.lines().any(|l| l == "username: boss@example.com"),
        "{stdout}"
    );
    assert!(!stdout.contains("Env-Given-Password-7"), "{stdout}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("password:")),
        "{stdout}"
    );
    let tokens = run_curl_line(&stdout, &env);
    let me = server.me(tokens["access"].as_str().unwrap()).await;
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "boss@example.com");
    assert_eq!(me["org_id"], 1);
    assert_eq!(me["role"], "owner");
}

#[tokio::test]
async fn first_start_curl_line_logs_in_even_when_the_admin_password_holds_quotes_and_backslashes() {
    let porteiro = Porteiro::new();
    let env = [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", r#"Say "hi" \ $HOME `x`"#),
    ];

    let server = porteiro.serve_with_env(&env).await;

    let tokens = run_curl_line(&server.stdout(), &env);
    assert!(tokens["access"].is_string(), "{tokens}");
}

#[test]
fn first_start_with_only_one_of_admin_username_and_password_exits_non_zero_with_an_error() {
    for env in [
        ("PORTEIRO_ADMIN_USERNAME", "boss@example.com"),
        ("PORTEIRO_ADMIN_PASSWORD", "Env-Given-Password-7"),
    ] {
        let porteiro = Porteiro::new();
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = porteiro
            .command(&["serve", "--listen", &listen], &[env])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());

        let status = wait_for_exit(&mut child, STARTUP_TIMEOUT);

        let (stdout, stderr) = (stdout.finish(), stderr.finish());
        let status = status.unwrap_or_else(|| panic!("serve with only {} kept running", env.0));
        assert!(!status.success(), "serve with only {} succeeded", env.0);
        assert!(
            stderr.lines().any(|l| l.starts_with("error:")),
            "no `error:` line with only {}: {stderr}",
            env.0
        );
        assert!(!stdout.contains("password"), "{stdout}");
    }
}

#[tokio::test]
async fn a_second_start_on_the_same_database_prints_no_password() {
    let porteiro = Porteiro::new();
    let mut first = porteiro.serve().await;
    first.terminate(Duration::from_secs(10));
    assert!(first.stdout().contains("password: "));
    drop(first);

    let mut second = porteiro.serve().await;
    second.terminate(Duration::from_secs(10));

    let stdout = second.stdout();
    assert!(!stdout.contains("password"), "{stdout}");
    assert!(!stdout.contains("curl"), "{stdout}");
}
