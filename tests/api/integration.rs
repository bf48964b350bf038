//! The integration dialect: `POST /auth`, `GET /auth?refresh_token=`, `POST /auth/refresh`
//! (CONTRACT §3), and what revoking or rotating an integration does to its tokens.

use porteiro::auth::admin;
use porteiro::domain::ConsumerKey;
use serde_json::{Value, json};

use crate::helpers::*;

const BAD_CREDENTIALS: &str = r#"{"status":400,"title":"Bad Request","detail":"Invalid consumer key or secret key.","validation":null}"#;
const BAD_REFRESH: &str = r#"{"status":401,"title":"Unauthorized","detail":"Invalid or expired refresh token.","validation":null}"#;

fn is_millis_utc(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && s.ends_with('Z')
}

fn epoch_of(s: &str) -> i64 {
    humantime::parse_rfc3339(s)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

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
