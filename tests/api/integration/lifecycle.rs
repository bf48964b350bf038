//! What revoking an integration or rotating its secret does to its tokens; and its secret at
//! rest.

use porteiro::auth::admin;
use porteiro::domain::ConsumerKey;
use serde_json::json;

use super::{BAD_CREDENTIALS, BAD_REFRESH};
use crate::helpers::*;

#[tokio::test]
async fn revoking_an_integration_refuses_its_tokens_at_once_everywhere() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let body = app.integration_tokens(&key, &secret).await;
    let access = body["access_token"].as_str().unwrap();
    admin::Administration::operator(app.auth.store())
        .revoke_integration(&ConsumerKey::parse(&key).unwrap(), app.now())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_body_text(app.me(access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(app.verify(access).await, 401, TOKEN_NOT_VALID).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_body_text(
        app.post_json("/auth/refresh", &json!({"refresh_token": refresh}))
            .await,
        401,
        BAD_REFRESH,
    )
    .await;
    assert_body_text(
        app.integration_login(&key, &secret).await,
        400,
        BAD_CREDENTIALS,
    )
    .await;
}

#[tokio::test]
async fn rotating_the_secret_ends_sessions_and_only_the_new_secret_works() {
    let app = TestApp::spawn().await;
    let (key, old_secret) = app.create_integration(&[]).await;
    let body = app.integration_tokens(&key, &old_secret).await;
    let (secret, _) = admin::Administration::operator(app.auth.store())
        .rotate_integration_secret(&ConsumerKey::parse(&key).unwrap(), app.now())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        app.me(body["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    assert_eq!(app.integration_login(&key, &old_secret).await.status(), 400);
    assert_eq!(
        app.integration_login(&key, secret.expose()).await.status(),
        200
    );
}

#[tokio::test]
async fn the_database_never_holds_a_secret_key() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    app.integration_tokens(&key, &secret).await;
    app.integration_login(&key, "a-wrong-secret-that-is-long-enough")
        .await;
    if let Some(rows) = app.all_rows_as_text().await {
        assert!(
            !rows.iter().any(|r| r.contains(&secret)),
            "the secret key is in the database"
        );
        return;
    }
    for entry in std::fs::read_dir(app.database_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the secret key is in the database files");
    }
}
