//! A client-credentials token is an access token alone: it leaves no session row behind, yet it
//! ends as every session does — revoked by its client, or with its integration's secret or the
//! integration itself — at once on the instance that ended it and within a second on the
//! others, also on one started afterwards.

use std::time::Duration;

use porteiro::auth::admin::Administration;
use porteiro::domain::ConsumerKey;
use serde_json::json;

use crate::helpers::*;

/// The wait for an end made elsewhere to reach an instance (its poll runs every 500 ms).
const PROPAGATION: Duration = Duration::from_millis(1100);

async fn client_credentials(app: &TestApp, key: &str, secret: &str) -> String {
    let response = app
        .oauth_token((key, secret), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(app: &TestApp, client: (&str, &str), token: &str) -> serde_json::Value {
    let response = app
        .oauth_post("/oauth/introspect", client, &[("token", token)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn client_credentials_tokens_open_no_session_and_a_revoked_one_is_refused_everywhere() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (key, secret) = app.create_integration(&[]).await;
    let revoked = client_credentials(&app, &key, &secret).await;
    let kept = client_credentials(&app, &key, &secret).await;
    let open = app
        .auth
        .store()
        .open_sessions(app.org, app.now())
        .await
        .unwrap();
    assert!(open.is_empty(), "client credentials opened {open:?}");
    assert_eq!(other.me(&revoked).await.status(), 200);

    let response = app
        .oauth_post("/oauth/revoke", (&key, &secret), &[("token", &revoked)])
        .await;
    assert_eq!(response.status(), 200);
    assert_body_text(app.me(&revoked).await, 401, BEARER_NOT_VALID).await;
    assert_eq!(
        introspect(&app, (&key, &secret), &revoked).await,
        json!({"active": false})
    );
    tokio::time::sleep(PROPAGATION).await;
    assert_body_text(other.me(&revoked).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(other.verify(&revoked).await, 401, TOKEN_NOT_VALID).await;
    // Its sibling lives on, and revoking the revoked one again is still a 200.
    assert_eq!(other.me(&kept).await.status(), 200);
    assert_eq!(
        introspect(&other, (&key, &secret), &kept).await["active"],
        true
    );
    let again = other
        .oauth_post("/oauth/revoke", (&key, &secret), &[("token", &revoked)])
        .await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_new_secret_and_then_the_integrations_revocation_refuse_its_client_credentials_tokens() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let (key, old_secret) = app.create_integration(&[]).await;
    let consumer_key = ConsumerKey::parse(&key).unwrap();
    let old = client_credentials(&app, &key, &old_secret).await;
    assert_eq!(other.me(&old).await.status(), 200);

    // Rotated from outside both instances, as `porteiro integration rotate-secret` does.
    let (secret, _) = Administration::operator(app.auth.store())
        .rotate_integration_secret(&consumer_key, app.now())
        .await
        .unwrap();
    let secret = secret.expose().to_owned();
    // A second passes: the instances' records of the integration (kept for a second) are old.
    tokio::time::sleep(PROPAGATION).await;
    app.clock.advance(1);
    for instance in [&app, &other] {
        assert_body_text(instance.me(&old).await, 401, BEARER_NOT_VALID).await;
        assert_eq!(
            introspect(instance, (&key, &secret), &old).await,
            json!({"active": false})
        );
    }
    let new = client_credentials(&other, &key, &secret).await;
    assert_eq!(app.me(&new).await.status(), 200);
    // An instance started afterwards knows of the old secret's end from the database.
    let late = app.another_instance().await;
    assert_body_text(late.me(&old).await, 401, BEARER_NOT_VALID).await;
    assert_eq!(late.me(&new).await.status(), 200);

    Administration::operator(app.auth.store())
        .revoke_integration(&consumer_key, app.now())
        .await
        .unwrap();
    tokio::time::sleep(PROPAGATION).await;
    app.clock.advance(1);
    for instance in [&app, &other, &late] {
        assert_body_text(instance.me(&new).await, 401, BEARER_NOT_VALID).await;
        let refused = instance
            .oauth_token((&key, &secret), &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(refused.status(), 401);
    }
}

/// Each instance reads an integration's record at most a second old, so in the second after a
/// rotation made elsewhere it may still take the old secret. A token it issues then was issued
/// under the old secret, and ends with it: refused within the second like the others.
#[tokio::test]
async fn a_token_issued_under_the_old_secret_just_after_a_rotation_ends_with_it() {
    let app = TestApp::spawn().await;
    let (key, old_secret) = app.create_integration(&[]).await;
    // The second reads the integration's record that the first left (the first records the
    // integration's last use, which makes the instance read it again).
    client_credentials(&app, &key, &old_secret).await;
    client_credentials(&app, &key, &old_secret).await;
    Administration::operator(app.auth.store())
        .rotate_integration_secret(&ConsumerKey::parse(&key).unwrap(), app.now())
        .await
        .unwrap();
    let response = app
        .oauth_token((&key, &old_secret), &[("grant_type", "client_credentials")])
        .await;
    if response.status() == 200 {
        let body: serde_json::Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap();
        tokio::time::sleep(PROPAGATION).await;
        assert_body_text(app.me(token).await, 401, BEARER_NOT_VALID).await;
    } else {
        assert_eq!(response.status(), 401);
    }
    tokio::time::sleep(PROPAGATION).await;
    app.clock.advance(1);
    let refused = app
        .oauth_token((&key, &old_secret), &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(refused.status(), 401);
}
