//! Activity: newest first, filters, paging, and the same changes seen by the admin API.

use serde_json::Value;

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn activity_is_newest_first_and_filters_by_kind_and_by_who() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    browser
        .post(
            "/console/integrations",
            &[("name", "First"), ("scopes", "")],
        )
        .await;
    browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;

    let all = browser.get("/console/activity").await;
    let kinds = all.event_kinds();
    let renamed = kinds
        .iter()
        .position(|k| k == "organization_renamed")
        .unwrap();
    let created = kinds
        .iter()
        .position(|k| k == "integration_created")
        .unwrap();
    assert!(renamed < created, "newest first: {kinds:?}");

    let filtered = browser
        .get("/console/activity?kind=integration_created")
        .await;
    assert_eq!(filtered.event_kinds(), ["integration_created"]);
    let by_cli = browser.get("/console/activity?who=cli").await;
    assert!(by_cli.event_kinds().iter().all(|k| k == "user_created"));
    assert!(!by_cli.event_kinds().is_empty());
}

#[tokio::test]
async fn activity_pages_with_before() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    for n in 0..52 {
        browser
            .post("/console/settings", &[("name", &format!("Acme {n}"))])
            .await;
    }
    let first = browser
        .get("/console/activity?kind=organization_renamed")
        .await;
    assert_eq!(first.event_kinds().len(), 50);
    assert!(first.has("Acme 51") && !first.has(">Acme 1<"));
    let older = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| unescape(&s[..s.find('"').unwrap()]))
        .unwrap();
    assert!(older.contains("before="), "{older}");
    let second = browser.get(&older).await;
    assert_eq!(second.event_kinds().len(), 2);
    assert!(second.has(">Acme 1<") && second.has(">Acme 0<"));
}

#[tokio::test]
async fn console_changes_show_in_the_admin_api_and_its_activity() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    browser
        .post("/console/settings", &[("name", "Acme Ltda")])
        .await;
    let login = app.login_as(app.org, OWNER, PASSWORD).await;
    let access = login.json::<Value>().await.unwrap()["access"]
        .as_str()
        .unwrap()
        .to_owned();
    let org: Value = app
        .client
        .get(app.url("/api/v1/admin/organization"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["name"], "Acme Ltda");
}
