//! `/api/v1/admin/activity`: the organization's audit log, newest first.

use super::{ADMIN, get, with_admins};
use crate::helpers::*;

#[tokio::test]
async fn activity_records_logins_failures_and_changes_newest_first() {
    let (app, _, admin) = with_admins().await;
    app.login_as(app.org, &app.username, "wrong").await;
    let (key, secret) = app.create_integration(&[]).await;
    app.integration_tokens(&key, &secret).await;
    // The audit writer stores events in the background.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, "/api/v1/admin/activity", &admin).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "login_succeeded",
        "login_failed",
        "integration_created",
        "integration_authenticated",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let ids: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let failed = get(&app, "/api/v1/admin/activity?kind=login_failed", &admin).await;
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] == "login_failed")
    );
    assert_eq!(failed[0]["subject"], app.username.as_str());
    let of_key = get(&app, &format!("/api/v1/admin/activity?who={key}"), &admin).await;
    assert!(!of_key.as_array().unwrap().is_empty());
    assert!(
        of_key
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == key || e["subject"] == key)
    );
}

#[tokio::test]
async fn a_failed_login_of_an_unknown_name_records_no_name() {
    let (app, _, admin) = with_admins().await;
    app.login_as(app.org, "My-Secret-Passw0rd", "whatever")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, "/api/v1/admin/activity?kind=login_failed", &admin).await;
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert!(
        !events
            .to_string()
            .to_lowercase()
            .contains("my-secret-passw0rd")
    );
}

#[tokio::test]
async fn console_sign_ins_appear_in_the_organizations_activity() {
    let (app, owner, _) = with_admins().await;
    let client = "127.0.0.1".parse().unwrap();
    let wrong = app
        .auth
        .console_sign_in(ADMIN, secrecy::SecretString::from("wrong-password"), client)
        .await;
    assert!(wrong.is_err());
    app.auth
        .console_sign_in(ADMIN, secrecy::SecretString::from(PASSWORD), client)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, &format!("/api/v1/admin/activity?who={ADMIN}"), &owner).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"login_failed"), "{kinds:?}");
    assert!(kinds.contains(&"login_succeeded"), "{kinds:?}");
}

/// PostgreSQL refuses text holding a NUL byte; no event holds one, so such a filter finds nothing.
#[tokio::test]
async fn an_activity_filter_holding_a_nul_byte_finds_nothing() {
    let (app, _, admin) = with_admins().await;

    for query in ["who=a%00b", "kind=login%00failed"] {
        let path = format!("/api/v1/admin/activity?{query}");
        let events = get(&app, &path, &admin).await;

        assert_eq!(events, serde_json::json!([]), "{query}");
    }
}
