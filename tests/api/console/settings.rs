//! Settings: owners rename the organization; admins see its name read-only.

use super::*;

#[tokio::test]
async fn an_owner_renames_the_organization() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;

    let page = browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;
    assert_eq!(page.location(), "/console/settings?done=renamed");
    let settings = browser.follow(&page).await;
    assert!(settings.has("The organization was renamed."));
    assert!(settings.has("value=\"Acme Ltda\""));
    assert_eq!(org_name(&app).await, "Acme Ltda");
}

#[tokio::test]
async fn an_admin_sees_the_name_read_only_and_cannot_rename() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let settings = browser.sign_in(ADMIN).await;
    assert!(!settings.has("name=\"name\""), "no name field for an admin");
    assert!(settings.has("Only owners can change"));
    assert!(
        settings.has(&format!("value=\"{}\"", app.org)),
        "the organization id"
    );

    let page = browser
        .post("/console/settings", &[("name", "Hijacked")])
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(org_name(&app).await, "Acme");
}

#[tokio::test]
async fn a_blank_name_is_refused_with_a_message() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    let page = browser.post("/console/settings", &[("name", "  ")]).await;
    assert_eq!(page.status, 400);
    assert!(page.has("1 to 200 printable characters"));
    assert_eq!(org_name(&app).await, "Acme");
}
