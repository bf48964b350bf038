//! `GET /auth?refresh_token=` and `POST /auth/refresh`: rotation, reuse and bad tokens.

use serde_json::{Value, json};

use super::{BAD_REFRESH, is_millis_utc};
use crate::helpers::*;

#[tokio::test]
async fn refresh_by_query_and_by_body_rotate_every_time() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let first = app.integration_tokens(&key, &secret).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app.get(&format!("/auth?refresh_token={first}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(claims(&second)["jti"], claims(&first)["jti"]);
    assert!(is_millis_utc(
        body["expiration_refresh_token"].as_str().unwrap()
    ));
    let response = app
        .post_json("/auth/refresh", &json!({"refresh_token": second}))
        .await;
    assert_eq!(response.status(), 200);
    let third: Value = response.json().await.unwrap();
    assert_eq!(
        app.me(third["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_consumed_refresh_token_after_the_grace_window_ends_the_session() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let first = app.integration_tokens(&key, &secret).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second: Value = app
        .post_json("/auth/refresh", &json!({"refresh_token": first}))
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(11);
    assert_body_text(
        app.post_json("/auth/refresh", &json!({"refresh_token": first}))
            .await,
        401,
        BAD_REFRESH,
    )
    .await;
    let next = second["refresh_token"].as_str().unwrap();
    assert_body_text(
        app.post_json("/auth/refresh", &json!({"refresh_token": next}))
            .await,
        401,
        BAD_REFRESH,
    )
    .await;
    assert_eq!(
        app.me(second["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn parallel_refreshes_of_one_integration_token_rotate_it_once() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let first = app.integration_tokens(&key, &secret).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"refresh_token": first});
    let responses =
        futures_util::future::join_all((0..50).map(|_| app.post_json("/auth/refresh", &body)))
            .await;
    let mut jtis = std::collections::HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        jtis.insert(claims(body["refresh_token"].as_str().unwrap())["jti"].clone());
    }
    assert_eq!(jtis.len(), 1);
}

#[tokio::test]
async fn missing_or_blank_refresh_tokens_are_400_and_bad_ones_401() {
    let app = TestApp::spawn().await;
    let (_, user_access) = app.login().await;
    let (user_refresh, _) = app.login().await;
    let response = app.get("/auth").await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["validation"],
        json!([{"field": "refresh_token", "message": "This field is required."}])
    );
    let response = app.get("/auth?refresh_token=%20").await;
    assert_eq!(response.status(), 400);
    let response = app
        .post_json("/auth/refresh", &json!({"refresh_token": ""}))
        .await;
    assert_eq!(response.status(), 400);
    for token in ["garbage", user_refresh.as_str(), user_access.as_str()] {
        let response = app
            .post_json("/auth/refresh", &json!({"refresh_token": token}))
            .await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_body_text(response, 401, BAD_REFRESH).await;
    }
}

#[tokio::test]
async fn the_user_dialect_refuses_integration_refresh_tokens() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let body = app.integration_tokens(&key, &secret).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_body_text(app.refresh(refresh).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.blacklist(refresh).await, 401, TOKEN_NOT_VALID).await;
    assert_json(
        app.verify(body["access_token"].as_str().unwrap()).await,
        200,
        json!({}),
    )
    .await;
}
