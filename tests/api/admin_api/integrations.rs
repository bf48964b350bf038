//! `/api/v1/admin/integrations`: created with their secret shown once, and only within the
//! admin's organization.

use porteiro::domain::Role;
use serde_json::{Value, json};

use super::{call, get, with_admins};
use crate::helpers::*;

#[tokio::test]
async fn an_integration_created_through_the_api_shows_its_secret_once_and_works() {
    let (app, _, admin) = with_admins().await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/integrations",
        &admin,
        Some(json!({"name": "ERP", "scope": ["read"]})),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.unwrap();
    let (key, secret) = (
        created["consumer_key"].as_str().unwrap(),
        created["secret_key"].as_str().unwrap(),
    );
    assert_eq!(created["scope"], json!(["read"]));
    assert_eq!(app.integration_login(key, secret).await.status(), 200);
    let list = get(&app, "/api/v1/admin/integrations", &admin).await;
    assert_eq!(list[0]["consumer_key"], key);
    assert!(list[0].get("secret_key").is_none());
    assert!(!list.to_string().contains(secret));
    assert!(list[0]["last_used"].is_string());

    let path = format!("/api/v1/admin/integrations/{key}/rotate-secret");
    let rotated: Value = call(&app, reqwest::Method::POST, &path, &admin, None)
        .await
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret_key"].as_str().unwrap();
    assert_eq!(app.integration_login(key, secret).await.status(), 400);
    assert_eq!(app.integration_login(key, new_secret).await.status(), 200);

    let path = format!("/api/v1/admin/integrations/{key}");
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        204
    );
    assert_eq!(app.integration_login(key, new_secret).await.status(), 400);
    assert_eq!(
        get(&app, "/api/v1/admin/integrations", &admin).await[0]["status"],
        "revoked"
    );
}

#[tokio::test]
async fn another_organizations_admin_cannot_touch_this_organizations_integrations() {
    let (app, _, _) = with_admins().await;
    let (key, _) = app.create_integration(&[]).await;
    let other = app.create_org("Other").await;
    app.create_user(other, "rival@example.com", PASSWORD, Role::Owner)
        .await;
    let body: Value = app
        .login_as(other, "rival@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let rival = body["access"].as_str().unwrap();
    assert_eq!(
        get(&app, "/api/v1/admin/integrations", rival).await,
        json!([])
    );
    let path = format!("/api/v1/admin/integrations/{key}");
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, rival, None)
            .await
            .status(),
        404
    );
    let path = format!("/api/v1/admin/integrations/{key}/rotate-secret");
    assert_eq!(
        call(&app, reqwest::Method::POST, &path, rival, None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_body_over_64_kib_to_the_admin_api_answers_413_in_its_json_shape() {
    let (app, _, admin) = with_admins().await;
    let name = "a".repeat(70 * 1024);

    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/integrations",
        &admin,
        Some(json!({"name": name})),
    )
    .await;

    assert_json(
        response,
        413,
        json!({"detail": "Request body is larger than 65536 bytes."}),
    )
    .await;
}
