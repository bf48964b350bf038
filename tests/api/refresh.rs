//! token-refresh, token-verify and token-blacklist of the user dialect, and refresh rotation.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

async fn access_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

#[tokio::test]
async fn refresh_returns_only_a_new_access_token_by_default() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    let body = access_of(app.refresh(&refresh).await).await;
    assert_eq!(body.as_object().unwrap().len(), 1);
    let new_access = body["access"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(claims(new_access)["sid"], claims(&access)["sid"]);
    assert_eq!(app.me(new_access).await.status(), 200);
    // Without rotation the same refresh token keeps working until it expires.
    assert_eq!(app.refresh(&refresh).await.status(), 200);
}

#[tokio::test]
async fn the_refresh_expiry_is_fixed_at_login_when_rotation_is_off() {
    let app = TestApp::spawn().await;
    let (refresh, _) = app.login().await;
    let exp = claims(&refresh)["exp"].as_i64().unwrap();
    assert_eq!(exp - claims(&refresh)["iat"].as_i64().unwrap(), 86400);
    app.clock.advance(86400);
    assert_body_text(app.refresh(&refresh).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn refresh_refuses_access_tokens_garbage_and_missing_fields() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    for token in [access.as_str(), "not-a-token"] {
        let response = app.refresh(token).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_body_text(response, 401, TOKEN_NOT_VALID).await;
    }
    let response = app
        .post_json("/api/v1/auth/token-refresh/", &json!({}))
        .await;
    assert_json(
        response,
        400,
        json!({"refresh": ["This field is required."]}),
    )
    .await;
    let response = app
        .post_json("/api/v1/auth/token-refresh", &json!({"refresh": " "}))
        .await;
    assert_json(
        response,
        400,
        json!({"refresh": ["This field may not be blank."]}),
    )
    .await;
    let response = app
        .post_json("/api/v1/auth/token-refresh", &json!({"refresh": null}))
        .await;
    assert_json(
        response,
        400,
        json!({"refresh": ["This field may not be null."]}),
    )
    .await;
}

#[tokio::test]
async fn verify_accepts_live_tokens_and_refuses_others() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    assert_json(app.verify(&access).await, 200, json!({})).await;
    assert_json(app.verify(&refresh).await, 200, json!({})).await;
    assert_body_text(app.verify("x.y.z").await, 401, TOKEN_NOT_VALID).await;
    let response = app.post_json("/api/v1/auth/token-verify", &json!({})).await;
    assert_json(response, 400, json!({"token": ["This field is required."]})).await;
    app.clock.advance(3600);
    assert_body_text(app.verify(&access).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn blacklist_ends_the_session_for_every_token_of_it() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    assert_json(app.blacklist(&refresh).await, 200, json!({})).await;
    assert_body_text(app.refresh(&refresh).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.verify(&access).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(app.blacklist(&refresh).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn blacklist_refuses_an_access_token_and_requires_its_field() {
    let app = TestApp::spawn().await;
    let (_, access) = app.login().await;
    assert_body_text(app.blacklist(&access).await, 401, TOKEN_NOT_VALID).await;
    let response = app
        .post_json("/api/v1/auth/token-blacklist/", &json!({}))
        .await;
    assert_json(
        response,
        400,
        json!({"refresh": ["This field is required."]}),
    )
    .await;
    assert_eq!(app.me(&access).await.status(), 200);
}

#[tokio::test]
async fn with_rotation_a_refresh_token_is_replaced_and_the_new_one_works() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    let body = access_of(app.refresh(&first).await).await;
    let text = serde_json::to_string(&body).unwrap();
    assert!(text.starts_with(r#"{"access":"#), "key order: {text}");
    let second = body["refresh"].as_str().unwrap().to_owned();
    assert_ne!(claims(&second)["jti"], claims(&first)["jti"]);
    assert_eq!(claims(&second)["sid"], claims(&first)["sid"]);
    let third = access_of(app.refresh(&second).await).await;
    assert!(third["refresh"].is_string());
}

#[tokio::test]
async fn a_retry_inside_the_grace_window_gets_the_same_newest_refresh_token() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    let second = access_of(app.refresh(&first).await).await["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(5);
    let retry = access_of(app.refresh(&first).await).await;
    let again = retry["refresh"].as_str().unwrap();
    assert_eq!(claims(again)["jti"], claims(&second)["jti"]);
    assert_eq!(claims(again)["exp"], claims(&second)["exp"]);
    assert_eq!(
        app.me(retry["access"].as_str().unwrap()).await.status(),
        200
    );
    // The session lives on: the newest token still rotates.
    assert_eq!(app.refresh(&second).await.status(), 200);
}

#[tokio::test]
async fn reuse_after_the_grace_window_ends_the_session_for_everyone() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    let body = access_of(app.refresh(&first).await).await;
    let (second, access) = (
        body["refresh"].as_str().unwrap(),
        body["access"].as_str().unwrap(),
    );
    app.clock.advance(11);
    assert_body_text(app.refresh(&first).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(second).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.me(access).await, 401, BEARER_NOT_VALID).await;
}

#[tokio::test]
async fn a_token_older_than_the_immediate_predecessor_is_reuse_even_inside_the_grace_window() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    let second = access_of(app.refresh(&first).await).await["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = access_of(app.refresh(&second).await).await["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_body_text(app.refresh(&first).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(&third).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn a_hundred_concurrent_refreshes_of_one_token_rotate_it_exactly_once() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    let requests = (0..100).map(|_| app.refresh(&first));
    let responses = futures_util::future::join_all(requests).await;
    let mut jtis = HashSet::new();
    for response in responses {
        let body = access_of(response).await;
        jtis.insert(claims(body["refresh"].as_str().unwrap())["jti"].clone());
    }
    // One rotation: every request got the one successor (the others as grace-window retries).
    assert_eq!(jtis.len(), 1);
}

#[tokio::test]
async fn rotated_refresh_tokens_get_a_fresh_lifetime() {
    let app = TestApp::spawn_with(|s| s.rotate_refresh_tokens = true).await;
    let (first, _) = app.login().await;
    app.clock.advance(600);
    let second = access_of(app.refresh(&first).await).await["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&second)["exp"].as_i64().unwrap(), app.now() + 86400);
}

/// Rotation on, with the given grace window for retries.
async fn rotating_with_grace(grace: &str) -> TestApp {
    let grace = humantime::parse_duration(grace).unwrap();
    TestApp::spawn_with(move |s| {
        s.rotate_refresh_tokens = true;
        s.refresh_reuse_grace = grace;
    })
    .await
}

#[tokio::test]
async fn with_a_grace_of_zero_a_consumed_token_presented_again_at_once_is_reuse() {
    let app = rotating_with_grace("0s").await;
    let (first, _) = app.login().await;
    let body = access_of(app.refresh(&first).await).await;
    let second = body["refresh"].as_str().unwrap();
    // The clock has not moved: the same millisecond as the rotation.
    assert_body_text(app.refresh(&first).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(second).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(
        app.me(body["access"].as_str().unwrap()).await,
        401,
        BEARER_NOT_VALID,
    )
    .await;
}

#[tokio::test]
async fn with_a_grace_of_zero_one_of_two_hundred_concurrent_presentations_wins_and_the_session_ends()
 {
    let app = rotating_with_grace("0s").await;
    let (first, _) = app.login().await;
    let requests = (0..200).map(|_| app.refresh(&first));
    let responses = futures_util::future::join_all(requests).await;
    let mut winners = Vec::new();
    for response in responses {
        match response.status().as_u16() {
            200 => winners.push(response.json::<Value>().await.unwrap()),
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one presentation rotates");
    // The others were reuse: the session ended, the winner's successor with it.
    let successor = winners[0]["refresh"].as_str().unwrap();
    assert_body_text(app.refresh(successor).await, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn the_grace_window_is_measured_to_the_millisecond() {
    let app = rotating_with_grace("2s").await;
    let (first, _) = app.login().await;
    let second = access_of(app.refresh(&first).await).await["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance_millis(1_999);
    let retry = access_of(app.refresh(&first).await).await;
    assert_eq!(
        claims(retry["refresh"].as_str().unwrap())["jti"],
        claims(&second)["jti"]
    );
    // 2,001 ms after the rotation: no longer a retry, whatever the whole seconds say.
    app.clock.advance_millis(2);
    assert_body_text(app.refresh(&first).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(&second).await, 401, TOKEN_NOT_VALID).await;
}
