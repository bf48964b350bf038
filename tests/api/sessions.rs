//! Sessions end when their user is disabled, changes password or leaves the organization, and
//! Porteiro's own checks (`/api/v1/me`, token-verify, introspection) refuse their tokens at once.

use porteiro::auth::admin;
use porteiro::domain::Username;

use crate::helpers::*;

fn dev() -> Username {
    Username::parse("dev@example.com.br").unwrap()
}

/// Asserts every check refuses the session's tokens.
async fn assert_session_ended(app: &TestApp, refresh: &str, access: &str) {
    assert_body_text(app.me(access).await, 401, BEARER_NOT_VALID).await;
    assert_body_text(app.verify(access).await, 401, TOKEN_NOT_VALID).await;
    assert_body_text(app.refresh(refresh).await, 401, TOKEN_NOT_VALID).await;
}

/// Lets the instance's poller pick up a session ended in the database by someone else.
async fn wait_for_poll() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_within_a_second() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    admin::Administration::operator(app.auth.store())
        .set_active(&dev(), false, app.now())
        .await
        .unwrap();
    wait_for_poll().await;
    assert_session_ended(&app, &refresh, &access).await;
    assert_body_text(
        app.login_as(app.org, &app.username, PASSWORD).await,
        401,
        NO_ACTIVE_ACCOUNT,
    )
    .await;
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_the_new_password_works() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    let hash = porteiro::auth::hashing::hash_password(
        &secrecy::SecretString::from("NewPassword456"),
        app.settings.argon2,
    )
    .unwrap();
    admin::Administration::operator(app.auth.store())
        .set_password(&dev(), &hash, app.now())
        .await
        .unwrap();
    wait_for_poll().await;
    assert_session_ended(&app, &refresh, &access).await;
    assert_eq!(
        app.login_as(app.org, &app.username, "NewPassword456")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn an_operators_grant_with_a_new_password_ends_every_session_with_the_membership_added() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    let (refresh, access) = app.login().await;
    let console_token = console_session_of(&app).await;
    let hash = porteiro::auth::hashing::hash_password(
        &secrecy::SecretString::from("NewPassword456"),
        app.settings.argon2,
    )
    .unwrap();

    let granted = admin::Administration::operator(app.auth.store())
        .grant_by_operator(
            &dev(),
            other,
            porteiro::domain::Role::Admin,
            admin::PasswordChoice::Reset { hash: &hash },
            app.now(),
        )
        .await
        .unwrap();

    assert!(granted.password_reset && !granted.was_member);
    assert_eq!(
        (granted.member.org_id, granted.member.role.as_str()),
        (other.get(), "admin")
    );
    wait_for_poll().await;
    assert_session_ended(&app, &refresh, &access).await;
    assert!(
        app.auth
            .console_user(&console_token)
            .await
            .unwrap()
            .is_none()
    );
    for org in [app.org, other] {
        let old = app.login_as(org, &app.username, PASSWORD).await;
        assert_eq!(old.status(), 401, "organization {org}");
        let new = app.login_as(org, &app.username, "NewPassword456").await;
        assert_eq!(new.status(), 200, "organization {org}");
    }
}

#[tokio::test]
async fn an_operators_grant_without_a_password_choice_changes_nothing() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    let (refresh, _) = app.login().await;

    let refused = admin::Administration::operator(app.auth.store())
        .grant_by_operator(
            &dev(),
            other,
            porteiro::domain::Role::Admin,
            admin::PasswordChoice::Undecided,
            app.now(),
        )
        .await;

    assert!(
        matches!(refused, Err(admin::AdminError::PasswordChoiceNeeded { .. })),
        "{refused:?}"
    );
    let members = admin::Administration::operator(app.auth.store())
        .list_members(other)
        .await
        .unwrap();
    assert!(members.is_empty(), "{members:?}");
    assert_eq!(app.refresh(&refresh).await.status(), 200);
}

/// A console session of the default member, made an admin for it: its cookie token.
async fn console_session_of(app: &TestApp) -> String {
    use porteiro::tokens::claims::{jti_digest, random_id};
    admin::Administration::operator(app.auth.store())
        .grant(&dev(), app.org, porteiro::domain::Role::Admin, app.now())
        .await
        .unwrap();
    let login = app
        .auth
        .store()
        .find_login(&dev(), None)
        .await
        .unwrap()
        .unwrap();
    let token = random_id();
    let opened = app
        .auth
        .store()
        .insert_console_session(
            &jti_digest(&token),
            login.user_id,
            app.org,
            &random_id(),
            &login.password_hash,
            app.now(),
        )
        .await
        .unwrap();
    assert!(opened);
    token
}

#[tokio::test]
async fn leaving_the_organization_ends_the_sessions_there_only() {
    let app = TestApp::spawn().await;
    let other = app.create_org("Other").await;
    admin::Administration::operator(app.auth.store())
        .grant(&dev(), other, porteiro::domain::Role::Member, app.now())
        .await
        .unwrap();
    let (refresh, access) = app.login().await;
    let elsewhere = app.login_as(other, &app.username, PASSWORD).await;
    let elsewhere: serde_json::Value = elsewhere.json().await.unwrap();
    admin::Administration::operator(app.auth.store())
        .revoke(&dev(), app.org, app.now())
        .await
        .unwrap();
    wait_for_poll().await;
    assert_session_ended(&app, &refresh, &access).await;
    assert_eq!(
        app.me(elsewhere["access"].as_str().unwrap()).await.status(),
        200
    );
}

#[tokio::test]
async fn logout_is_refused_at_once_on_the_instance_that_ended_it() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    assert_eq!(app.blacklist(&refresh).await.status(), 200);
    // No waiting: the instance that ended the session knows at once.
    assert_body_text(app.me(&access).await, 401, BEARER_NOT_VALID).await;
}

#[tokio::test]
async fn other_sessions_of_the_same_user_survive_a_logout() {
    let app = TestApp::spawn().await;
    let (first_refresh, _) = app.login().await;
    let (_, second_access) = app.login().await;
    assert_eq!(app.blacklist(&first_refresh).await.status(), 200);
    assert_eq!(app.me(&second_access).await.status(), 200);
}

#[tokio::test]
async fn an_end_written_by_a_machine_whose_clock_is_behind_is_still_seen_within_a_second() {
    let app = TestApp::spawn().await;
    let (refresh, access) = app.login().await;
    assert_eq!(app.me(&access).await.status(), 200);
    // Let the server poll a few times, so that its polls have moved past the skewed time below.
    wait_for_poll().await;
    // Another writer (the command line on another host, say) whose clock is ten minutes behind
    // ends the session straight in the database: this server learns of it only by polling.
    let sid = claims(&access)["sid"].as_str().unwrap().to_owned();
    let ended = app
        .auth
        .store()
        .end_session(
            &sid,
            app.now() - 600,
            porteiro::store::EndReason::EndedByAdmin,
        )
        .await
        .unwrap();
    assert!(ended);
    wait_for_poll().await;
    assert_session_ended(&app, &refresh, &access).await;
}
