//! Integrations: a secret shown once and working; rotation; revocation; no reach into another
//! organization's integrations.

use porteiro::domain::Role;

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn a_new_integration_shows_its_secret_once_and_the_secret_works() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let created = browser
        .post(
            "/console/integrations",
            &[
                ("name", "ERP sync"),
                ("scopes", "documents:read  documents:sign"),
            ],
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.headers["cache-control"], "no-store");
    assert!(created.has("will not be shown again"));
    let secret = created.input("secret-value");
    let key = consumer_key(&created);

    let list = browser.get("/console/integrations").await;
    assert!(list.has(&key) && list.has("ERP sync") && list.has("documents:sign"));
    assert!(!list.has(&secret), "the list never shows the secret");
    for path in [
        format!("/console/integrations/{key}/rotate"),
        "/console/activity".to_owned(),
    ] {
        assert!(!browser.get(&path).await.has(&secret));
    }
    let tokens = app.integration_tokens(&key, &secret).await;
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn rotating_a_secret_shows_the_new_one_once_and_the_old_one_stops_working() {
    let app = app().await;
    let (key, old) = app.create_integration(&["documents:read"]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser
        .get(&format!("/console/integrations/{key}/rotate"))
        .await;
    assert!(confirm.has("Rotate this integration"));
    let rotated = browser
        .post(&format!("/console/integrations/{key}/rotate"), &[])
        .await;
    assert_eq!(rotated.status, 200);
    assert_eq!(rotated.headers["cache-control"], "no-store");
    let new = rotated.input("secret-value");

    assert_ne!(new, old);
    assert_eq!(app.integration_login(&key, &old).await.status(), 400);
    app.integration_tokens(&key, &new).await;
    assert!(!browser.get("/console/integrations").await.has(&new));
}

#[tokio::test]
async fn revoking_after_the_confirmation_step_stops_the_integration() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser
        .get(&format!("/console/integrations/{key}/revoke"))
        .await;
    assert!(confirm.has("Revoke this integration?"));
    assert_eq!(
        app.integration_login(&key, &secret).await.status(),
        200,
        "not yet"
    );
    let page = browser
        .post(&format!("/console/integrations/{key}/revoke"), &[])
        .await;
    assert_eq!(page.location(), "/console/integrations?done=revoked");
    let list = browser.follow(&page).await;
    assert!(list.has("The integration was revoked.") && list.has("badge-off"));
    assert_eq!(app.integration_login(&key, &secret).await.status(), 400);
}

#[tokio::test]
async fn another_organizations_admin_can_neither_see_nor_touch_this_organizations_integrations() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let other = app.create_org("Globex").await;
    app.create_user(other, "intruder@globex.com", PASSWORD, Role::Admin)
        .await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in("intruder@globex.com").await;
    assert!(settings.has("Globex"));

    assert!(!browser.get("/console/integrations").await.has(&key));
    for action in ["rotate", "revoke"] {
        let path = format!("/console/integrations/{key}/{action}");
        assert_eq!(browser.get(&path).await.status, 404, "{path}");
        let page = browser.post(&path, &[]).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.has(&key) || page.has("no such integration"));
    }
    app.integration_tokens(&key, &secret).await;
}
