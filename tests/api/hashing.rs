//! The password-hashing pool under a flood of logins.

use porteiro::config::Argon2Settings;
use porteiro::domain::Role;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_login_flood_beyond_the_queue_gets_quick_503s_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.argon2 = Argon2Settings {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        };
        s.lockout.account_failures = 100_000;
        s.lockout.address_failures = 100_000;
    })
    .await;
    let logins = (0..300).map(|_| app.login_as(app.org, &app.username, PASSWORD));
    let responses = futures_util::future::join_all(logins).await;
    let ok = responses.iter().filter(|r| r.status() == 200).count();
    let busy: Vec<_> = responses.iter().filter(|r| r.status() == 503).collect();
    assert_eq!(ok + busy.len(), 300, "only successes and 503s");
    assert!(ok >= 2, "some logins were served: {ok}");
    assert!(!busy.is_empty(), "the queue is bounded");
    // A full hashing queue answers `Retry-After: 1`; on a machine loaded by other tests a few
    // requests may instead wait too long for the database and get its 503 (`Retry-After: 5`).
    let retry: Vec<&str> = busy
        .iter()
        .map(|r| r.headers()["retry-after"].to_str().unwrap())
        .collect();
    assert!(
        retry.iter().all(|r| r.parse::<u64>().is_ok_and(|s| s > 0)),
        "{retry:?}"
    );
    assert!(
        retry.contains(&"1"),
        "the hashing queue turned logins away: {retry:?}"
    );
    // The flood leaves nothing behind.
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn adding_a_user_through_the_admin_api_while_hashing_is_saturated_answers_503_as_a_login_does()
 {
    let app = TestApp::spawn_with(|s| {
        s.argon2 = Argon2Settings {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        };
        s.lockout.account_failures = 100_000;
        s.lockout.address_failures = 100_000;
    })
    .await;
    app.create_user(app.org, "owner@example.com", PASSWORD, Role::Owner)
        .await;
    let login: Value = app
        .login_as(app.org, "owner@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let owner = login["access"].as_str().unwrap().to_owned();

    // Every tenth request of the flood adds a new user, whose generated password is hashed on
    // the same pool as the logins' passwords.
    let requests = (0..330).map(|i| {
        let owner = owner.clone();
        let app = &app;
        async move {
            if i % 10 == 5 {
                let user = json!({"username": format!("new{i}@example.com")});
                let request = app.client.post(app.url("/api/v1/admin/users"));
                let response = request.bearer_auth(owner).json(&user).send().await;
                (true, response.unwrap())
            } else {
                (false, app.login_as(app.org, &app.username, PASSWORD).await)
            }
        }
    });
    let responses = futures_util::future::join_all(requests).await;

    let mut busy = Vec::new();
    for (_, response) in responses.into_iter().filter(|(add, _)| *add) {
        let status = response.status().as_u16();
        assert!(
            status == 201 || status == 503,
            "adding a user answered {status}"
        );
        if status == 503 {
            let retry = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .to_owned();
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body,
                json!({"detail": "Service temporarily unavailable, try again later."})
            );
            busy.push(retry);
        }
    }
    // As for the logins above, a few may instead wait too long for the database (`5`).
    assert!(busy.contains(&"1".to_owned()), "{busy:?}");
}

/// The stored password hash of `username`.
async fn stored_hash(app: &TestApp, username: &str) -> String {
    let username = porteiro::domain::Username::parse(username).unwrap();
    app.auth
        .store()
        .find_login(&username, None)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

#[tokio::test]
async fn a_hash_made_with_stronger_settings_is_brought_to_the_current_ones_at_the_next_login() {
    // The server hashes at m=1024,t=1 (the test settings); this user's hash was made when the
    // settings were stronger. Left so, their logins would cost more than an unknown user's,
    // which is checked against a dummy hash at the current settings.
    let app = TestApp::spawn().await;
    let stronger = Argon2Settings {
        memory_kib: 2048,
        iterations: 2,
        parallelism: 1,
    };
    let hash = porteiro::auth::hashing::hash_password(
        &secrecy::SecretString::from(PASSWORD.to_owned()),
        stronger,
    )
    .unwrap();
    app.create_user_with_hash(app.org, "old@example.com", &hash)
        .await;
    let failed = app
        .login_as(app.org, "old@example.com", "wrong-password")
        .await;
    assert_eq!(failed.status(), 401);
    assert!(
        stored_hash(&app, "old@example.com")
            .await
            .contains("m=2048,t=2")
    );
    let response = app.login_as(app.org, "old@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let upgraded = stored_hash(&app, "old@example.com").await;
    assert!(upgraded.contains("$m=1024,t=1,p=1$"), "{upgraded}");
    // The new hash holds the same password.
    assert_eq!(
        app.login_as(app.org, "old@example.com", PASSWORD)
            .await
            .status(),
        200
    );
}
