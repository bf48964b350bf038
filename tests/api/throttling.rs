//! Login throttling (CONTRACT §5) for the user dialect.

use porteiro::domain::Role;
use serde_json::json;

use crate::helpers::*;

const LOCKED: &str = r#"{"message":"Rate limit exceeded"}"#;

async fn assert_locked(response: reqwest::Response, at_most: u64) {
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= at_most, "Retry-After {retry}");
    assert_body_text(response, 400, LOCKED).await;
}

#[tokio::test]
async fn the_fifth_failure_is_answered_and_the_sixth_attempt_is_refused() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_body_text(
            app.login_as(app.org, &app.username, "wrong").await,
            401,
            NO_ACTIVE_ACCOUNT,
        )
        .await;
    }
    assert_locked(app.login_as(app.org, &app.username, "wrong").await, 900).await;
}

#[tokio::test]
async fn no_password_is_checked_while_locked_and_the_lock_expires() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login_as(app.org, &app.username, "wrong").await;
    }
    assert_locked(app.login_as(app.org, &app.username, PASSWORD).await, 900).await;
    app.clock.advance(600);
    assert_locked(app.login_as(app.org, &app.username, PASSWORD).await, 300).await;
    app.clock.advance(300);
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn unknown_usernames_are_counted_like_known_ones() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login_as(app.org, "ghost@example.com", "wrong").await;
    }
    assert_locked(
        app.login_as(app.org, "GHOST@example.com ", "wrong").await,
        900,
    )
    .await;
}

#[tokio::test]
async fn a_success_resets_the_account_counter() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        app.login_as(app.org, &app.username, "wrong").await;
    }
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
    for _ in 0..4 {
        assert_eq!(
            app.login_as(app.org, &app.username, "wrong").await.status(),
            401
        );
    }
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn failures_outside_the_window_do_not_add_up() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        app.login_as(app.org, &app.username, "wrong").await;
    }
    app.clock.advance(15 * 60);
    for _ in 0..4 {
        assert_eq!(
            app.login_as(app.org, &app.username, "wrong").await.status(),
            401
        );
    }
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_validation_error_counts_nothing() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    for _ in 0..10 {
        let response = app
            .post_json(&path, &json!({"username": app.username}))
            .await;
        assert_eq!(response.status(), 400);
    }
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn one_address_is_locked_after_its_limit_across_accounts() {
    let app = TestApp::spawn_with(|s| s.lockout.address_failures = 3).await;
    for name in ["a@example.com", "b@example.com", "c@example.com"] {
        assert_eq!(app.login_as(app.org, name, "wrong").await.status(), 401);
    }
    // The address is locked, even for a correct password of an untouched account.
    assert_locked(app.login_as(app.org, &app.username, PASSWORD).await, 900).await;
}

#[tokio::test]
async fn successes_do_not_count_against_the_address() {
    let app = TestApp::spawn_with(|s| s.lockout.address_failures = 3).await;
    for _ in 0..5 {
        assert_eq!(
            app.login_as(app.org, &app.username, PASSWORD)
                .await
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn twenty_concurrent_wrong_passwords_never_get_past_the_limit() {
    let app = TestApp::spawn().await;
    let attempts = (0..20).map(|_| app.login_as(app.org, &app.username, "wrong"));
    let responses = futures_util::future::join_all(attempts).await;
    let checked = responses.iter().filter(|r| r.status() == 401).count();
    let refused = responses.iter().filter(|r| r.status() == 400).count();
    assert_eq!(checked, 5, "credentials checked");
    assert_eq!(refused, 15);
}

#[tokio::test]
async fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let app = TestApp::spawn_with(|s| {
        s.lockout.address_failures = 2;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.create_user(app.org, "other@example.com", PASSWORD, Role::Member)
        .await;
    let attempt = |addr: &'static str, name: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/api/v1/auth/token/{}/", app.org)))
                .header("X-Forwarded-For", addr)
                .json(&json!({"username": name, "password": "wrong"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(attempt("198.51.100.1", "x@example.com").await.status(), 401);
    assert_eq!(attempt("198.51.100.1", "y@example.com").await.status(), 401);
    assert_eq!(attempt("198.51.100.1", "z@example.com").await.status(), 400);
    // Another client behind the same proxy is not locked.
    assert_eq!(attempt("198.51.100.2", "z@example.com").await.status(), 401);
}
