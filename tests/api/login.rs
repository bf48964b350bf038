//! `POST /api/v1/auth/token/{organization_id}/`: a user's login, in the user dialect.

use porteiro::domain::Role;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_returns_refresh_then_access_with_no_store() {
    let app = TestApp::spawn().await;
    let response = app.login_as(app.org, &app.username, PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.unwrap();
    assert!(text.starts_with(r#"{"refresh":""#), "key order: {text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2);
    assert!(text.contains(r#"","access":""#));
}

#[tokio::test]
async fn login_is_served_without_the_trailing_slash_and_with_a_form_body() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}", app.org);
    let response = app
        .post_form(
            &path,
            &[("username", &app.username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["access"].is_string() && body["refresh"].is_string());
}

#[tokio::test]
async fn login_trims_and_lower_cases_the_username_but_not_the_password() {
    let app = TestApp::spawn().await;
    let response = app
        .login_as(app.org, "  DEV@Example.com.BR ", PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    let padded = format!(" {PASSWORD}");
    let response = app.login_as(app.org, &app.username, &padded).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_wrong_password_returns_401_no_active_account() {
    let app = TestApp::spawn().await;
    let response = app.login_as(app.org, &app.username, "wrong-password").await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );
    assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
}

#[tokio::test]
async fn unknown_users_non_members_inactive_users_and_missing_orgs_get_the_same_401() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    app.create_user(other, "stranger@example.com", PASSWORD, Role::Owner)
        .await;
    app.create_user(app.org, "gone@example.com", PASSWORD, Role::Member)
        .await;
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .set_active(
            &porteiro::domain::Username::parse("gone@example.com").unwrap(),
            false,
            app.now(),
        )
        .await
        .unwrap();
    let cases = [
        (app.org.to_string(), "nobody@example.com"),
        (app.org.to_string(), "stranger@example.com"),
        (app.org.to_string(), "gone@example.com"),
        ("999".to_owned(), "dev@example.com.br"),
    ];
    for (org, username) in cases {
        let response = app.login_as(&org, username, PASSWORD).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="api""#
        );
        assert_body_text(response, 401, NO_ACTIVE_ACCOUNT).await;
    }
}

#[tokio::test]
async fn missing_fields_are_each_required_at_once() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let response = app.post_json(&path, &json!({})).await;
    assert_body_text(
        response,
        400,
        r#"{"username":["This field is required."],"password":["This field is required."]}"#,
    )
    .await;
    let response = app
        .post_json(&path, &json!({"username": "dev@example.com.br"}))
        .await;
    assert_json(
        response,
        400,
        json!({"password": ["This field is required."]}),
    )
    .await;
}

#[tokio::test]
async fn blank_whitespace_and_null_fields_have_their_own_messages() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let response = app
        .post_json(&path, &json!({"username": "", "password": "   "}))
        .await;
    assert_json(
        response,
        400,
        json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
    )
    .await;
    let response = app
        .post_json(&path, &json!({"username": null, "password": null}))
        .await;
    assert_json(
        response,
        400,
        json!({"username": ["This field may not be null."], "password": ["This field may not be null."]}),
    )
    .await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_parse_error() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let response = app
        .post_raw(&path, "application/json", "{\"username\": ")
        .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - ")
    );
}

#[tokio::test]
async fn an_unsupported_media_type_is_415() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let response = app.post_raw(&path, "text/plain", "username=a").await;
    assert_json(
        response,
        415,
        json!({"detail": "Unsupported media type \"text/plain\" in request."}),
    )
    .await;
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_405() {
    let app = TestApp::spawn().await;
    let response = app.get(&format!("/api/v1/auth/token/{}/", app.org)).await;
    assert_json(
        response,
        405,
        json!({"detail": "Method \"GET\" not allowed."}),
    )
    .await;
}

#[tokio::test]
async fn an_organization_id_that_is_not_a_positive_63_bit_integer_is_404() {
    let app = TestApp::spawn().await;
    for org in ["0", "-1", "abc", "1.5", "9223372036854775808"] {
        let response = app.login_as(org, &app.username, PASSWORD).await;
        assert_eq!(response.status(), 404, "organization {org}");
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = TestApp::spawn().await;
    let path = format!("/api/v1/auth/token/{}/", app.org);
    let big = json!({"username": "a".repeat(70 * 1024), "password": "x"});
    let response = app.post_json(&path, &big).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_user_in_two_organizations_gets_tokens_for_the_one_asked() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .grant(
            &porteiro::domain::Username::parse(&app.username).unwrap(),
            other,
            Role::Admin,
            app.now(),
        )
        .await
        .unwrap();
    let response = app.login_as(other, &app.username, PASSWORD).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        claims(body["access"].as_str().unwrap())["org_id"],
        other.get()
    );
}
