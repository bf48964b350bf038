//! Wrong secrets in the integration dialect: counted per consumer key, and answered 429 at the
//! limit.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_fifth_wrong_secret_is_answered_and_the_next_attempt_gets_429() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..5 {
        assert_eq!(app.integration_login(&key, "wrong").await.status(), 400);
    }
    let response = app.integration_login(&key, &secret).await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    assert_body_text(
        response,
        429,
        r#"{"status":429,"title":"Too Many Requests","detail":"Rate limit exceeded","validation":null}"#,
    )
    .await;
}

#[tokio::test]
async fn validation_errors_count_nothing_toward_the_lockout() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..10 {
        assert_eq!(
            app.post_json("/auth", &json!({"consumer_key": key}))
                .await
                .status(),
            400
        );
    }
    assert_eq!(app.integration_login(&key, &secret).await.status(), 200);
}

#[tokio::test]
async fn twenty_concurrent_wrong_secrets_get_five_ordinary_answers_and_fifteen_lockouts() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let attempts = (0..20).map(|_| app.integration_login(&key, "wrong"));
    let responses = futures_util::future::join_all(attempts).await;
    assert_eq!(responses.iter().filter(|r| r.status() == 400).count(), 5);
    assert_eq!(responses.iter().filter(|r| r.status() == 429).count(), 15);
    assert_eq!(app.integration_login(&key, &secret).await.status(), 429);
}

#[tokio::test]
async fn a_success_forgets_earlier_failures_of_the_consumer_key() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..4 {
        assert_eq!(app.integration_login(&key, "wrong").await.status(), 400);
    }
    assert_eq!(app.integration_login(&key, &secret).await.status(), 200);
    for _ in 0..5 {
        assert_eq!(app.integration_login(&key, "wrong").await.status(), 400);
    }
    assert_eq!(app.integration_login(&key, "wrong").await.status(), 429);
}
