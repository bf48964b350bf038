//! Who gets an answer from the admin API at all, and what a bad request gets.

use serde_json::{Value, json};

use super::{call, with_admins};
use crate::helpers::*;

#[tokio::test]
async fn a_member_an_integration_and_no_token_get_nothing() {
    let (app, _, _) = with_admins().await;
    let (_, member) = app.login().await;
    let response = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/admin/integrations",
        &member,
        None,
    )
    .await;
    assert_json(
        response,
        403,
        json!({"detail": "You do not have permission to perform this action."}),
    )
    .await;
    let (key, secret) = app.create_integration(&[]).await;
    let machine = app.integration_tokens(&key, &secret).await;
    let response = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/admin/users",
        machine["access_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = app.get("/api/v1/admin/users").await;
    assert_json(
        response,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

#[tokio::test]
async fn bad_bodies_and_ids_get_json_errors_after_authentication() {
    let (app, owner, _) = with_admins().await;
    let response = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "no token: 401 before the body is read"
    );
    let response = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&owner)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body")
    );
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/admin/users/abc",
        &owner,
        None,
    )
    .await;
    assert_json(response, 404, json!({"detail": "there is no user abc"})).await;
}
