//! `GET /api/v1/me`: who a valid access token belongs to.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn me_with_a_valid_access_token_describes_the_user() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let response = app.me(&access).await;
    let user_id = claims(&access)["user_id"].clone();
    assert_json(
        response,
        200,
        json!({"type": "user", "user_id": user_id, "username": "dev@example.com.br", "org_id": app.org.get(), "role": "member"}),
    )
    .await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let response = app.me_with(Some(&format!("bearer {access}"))).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn no_authorization_header_or_another_scheme_is_not_provided() {
    let app = TestApp::spawn().await;
    for header in [None, Some("Basic dXNlcjpwYXNz"), Some("Token abc")] {
        let response = app.me_with(header).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_json(
            response,
            401,
            json!({"detail": "Authentication credentials were not provided."}),
        )
        .await;
    }
}

#[tokio::test]
async fn bearer_alone_or_with_two_values_is_a_bad_authorization_header() {
    let app = TestApp::spawn().await;
    for header in ["Bearer", "Bearer a b"] {
        let response = app.me_with(Some(header)).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_json(
            response,
            401,
            json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"}),
        )
        .await;
    }
}

#[tokio::test]
async fn a_refresh_token_garbage_or_an_expired_token_is_not_valid() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    for token in [refresh.as_str(), "garbage", "a.b.c"] {
        let response = app.me(token).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_body_text(response, 401, BEARER_NOT_VALID).await;
    }
    app.clock.advance(3600);
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
}

#[tokio::test]
async fn me_is_served_with_a_trailing_slash_and_refuses_post() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    let response = app
        .client
        .get(app.url("/api/v1/me/"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app.client.post(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn an_integration_token_shows_the_scopes_it_carries_not_all_of_the_integrations() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let narrow = app
        .oauth_token(
            (&key, &secret),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    assert_eq!(narrow.status(), 200);
    let narrow: serde_json::Value = narrow.json().await.unwrap();
    let body: serde_json::Value = app
        .me(narrow["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scope"], json!(["read"]));
    // A token of the same integration that carries every scope shows them all.
    let full = app.integration_tokens(&key, &secret).await;
    let body: serde_json::Value = app
        .me(full["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["type"], "integration");
    assert_eq!(body["scope"], json!(["read", "write"]));
}
