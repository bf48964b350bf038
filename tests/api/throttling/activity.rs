//! What failed logins and lockouts write to the activity log, and what they do not.

use super::{
    assert_locked, behind_proxy, failed_login_events, integration_from, login_from, metric,
};
use crate::helpers::*;

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
