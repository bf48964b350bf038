//! `POST /auth`: the tokens of an integration, and the one answer every bad request gets.

use porteiro::auth::admin;
use porteiro::domain::ConsumerKey;
use serde_json::{Value, json};

use super::{BAD_CREDENTIALS, epoch_of, is_millis_utc};
use crate::helpers::*;

#[tokio::test]
async fn post_auth_returns_four_fields_with_expirations_equal_to_the_exp_claims() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let response = app.integration_login(&key, &secret).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    assert!(text.starts_with(r#"{"access_token":""#), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "refresh_token",
            "expiration_access_token",
            "expiration_refresh_token"
        ]
    );
    let (access, refresh) = (
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
    );
    let (exp_a, exp_r) = (
        body["expiration_access_token"].as_str().unwrap(),
        body["expiration_refresh_token"].as_str().unwrap(),
    );
    assert!(
        is_millis_utc(exp_a) && is_millis_utc(exp_r),
        "{exp_a} {exp_r}"
    );
    assert_eq!(epoch_of(exp_a), claims(access)["exp"].as_i64().unwrap());
    assert_eq!(epoch_of(exp_r), claims(refresh)["exp"].as_i64().unwrap());
    assert_eq!(epoch_of(exp_r) - app.now(), 48 * 3600);
    let c = claims(access);
    assert_eq!(c["sub"], key);
    assert_eq!(c["client_id"], key);
    assert_eq!(c["id"], key);
    assert_eq!(c["scope"], "read write");
    assert_eq!(c["org_id"], app.org.get());
    assert!(c.get("user_id").is_none());
}

#[tokio::test]
async fn an_integration_without_scopes_has_no_scope_claim() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let body = app.integration_tokens(&key, &secret).await;
    assert!(
        claims(body["access_token"].as_str().unwrap())
            .get("scope")
            .is_none()
    );
}

#[tokio::test]
async fn a_form_body_works_too() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let response = app
        .post_form("/auth", &[("consumer_key", &key), ("secret_key", &secret)])
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_key_and_a_revoked_integration_get_one_answer() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let (revoked, revoked_secret) = app.create_integration(&[]).await;
    admin::Administration::operator(app.auth.store())
        .revoke_integration(&ConsumerKey::parse(&revoked).unwrap(), app.now())
        .await
        .unwrap();
    let unknown = uuid::Uuid::new_v4().to_string();
    for (k, s) in [
        (key.as_str(), "wrong"),
        (unknown.as_str(), secret.as_str()),
        (revoked.as_str(), revoked_secret.as_str()),
    ] {
        assert_body_text(app.integration_login(k, s).await, 400, BAD_CREDENTIALS).await;
    }
}

#[tokio::test]
async fn missing_blank_null_and_malformed_fields_are_listed_in_validation() {
    let app = TestApp::spawn().await;
    let response = app.post_json("/auth", &json!({})).await;
    assert_json(
        response,
        400,
        json!({"status": 400, "title": "Bad Request", "detail": "The request is invalid.", "validation": [
            {"field": "consumer_key", "message": "This field is required."},
            {"field": "secret_key", "message": "This field is required."}
        ]}),
    )
    .await;
    let response = app
        .post_json("/auth", &json!({"consumer_key": "", "secret_key": null}))
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["validation"],
        json!([
            {"field": "consumer_key", "message": "This field may not be blank."},
            {"field": "secret_key", "message": "This field may not be null."}
        ])
    );
    let response = app
        .post_json(
            "/auth",
            &json!({"consumer_key": "not-a-uuid", "secret_key": 42}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["validation"],
        json!([
            {"field": "consumer_key", "message": "Must be a valid UUID."},
            {"field": "secret_key", "message": "Must be a string."}
        ])
    );
}

#[tokio::test]
async fn other_methods_on_auth_are_405_in_the_integration_shape() {
    let app = TestApp::spawn().await;
    let response = app.client.put(app.url("/auth")).send().await.unwrap();
    assert_json(
        response,
        405,
        json!({"status": 405, "title": "Method Not Allowed", "detail": "Method \"PUT\" not allowed.", "validation": null}),
    )
    .await;
}

#[tokio::test]
async fn me_describes_an_integration() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read", "sign"]).await;
    let body = app.integration_tokens(&key, &secret).await;
    let response = app.me(body["access_token"].as_str().unwrap()).await;
    assert_json(
        response,
        200,
        json!({"type": "integration", "consumer_key": key, "name": "Billing", "org_id": app.org.get(), "scope": ["read", "sign"]}),
    )
    .await;
}
