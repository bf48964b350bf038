//! The per-user backstop: failures of one user account from any addresses lock it everywhere.

use porteiro::domain::Role;

use super::{assert_locked, behind_proxy, integration_from, login_from, oauth_from};
use crate::helpers::*;

#[tokio::test]
async fn failures_of_one_user_spread_over_many_addresses_lock_the_account_everywhere_at_the_backstop()
 {
    let app = behind_proxy(|s| s.lockout.account_backstop = 4).await;
    for i in 1..=4 {
        let response =
            login_from(&app, &format!("203.0.113.{i}"), app.org, &app.username, "x").await;
        assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
    }
    // Everywhere: at an address that failed, and at one that never did.
    for client in ["203.0.113.1", "198.51.100.99"] {
        assert_locked(
            login_from(&app, client, app.org, &app.username, PASSWORD).await,
            900,
        )
        .await;
    }
    // Another user is not locked.
    app.create_user(app.org, "other@example.com", PASSWORD, Role::Member)
        .await;
    let other = login_from(
        &app,
        "198.51.100.99",
        app.org,
        "other@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(other.status(), 200);
    app.clock.advance(900);
    assert_eq!(
        login_from(&app, "198.51.100.99", app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_success_resets_the_backstop() {
    let app = behind_proxy(|s| s.lockout.account_backstop = 4).await;
    for i in 1..=3 {
        login_from(&app, &format!("203.0.113.{i}"), app.org, &app.username, "x").await;
    }
    let home = "198.51.100.1";
    let response = login_from(&app, home, app.org, &app.username, PASSWORD).await;
    assert_eq!(response.status(), 200);
    for i in 4..=6 {
        let response =
            login_from(&app, &format!("203.0.113.{i}"), app.org, &app.username, "x").await;
        assert_eq!(response.status(), 401);
    }
    let response = login_from(&app, home, app.org, &app.username, PASSWORD).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn with_the_backstop_at_zero_failures_spread_over_addresses_never_lock_the_account() {
    let app = behind_proxy(|s| s.lockout.account_backstop = 0).await;
    for i in 1..=30 {
        let response =
            login_from(&app, &format!("203.0.113.{i}"), app.org, &app.username, "x").await;
        assert_eq!(response.status(), 401, "attempt {i}");
    }
    assert_eq!(
        login_from(&app, "198.51.100.1", app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_backstop_does_not_apply_to_integrations() {
    let app = behind_proxy(|s| s.lockout.account_backstop = 2).await;
    let (key, secret) = app.create_integration(&[]).await;
    for i in 1..=8 {
        let client = format!("203.0.113.{i}");
        assert_eq!(
            integration_from(&app, &client, &key, "wrong")
                .await
                .status(),
            400
        );
        assert_eq!(oauth_from(&app, &client, &key, "wrong").await.status(), 401);
    }
    let client = "198.51.100.1";
    assert_eq!(
        integration_from(&app, client, &key, &secret).await.status(),
        200
    );
    assert_eq!(oauth_from(&app, client, &key, &secret).await.status(), 200);
}

#[tokio::test]
async fn twenty_concurrent_wrong_passwords_from_twenty_addresses_never_get_past_the_backstop() {
    let app = behind_proxy(|s| s.lockout.account_backstop = 5).await;
    let clients: Vec<String> = (1..=20).map(|i| format!("203.0.113.{i}")).collect();
    let attempts = clients
        .iter()
        .map(|client| login_from(&app, client, app.org, &app.username, "wrong"));
    let responses = futures_util::future::join_all(attempts).await;
    let checked = responses.iter().filter(|r| r.status() == 401).count();
    let refused = responses.iter().filter(|r| r.status() == 400).count();
    assert_eq!(checked, 5, "credentials checked");
    assert_eq!(refused, 15);
}
