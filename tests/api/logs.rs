//! No log line, at any level, contains a password, a secret or a whole token.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

/// Starts the real binary with `RUST_LOG=trace`, drives every user endpoint, and returns its
/// standard error together with the secrets that went over the wire.
async fn trace_a_session() -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let password = "Sup3r-Secret-Passw0rd";
    let log_path = dir.path().join("stderr.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_porteiro"))
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--database",
            &format!("sqlite://{}/p.db", dir.path().display()),
        ])
        .args(["--rotate-refresh-tokens", "true", "--log-format", "json"])
        .env("RUST_LOG", "trace")
        .env("PORTEIRO_ADMIN_USERNAME", "owner@example.com")
        .env("PORTEIRO_ADMIN_PASSWORD", password)
        .env("PORTEIRO_ARGON2_MEMORY_KIB", "1024")
        .env("PORTEIRO_ARGON2_ITERATIONS", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login = |pw: &'static str| {
        client
            .post(format!("{base}/api/v1/auth/token/1/"))
            .json(&json!({"username": "owner@example.com", "password": pw}))
            .send()
    };
    let wrong = login("Wr0ng-Passw0rd-Guess").await.unwrap();
    assert_eq!(wrong.status(), 401);
    let tokens: Value = login(password).await.unwrap().json().await.unwrap();
    let (refresh, access) = (
        tokens["refresh"].as_str().unwrap(),
        tokens["access"].as_str().unwrap(),
    );
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let refreshed: Value = client
        .post(format!("{base}/api/v1/auth/token-refresh/"))
        .form(&[("refresh", refresh)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newer = refreshed["refresh"].as_str().unwrap();
    client
        .post(format!("{base}/api/v1/auth/token-verify/"))
        .json(&json!({"token": access}))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/api/v1/auth/token-blacklist/"))
        .json(&json!({"refresh": newer}))
        .send()
        .await
        .unwrap();
    // An integration: its secret key, its tokens, and a refresh token in a query string.
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_porteiro"))
        .args([
            "integration",
            "create",
            "--org",
            "1",
            "--name",
            "Billing",
            "--json",
        ])
        .args([
            "--database",
            &format!("sqlite://{}/p.db", dir.path().display()),
        ])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let (key, secret) = (
        created["consumer_key"].as_str().unwrap(),
        created["secret_key"].as_str().unwrap(),
    );
    let machine: Value = client
        .post(format!("{base}/auth"))
        .json(&json!({"consumer_key": key, "secret_key": secret}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let machine_refresh = machine["refresh_token"].as_str().unwrap().to_owned();
    let by_query: Value = client
        .get(format!("{base}/auth?refresh_token={machine_refresh}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let oauth: Value = client
        .post(format!("{base}/oauth/token"))
        .basic_auth(key, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    client
        .post(format!("{base}/oauth/introspect"))
        .basic_auth(key, Some(secret))
        .form(&[("token", oauth["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let secrets = vec![
        password.to_owned(),
        "Wr0ng-Passw0rd-Guess".to_owned(),
        refresh.to_owned(),
        access.to_owned(),
        newer.to_owned(),
        refreshed["access"].as_str().unwrap().to_owned(),
        secret.to_owned(),
        machine["access_token"].as_str().unwrap().to_owned(),
        machine_refresh,
        by_query["refresh_token"].as_str().unwrap().to_owned(),
        oauth["access_token"].as_str().unwrap().to_owned(),
    ];
    (log, secrets)
}

#[tokio::test]
async fn trace_logs_hold_no_password_and_no_token() {
    let (log, secrets) = trace_a_session().await;
    assert!(log.lines().count() > 5, "the server logged at trace level");
    assert!(
        log.contains("\"path\":\"/api/v1/me\""),
        "one line per request"
    );
    assert!(
        log.contains("\"path\":\"/auth\""),
        "the refresh by query string is logged, by its path only"
    );
    for secret in secrets {
        assert!(!log.contains(&secret), "a secret reached the log");
        // Nor the signature, which alone would identify a token.
        if let Some(signature) = secret.rsplit('.').next().filter(|s| s.len() > 40) {
            assert!(
                !log.contains(signature),
                "a token signature reached the log"
            );
        }
    }
}
