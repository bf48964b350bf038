//! Login throttling (CONTRACT §5): (account, address) pairs, addresses and the per-user
//! backstop, in every dialect; and the activity log of failures (§9).

use porteiro::domain::Role;
use reqwest::Response;
use serde_json::json;

use crate::helpers::*;

const LOCKED: &str = r#"{"message":"Rate limit exceeded"}"#;
const INTEGRATION_LOCKED: &str = r#"{"status":429,"title":"Too Many Requests","detail":"Rate limit exceeded","validation":null}"#;

fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn assert_locked(response: Response, at_most: u64) {
    let retry = retry_after(&response);
    assert!(retry > 0 && retry <= at_most, "Retry-After {retry}");
    assert_body_text(response, 400, LOCKED).await;
}

/// An app behind a trusted proxy on the loopback, so that each request can name its client in
/// `X-Forwarded-For`.
async fn behind_proxy(configure: impl FnOnce(&mut porteiro::config::Settings)) -> TestApp {
    TestApp::spawn_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        configure(s);
    })
    .await
}

/// A user login from `client`.
async fn login_from(
    app: &TestApp,
    client: &str,
    org: impl std::fmt::Display,
    username: &str,
    password: &str,
) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/auth/token/{org}/")))
        .header("X-Forwarded-For", client)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// `POST /auth` from `client`.
async fn integration_from(app: &TestApp, client: &str, key: &str, secret: &str) -> Response {
    app.client
        .post(app.url("/auth"))
        .header("X-Forwarded-For", client)
        .json(&json!({"consumer_key": key, "secret_key": secret}))
        .send()
        .await
        .unwrap()
}

/// A client-credentials `POST /oauth/token` from `client`.
async fn oauth_from(app: &TestApp, client: &str, key: &str, secret: &str) -> Response {
    app.client
        .post(app.url("/oauth/token"))
        .header("X-Forwarded-For", client)
        .basic_auth(key, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// Every key of the failed-login counters.
async fn counter_keys(app: &TestApp) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&app.settings.database)
        .await
        .unwrap();
    sqlx::query("SELECT key FROM login_attempts")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The organizations of the stored `login_failed` events, in order.
async fn failed_login_events(app: &TestApp) -> Vec<Option<i64>> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&app.settings.database)
        .await
        .unwrap();
    sqlx::query("SELECT org_id FROM audit_events WHERE kind = 'login_failed' ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The value of one line of `/metrics`.
async fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} missing from {text}"))
        .parse()
        .unwrap()
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

#[tokio::test]
async fn a_failed_login_to_an_organization_that_does_not_exist_writes_no_audit_event() {
    let app = TestApp::spawn().await;
    let series = r#"porteiro_unaudited_login_failures_total{principal="user"}"#;
    let before = metric(&app, series).await;

    let nowhere = app.login_as(9_999, &app.username, "wrong").await;
    assert_body_text(nowhere, 401, NO_ACTIVE_ACCOUNT).await;
    let unknown = app.login_as(9_999, "ghost@example.com", "wrong").await;
    assert_body_text(unknown, 401, NO_ACTIVE_ACCOUNT).await;
    assert_eq!(metric(&app, series).await, before + 2);

    // A failure in an existing organization still writes its event; the audit log is written
    // in order, so once it is there, any event of the attempts before it would be too.
    let here = app.login_as(app.org, &app.username, "wrong").await;
    assert_body_text(here, 401, NO_ACTIVE_ACCOUNT).await;
    let mut events = Vec::new();
    for _ in 0..50 {
        events = failed_login_events(&app).await;
        if !events.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events, vec![Some(app.org.get())]);
    assert_eq!(metric(&app, series).await, before + 2);
}

#[tokio::test]
async fn failed_logins_to_an_organization_that_does_not_exist_are_counted_by_the_lockout() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let response = app.login_as(9_999, &app.username, "wrong").await;
        assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
    }
    assert_locked(app.login_as(app.org, &app.username, PASSWORD).await, 900).await;
}

#[tokio::test]
async fn a_failure_with_an_unknown_consumer_key_writes_no_audit_event() {
    let app = TestApp::spawn().await;
    let (key, _) = app.create_integration(&[]).await;
    let series = r#"porteiro_unaudited_login_failures_total{principal="integration"}"#;
    let before = metric(&app, series).await;

    let unknown = "0b6f1c2e-4a4e-4b0e-9d55-2f4f4f1b9a01";
    let response = app.integration_login(unknown, "wrong").await;
    assert_eq!(response.status(), 400);
    assert_eq!(metric(&app, series).await, before + 1);

    // A known key's failure still writes its organization's event, and only it.
    assert_eq!(app.integration_login(&key, "wrong").await.status(), 400);
    let mut events = Vec::new();
    for _ in 0..50 {
        events = failed_login_events(&app).await;
        if !events.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events, vec![Some(app.org.get())]);
}

/// How many `locked_out` events are stored, once a `login_succeeded` event written after them is.
async fn locked_out_events(app: &TestApp) -> i64 {
    use sqlx::{Connection, Row};
    // The log is written in order: wait until an event written after the refusals is there.
    for _ in 0..50 {
        let mut conn = sqlx::AnyConnection::connect(&app.settings.database)
            .await
            .unwrap();
        let row = sqlx::query(
            "SELECT CAST(SUM(CASE WHEN kind = 'locked_out' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN kind = 'login_succeeded' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM audit_events",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        let (locked, succeeded): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        if succeeded.unwrap_or(0) > 0 {
            return locked.unwrap_or(0);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the audit log did not catch up");
}

#[tokio::test]
async fn a_locked_address_hammering_on_writes_one_locked_out_event_not_one_per_attempt() {
    let app = behind_proxy(|_| {}).await;
    for _ in 0..5 {
        login_from(&app, "203.0.113.9", app.org, &app.username, "wrong").await;
    }
    for _ in 0..20 {
        let refused = login_from(&app, "203.0.113.9", app.org, &app.username, "wrong").await;
        assert_locked(refused, 900).await;
    }
    let (key, _) = app.create_integration(&[]).await;
    for _ in 0..5 {
        integration_from(&app, "203.0.113.10", &key, "wrong-secret").await;
    }
    for _ in 0..20 {
        let refused = integration_from(&app, "203.0.113.10", &key, "wrong-secret").await;
        assert_eq!(refused.status(), 429);
    }
    // Another address's success, written after every refusal above.
    let ok = login_from(&app, "198.51.100.1", app.org, &app.username, PASSWORD).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(locked_out_events(&app).await, 2, "one per locked address");
}
