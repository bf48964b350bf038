//! One address, across accounts and dialects; and which address a request comes from.

use porteiro::domain::Role;

use super::{
    INTEGRATION_LOCKED, assert_locked, behind_proxy, integration_from, login_from, oauth_from,
    retry_after,
};
use crate::helpers::*;

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
async fn one_address_is_locked_after_its_limit_across_dialects() {
    let app = behind_proxy(|s| s.lockout.address_failures = 3).await;
    let (key, secret) = app.create_integration(&[]).await;
    let here = "198.51.100.7";
    let user = login_from(&app, here, app.org, "a@example.com", "wrong").await;
    assert_eq!(user.status(), 401);
    assert_eq!(
        integration_from(&app, here, &key, "wrong").await.status(),
        400
    );
    assert_eq!(oauth_from(&app, here, &key, "wrong").await.status(), 401);

    assert_locked(
        login_from(&app, here, app.org, &app.username, PASSWORD).await,
        900,
    )
    .await;
    let response = integration_from(&app, here, &key, &secret).await;
    assert!(retry_after(&response) > 0);
    assert_body_text(response, 429, INTEGRATION_LOCKED).await;
    assert_eq!(oauth_from(&app, here, &key, &secret).await.status(), 429);
    // Another address is not locked.
    let elsewhere = "198.51.100.8";
    assert_eq!(
        login_from(&app, elsewhere, app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
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
async fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let app = behind_proxy(|s| s.lockout.address_failures = 2).await;
    app.create_user(app.org, "other@example.com", PASSWORD, Role::Member)
        .await;
    let attempt = |addr: &'static str, name: &'static str| {
        let app = &app;
        async move { login_from(app, addr, app.org, name, "wrong").await }
    };
    assert_eq!(attempt("198.51.100.1", "x@example.com").await.status(), 401);
    assert_eq!(attempt("198.51.100.1", "y@example.com").await.status(), 401);
    assert_eq!(attempt("198.51.100.1", "z@example.com").await.status(), 400);
    // Another client behind the same proxy is not locked.
    assert_eq!(attempt("198.51.100.2", "z@example.com").await.status(), 401);
}
