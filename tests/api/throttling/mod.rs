//! Login throttling, as the API's contract sets it: (account, address) pairs, addresses and the
//! per-user backstop, in every dialect; and the activity log of failures.

mod activity;
mod addresses;
mod backstop;
mod pairs;

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
