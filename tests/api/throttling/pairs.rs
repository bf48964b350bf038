//! One account (or consumer key) from one address: locked at its limit, for a while, and from
//! that address only.

use serde_json::json;

use super::{
    INTEGRATION_LOCKED, assert_locked, behind_proxy, counter_keys, integration_from, login_from,
    oauth_from,
};
use crate::helpers::*;

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
async fn the_same_user_from_another_address_is_not_locked_when_one_address_used_up_the_pair_limit()
{
    let app = behind_proxy(|_| {}).await;
    let guesser = "203.0.113.66";
    for _ in 0..5 {
        let response = login_from(&app, guesser, app.org, &app.username, "wrong").await;
        assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
    }
    assert_locked(
        login_from(&app, guesser, app.org, &app.username, PASSWORD).await,
        900,
    )
    .await;

    let owner = "198.51.100.10";
    assert_eq!(
        login_from(&app, owner, app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
    // The owner's success does not free the guesser's pair.
    assert_locked(
        login_from(&app, guesser, app.org, &app.username, PASSWORD).await,
        900,
    )
    .await;
}

#[tokio::test]
async fn an_integration_hammered_from_one_address_still_gets_tokens_from_another_on_post_auth() {
    let app = behind_proxy(|_| {}).await;
    let (key, secret) = app.create_integration(&[]).await;
    let attacker = "203.0.113.66";
    for _ in 0..5 {
        assert_eq!(
            integration_from(&app, attacker, &key, "wrong")
                .await
                .status(),
            400
        );
    }
    let response = integration_from(&app, attacker, &key, &secret).await;
    assert_body_text(response, 429, INTEGRATION_LOCKED).await;

    let client = "198.51.100.20";
    assert_eq!(
        integration_from(&app, client, &key, &secret).await.status(),
        200
    );
}

#[tokio::test]
async fn an_integration_hammered_from_one_address_still_gets_tokens_from_another_on_oauth_token() {
    let app = behind_proxy(|_| {}).await;
    let (key, secret) = app.create_integration(&[]).await;
    let attacker = "203.0.113.66";
    for _ in 0..5 {
        assert_eq!(
            oauth_from(&app, attacker, &key, "wrong").await.status(),
            401
        );
    }
    assert_eq!(
        oauth_from(&app, attacker, &key, &secret).await.status(),
        429
    );

    let client = "198.51.100.20";
    assert_eq!(oauth_from(&app, client, &key, &secret).await.status(), 200);
}

#[tokio::test]
async fn the_counters_hold_neither_a_typed_username_nor_its_plain_digest() {
    let app = TestApp::spawn().await;
    let (key, _) = app.create_integration(&[]).await;
    // What a user who typed their password into the username field leaves behind.
    let typed = "my-secret-passw0rd";
    app.login_as(app.org, typed, "whatever").await;
    app.login_as(app.org, &app.username, "wrong").await;
    app.integration_login(&key, "wrong").await;

    let keys = counter_keys(&app).await;
    assert!(keys.len() >= 4, "{keys:?}");
    for plain in [typed, app.username.as_str(), key.as_str()] {
        let digest = hex::encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            plain.as_bytes(),
        ));
        for stored in &keys {
            assert!(!stored.contains(plain), "{stored} holds {plain}");
            assert!(!stored.contains(&digest), "{stored} holds SHA-256({plain})");
        }
    }
}
