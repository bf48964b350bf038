//! OAuth 2: the token endpoint, introspection, revocation and discovery.

use serde_json::{Value, json};

use crate::helpers::*;

async fn error_of(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string());
}

#[tokio::test]
async fn client_credentials_with_basic_auth_issue_an_access_token_only() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let response = app
        .oauth_token((&key, &secret), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read write");
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["client_id"], key);
    assert_eq!(app.me(access).await.status(), 200);
}

#[tokio::test]
async fn client_credentials_in_the_body_work_too() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let response = app
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &key),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("scope").is_none());
}

#[tokio::test]
async fn a_narrower_scope_can_be_asked_for_and_a_wider_one_cannot() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read", "write"]).await;
    let response = app
        .oauth_token(
            (&key, &secret),
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "read");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["scope"],
        "read"
    );
    let response = app
        .oauth_token(
            (&key, &secret),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await;
    error_of(response, 400, "invalid_scope").await;
    // A scope that is present but blank is refused, never read as "all of them".
    let response = app
        .oauth_token(
            (&key, &secret),
            &[("grant_type", "client_credentials"), ("scope", " ")],
        )
        .await;
    error_of(response, 400, "invalid_scope").await;
}

#[tokio::test]
async fn bad_client_credentials_are_invalid_client_with_a_basic_challenge() {
    let app = TestApp::spawn().await;
    let (key, _) = app.create_integration(&[]).await;
    let response = app
        .oauth_token((&key, "wrong"), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Basic realm="porteiro""#
    );
    error_of(response, 401, "invalid_client").await;
    let response = app
        .post_form("/oauth/token", &[("grant_type", "client_credentials")])
        .await;
    error_of(response, 401, "invalid_client").await;
    let response = app
        .oauth_token(("not-a-uuid", "x"), &[("grant_type", "client_credentials")])
        .await;
    error_of(response, 401, "invalid_client").await;
}

#[tokio::test]
async fn unknown_or_missing_grant_types_and_json_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let response = app
        .oauth_token((&key, &secret), &[("grant_type", "password")])
        .await;
    error_of(response, 400, "unsupported_grant_type").await;
    let response = app.oauth_token((&key, &secret), &[("scope", "x")]).await;
    error_of(response, 400, "invalid_request").await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&key, Some(&secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    error_of(response, 400, "invalid_request").await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&key, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    error_of(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_refresh_token_grant_rotates_a_token_from_post_auth() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read"]).await;
    let tokens = app.integration_tokens(&key, &secret).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let response = app
        .oauth_token(
            (&key, &secret),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let rotated = body["refresh_token"].as_str().unwrap();
    assert_ne!(claims(rotated)["jti"], claims(refresh)["jti"]);
    assert_eq!(body["token_type"], "Bearer");
    let response = app
        .oauth_token((&key, &secret), &[("grant_type", "refresh_token")])
        .await;
    error_of(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_foreign_or_bad_refresh_token_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let (other, other_secret) = app.create_integration(&[]).await;
    let foreign = app.integration_tokens(&other, &other_secret).await;
    let (user_refresh, _) = app.login().await;
    for token in [
        foreign["refresh_token"].as_str().unwrap(),
        user_refresh.as_str(),
        "garbage",
    ] {
        let response = app
            .oauth_token(
                (&key, &secret),
                &[("grant_type", "refresh_token"), ("refresh_token", token)],
            )
            .await;
        error_of(response, 400, "invalid_grant").await;
    }
}

#[tokio::test]
async fn locked_out_clients_get_slow_down_with_retry_after() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..5 {
        let response = app
            .oauth_token((&key, "wrong"), &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(response.status(), 401);
    }
    let response = app
        .oauth_token((&key, &secret), &[("grant_type", "client_credentials")])
        .await;
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_json(
        response,
        429,
        json!({"error": "slow_down", "error_description": "Rate limit exceeded"}),
    )
    .await;
    // Introspection authenticates the client too, and honours the same lock.
    let response = app
        .oauth_post("/oauth/introspect", (&key, &secret), &[("token", "x")])
        .await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn introspection_describes_active_tokens_of_the_clients_organization() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&["read"]).await;
    let tokens = app.integration_tokens(&key, &secret).await;
    let access = tokens["access_token"].as_str().unwrap();
    let response = app
        .oauth_post("/oauth/introspect", (&key, &secret), &[("token", access)])
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let c = claims(access);
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "read");
    assert_eq!(body["client_id"], key);
    assert_eq!(body["token_type"], "Bearer");
    for field in ["exp", "iat", "sub", "iss", "jti", "org_id"] {
        assert_eq!(body[field], c[field], "{field}");
    }
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let body: Value = app
        .oauth_post("/oauth/introspect", (&key, &secret), &[("token", refresh)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["token_type"], "refresh_token");
    let (_, user_access) = app.login().await;
    let body: Value = app
        .oauth_post(
            "/oauth/introspect",
            (&key, &secret),
            &[("token", &user_access)],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["username"], "dev@example.com.br");
    assert_eq!(body["user_id"], claims(&user_access)["user_id"]);
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn introspection_is_inactive_for_other_organizations_expired_and_ended_tokens() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let other_org = app.create_org("Other").await;
    let (record, other_secret) = porteiro::auth::admin::Administration::operator(app.auth.store())
        .create_integration(
            other_org,
            "Foreign",
            &porteiro::domain::Scopes::default(),
            app.now(),
        )
        .await
        .unwrap();
    let foreign = app
        .integration_tokens(&record.consumer_key, other_secret.expose())
        .await;
    let mine = app.integration_tokens(&key, &secret).await;
    let inactive = json!({"active": false});
    for token in [foreign["access_token"].as_str().unwrap(), "garbage"] {
        let response = app
            .oauth_post("/oauth/introspect", (&key, &secret), &[("token", token)])
            .await;
        assert_json(response, 200, inactive.clone()).await;
    }
    // A consumed refresh token is no longer active.
    let old_refresh = mine["refresh_token"].as_str().unwrap();
    app.post_json("/auth/refresh", &json!({"refresh_token": old_refresh}))
        .await;
    let response = app
        .oauth_post(
            "/oauth/introspect",
            (&key, &secret),
            &[("token", old_refresh)],
        )
        .await;
    assert_json(response, 200, inactive.clone()).await;
    app.clock.advance(3600);
    let response = app
        .oauth_post(
            "/oauth/introspect",
            (&key, &secret),
            &[("token", mine["access_token"].as_str().unwrap())],
        )
        .await;
    assert_json(response, 200, inactive).await;
    let response = app
        .oauth_post("/oauth/introspect", (&key, &secret), &[])
        .await;
    error_of(response, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_client_revokes_its_own_tokens_and_nothing_else() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.create_integration(&[]).await;
    let (other, other_secret) = app.create_integration(&[]).await;
    let mine = app.integration_tokens(&key, &secret).await;
    let theirs = app.integration_tokens(&other, &other_secret).await;
    let (_, user_access) = app.login().await;
    for token in [
        theirs["access_token"].as_str().unwrap(),
        user_access.as_str(),
        "garbage",
    ] {
        let response = app
            .oauth_post("/oauth/revoke", (&key, &secret), &[("token", token)])
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        app.me(theirs["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(app.me(&user_access).await.status(), 200);
    let response = app
        .oauth_post(
            "/oauth/revoke",
            (&key, &secret),
            &[("token", mine["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.me(mine["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
    let response = app
        .oauth_post("/oauth/revoke", (&key, "wrong"), &[("token", "x")])
        .await;
    error_of(response, 401, "invalid_client").await;
}

#[tokio::test]
async fn discovery_lists_every_endpoint_under_the_issuer() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    let issuer = app.address.clone();
    assert_eq!(body["issuer"], issuer);
    assert_eq!(body["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(body["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        body["introspection_endpoint"],
        format!("{issuer}/oauth/introspect")
    );
    assert_eq!(
        body["revocation_endpoint"],
        format!("{issuer}/oauth/revoke")
    );
    assert_eq!(
        body["grant_types_supported"],
        json!(["client_credentials", "refresh_token"])
    );
    assert_eq!(
        body["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(body["response_types_supported"], json!([]));
}
