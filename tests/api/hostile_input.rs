//! Hostile input never yields a 5xx or stops the server.

use serde_json::json;

use crate::helpers::*;

async fn assert_client_error(response: reqwest::Response) {
    let status = response.status().as_u16();
    assert!((400..500).contains(&status), "status {status}");
}

#[tokio::test]
async fn malformed_and_deeply_nested_json_is_a_client_error() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        "{{\"username\": {}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    for body in [
        deep,
        deep_object,
        "{\"username\": \"a\",}".into(),
        "nul\0l".into(),
        "".into(),
        "[]".into(),
        "42".into(),
    ] {
        assert_client_error(app.post_raw(&path, "application/json", body).await).await;
    }
    for path in [
        "/api/v1/auth/token-refresh/",
        "/api/v1/auth/token-verify/",
        "/api/v1/auth/token-blacklist/",
    ] {
        assert_client_error(app.post_raw(path, "application/json", "{{{{").await).await;
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn invalid_utf8_is_a_client_error_in_json_and_harmless_in_forms() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let json_body = b"{\"username\": \"\xff\xfe\", \"password\": \"x\"}".to_vec();
    assert_client_error(app.post_raw(&path, "application/json", json_body).await).await;
    let form_body = b"username=%ff%fe&password=%00".to_vec();
    let response = app
        .post_raw(&path, "application/x-www-form-urlencoded", form_body)
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn nul_bytes_and_huge_strings_in_credentials_are_just_wrong_credentials() {
    let app = TestApp::spawn().await;
    let cases = [
        ("dev\u{0}@example.com.br", PASSWORD.to_owned()),
        ("dev@example.com.br", format!("{PASSWORD}\u{0}")),
        (&*"x".repeat(60_000), "y".into()),
        ("dev@example.com.br", "p".repeat(60_000)),
    ];
    for (username, password) in cases {
        assert_body_text(
            app.login_as(app.org, username, &password).await,
            401,
            NO_ACTIVE_ACCOUNT,
        )
        .await;
    }
}

#[tokio::test]
async fn odd_field_types_are_validation_errors() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let response = app
        .post_json(&path, &json!({"username": ["a"], "password": {"b": 1}}))
        .await;
    assert_json(
        response,
        400,
        json!({"username": ["Not a valid string."], "password": ["Not a valid string."]}),
    )
    .await;
    let response = app
        .post_json("/api/v1/auth/token-refresh/", &json!({"refresh": 12345}))
        .await;
    assert_body_text(response, 401, TOKEN_NOT_VALID).await;
}

#[tokio::test]
async fn hostile_tokens_are_refused_without_a_server_error() {
    let app = TestApp::spawn().await;
    let huge = "a".repeat(60_000);
    for token in [
        "..",
        "a.b",
        "....",
        "eyJ.eyJ.x",
        "e30.e30.",
        huge.as_str(),
        "é.é.é",
    ] {
        assert_body_text(app.verify(token).await, 401, TOKEN_NOT_VALID).await;
        assert_eq!(app.me(token).await.status(), 401);
    }
}

#[tokio::test]
async fn unknown_paths_are_404_in_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/nope").await;
    assert_json(response, 404, json!({"detail": "Not found."})).await;
}
