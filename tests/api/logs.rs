//! No log line, at any level, contains a password, a secret or a whole token.

use serde_json::{Value, json};

use crate::binary::{RunningServer, porteiro, run_to_completion};

/// Starts the real binary with `RUST_LOG=trace`, drives every user endpoint, and returns its
/// standard error together with the secrets that went over the wire.
async fn trace_a_session() -> (String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let password = "Sup3r-Secret-Passw0rd";
    let database = format!("sqlite://{}/p.db", dir.path().display());
    let mut command = porteiro(dir.path());
    command
        .args(["serve", "--database", &database])
        .args(["--rotate-refresh-tokens", "true", "--log-format", "json"])
        .env("RUST_LOG", "trace")
        .env("PORTEIRO_ADMIN_USERNAME", "owner@example.com")
        .env("PORTEIRO_ADMIN_PASSWORD", password);
    let server = RunningServer::start(command).await;
    let base = server.url("");
    let client = server.client.clone();
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
    let mut create = porteiro(dir.path());
    create
        .args(["integration", "create", "--org", "1", "--name", "Billing"])
        .args(["--json", "--database", &database])
        .env("RUST_LOG", "trace");
    let created = run_to_completion(create, "").json();
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
    let log = server.stop();
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
