//! The signed-in session: CSRF on every form, redirects without a session, the idle timeout,
//! signing out, switching organization, losing the role meanwhile.

use porteiro::domain::Role;

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;

    let wrong = "0".repeat(32);
    let actions: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/console/settings".into(), vec![("name", "Changed")]),
        ("/console/integrations".into(), vec![("name", "Sneaky")]),
        (format!("/console/integrations/{key}/revoke"), vec![]),
        (format!("/console/integrations/{key}/rotate"), vec![]),
        ("/console/users".into(), vec![("username", "x@example.com")]),
        (
            format!("/console/users/{id}/active"),
            vec![("active", "false")],
        ),
        (format!("/console/users/{id}/remove"), vec![]),
        ("/console/sign-out".into(), vec![]),
    ];
    for (path, form) in &actions {
        let missing = browser.post_raw(path, form).await;
        let mut with_wrong = vec![("csrf", wrong.as_str())];
        with_wrong.extend_from_slice(form);
        let wrong = browser.post_raw(path, &with_wrong).await;
        assert_eq!(missing.status, 403, "{path}");
        assert_eq!(wrong.status, 403, "{path}");
    }

    assert_eq!(org_name(&app).await, "Acme");
    app.integration_tokens(&key, &secret).await;
    assert!(member_id(&app, &app.username).await.is_some());
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
    assert!(!browser.get("/console/integrations").await.has("Sneaky"));
    assert_eq!(
        browser.get("/console/settings").await.status,
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn without_a_session_every_page_and_form_leads_to_sign_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for path in [
        "/console/settings",
        "/console/integrations",
        "/console/activity",
    ] {
        let page = browser.get(path).await;
        assert_eq!((page.status, page.location()), (303, "/console/"), "{path}");
    }
    let post = browser
        .post_raw("/console/settings", &[("csrf", "x"), ("name", "Nope")])
        .await;
    assert_eq!((post.status, post.location()), (303, "/console/"));
    assert_eq!(org_name(&app).await, "Acme");
}

#[tokio::test]
async fn after_thirty_idle_minutes_the_session_expires_with_a_note() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    app.clock.advance(29 * 60);
    assert_eq!(browser.get("/console/users").await.status, 200);
    app.clock.advance(29 * 60);
    assert_eq!(
        browser.get("/console/users").await.status,
        200,
        "kept alive"
    );

    app.clock.advance(31 * 60);
    let page = browser.get("/console/users").await;
    assert_eq!(page.location(), "/console/?note=expired");
    assert!(browser.cookie("porteiro_console").is_none());
    let sign_in = browser.follow(&page).await;
    assert!(sign_in.has("Your session expired"));
}

#[tokio::test]
async fn eight_hours_after_signing_in_the_session_expires_however_busy() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    for _ in 0..16 {
        app.clock.advance(29 * 60);
        assert_eq!(browser.get("/console/users").await.status, 200);
    }
    // 7 h 44 min in; the next request past 8 h is turned away.
    app.clock.advance(17 * 60);
    let page = browser.get("/console/users").await;
    assert_eq!(page.location(), "/console/?note=expired");
    assert!(browser.cookie("porteiro_console").is_none());
    browser.sign_in(ADMIN).await;
    assert_eq!(browser.get("/console/users").await.status, 200);
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let token = browser.cookie("porteiro_console").unwrap().to_owned();

    let page = browser.post("/console/sign-out", &[]).await;
    assert_eq!(page.location(), "/console/?note=signed_out");
    assert!(
        page.set_cookie("porteiro_console")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(browser.follow(&page).await.has("You have signed out."));
    browser.set("porteiro_console", &token);
    assert_eq!(
        browser.get("/console/settings").await.location(),
        "/console/?note=expired"
    );
}

#[tokio::test]
async fn someone_who_administers_two_organizations_switches_between_them() {
    let app = app().await;
    let globex = app.create_org("Globex").await;
    grant(&app, ADMIN, globex, Role::Owner).await;
    let only_member = app.create_org("Initech").await;
    grant(&app, ADMIN, only_member, Role::Member).await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in(ADMIN).await;
    assert!(settings.has("action=\"/console/switch\""));
    assert!(settings.has(">Globex<") && !settings.has(">Initech<"));

    let page = browser
        .post("/console/switch", &[("org", &globex.to_string())])
        .await;
    let settings = browser.follow(&page).await;
    assert!(settings.has(&format!("value=\"{globex}\"")), "Globex's id");
    assert!(settings.has("name=\"name\""), "an owner there");
    let refused = browser
        .post("/console/switch", &[("org", &only_member.to_string())])
        .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test]
async fn an_administrator_demoted_meanwhile_is_signed_out() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    grant(&app, ADMIN, app.org, Role::Member).await;

    let page = browser.get("/console/integrations").await;
    assert_eq!(page.location(), "/console/?note=lost_access");
}
