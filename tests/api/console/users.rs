//! Users: adding members (a new one's password shown once), roles, removal, disabling.

use porteiro::domain::Role;

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn adding_an_existing_user_makes_them_a_member() {
    let app = app().await;
    let elsewhere = app.create_org("Globex").await;
    app.create_user(elsewhere, "ana@globex.com", PASSWORD, Role::Member)
        .await;
    grant(&app, ADMIN, elsewhere, Role::Admin).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "ana@globex.com"), ("role", "member")],
        )
        .await;
    assert_eq!(page.location(), "/console/users?done=added");
    assert!(browser.follow(&page).await.has("ana@globex.com"));
    assert_eq!(
        app.login_as(app.org, "ana@globex.com", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn adding_a_new_user_shows_a_generated_password_once_that_logs_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "New@Example.com.br"), ("role", "admin")],
        )
        .await;
    assert_eq!(page.status, 201);
    assert_eq!(page.headers["cache-control"], "no-store");
    let password = page.input("secret-value");
    assert_eq!(password.len(), 20);
    assert!(!browser.get("/console/users").await.has(&password));
    let login = app.login_as(app.org, "new@example.com.br", &password).await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn adding_a_member_twice_is_refused_plainly() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let page = browser
        .post(
            "/console/users",
            &[("username", &app.username), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(page.has("already a member"));
}

#[tokio::test]
async fn an_account_of_another_organization_is_not_added_without_the_operator() {
    let app = app().await;
    let elsewhere = app.create_org("Globex").await;
    app.create_user(elsewhere, "ana@globex.com", PASSWORD, Role::Member)
        .await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "ana@globex.com"), ("role", "member")],
        )
        .await;
    assert_eq!(page.status, 409);
    assert!(page.has("Ask the operator"));
    assert_eq!(member_id(&app, "ana@globex.com").await, None);
}

#[tokio::test]
async fn an_account_of_other_organizations_only_is_refused_with_a_message_that_names_none() {
    let app = app().await;
    let elsewhere = app.create_org("Globex").await;
    app.create_user(elsewhere, "ana@globex.com", PASSWORD, Role::Owner)
        .await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            "/console/users",
            &[("username", "ana@globex.com"), ("role", "member")],
        )
        .await;

    assert_eq!(page.status, 409);
    assert!(
        page.has("This username cannot be added from the console. Ask the operator to add it to this organization."),
        "{}",
        page.body
    );
    assert!(!page.has("another organization") && !page.has("Globex"));
    assert_eq!(member_id(&app, "ana@globex.com").await, None);
}

#[tokio::test]
async fn an_admin_changes_a_members_role() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(&format!("/console/users/{id}/role"), &[("role", "admin")])
        .await;
    assert_eq!(page.location(), "/console/users?done=role");
    let members = app.auth.store().list_members(app.org).await.unwrap();
    assert_eq!(members.iter().find(|m| m.id == id).unwrap().role, "admin");
}

#[tokio::test]
async fn an_admin_cannot_make_an_owner_nor_change_one() {
    let app = app().await;
    let member = member_id(&app, &app.username).await.unwrap();
    let owner = member_id(&app, OWNER).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let promote = browser
        .post(
            &format!("/console/users/{member}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(promote.status, 403);
    let demote = browser
        .post(
            &format!("/console/users/{owner}/role"),
            &[("role", "member")],
        )
        .await;
    assert_eq!(demote.status, 403);
    let members = app.auth.store().list_members(app.org).await.unwrap();
    assert_eq!(
        members.iter().find(|m| m.id == owner).unwrap().role,
        "owner"
    );
}

#[tokio::test]
async fn removing_a_member_ends_their_access_to_the_organization() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let (refresh, _) = app.login().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let confirm = browser.get(&format!("/console/users/{id}/remove")).await;
    assert!(confirm.has(&app.username));
    let page = browser
        .post(&format!("/console/users/{id}/remove"), &[])
        .await;
    assert_eq!(page.location(), "/console/users?done=removed");
    assert_eq!(member_id(&app, &app.username).await, None);
    assert_eq!(app.refresh(&refresh).await.status(), 401);
}

#[tokio::test]
async fn disabling_a_user_refuses_their_logins_and_enabling_restores_them() {
    let app = app().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let page = browser
        .post(
            &format!("/console/users/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.location(), "/console/users?done=disabled");
    assert!(browser.follow(&page).await.has("badge-off"));
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        401
    );

    browser
        .post(
            &format!("/console/users/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(
        app.login_as(app.org, &app.username, PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn nobody_changes_their_own_membership() {
    let app = app().await;
    let me = member_id(&app, ADMIN).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let page = browser
        .post(
            &format!("/console/users/{me}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(page.has("You cannot change your own membership"));
}

#[tokio::test]
async fn the_users_list_shows_50_members_a_page_and_the_rest_on_the_next() {
    let app = app().await;
    for i in 0..52 {
        let name = format!("m{i:03}@example.com");
        app.create_user_with_hash(app.org, &name, "unused").await;
    }
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let first = browser.get("/console/users").await;
    // Three members came first (the app's user, the owner and the admin), by id.
    assert!(first.has("m046@example.com") && !first.has("m047@example.com"));
    assert!(!first.has("href=\"/console/users\">←"), "no start link");
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| unescape(&s[..s.find('"').unwrap()]))
        .unwrap();
    assert!(next.starts_with("/console/users?after="), "{next}");
    let second = browser.get(&next).await;
    assert_eq!(second.status, 200);
    assert!((47..52).all(|i| second.has(&format!("m{i:03}@example.com"))));
    assert!(!second.has("m046@example.com") && !second.has("rel=\"next\""));
    assert!(second.has("href=\"/console/users\">←"), "a start link");
}
