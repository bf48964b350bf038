//! Every page renders; assets come from the binary; headers keep pages private and unframed.

use super::*;

#[tokio::test]
async fn every_page_renders_for_an_admin() {
    let app = app().await;
    let (key, _) = app.create_integration(&["documents:read"]).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let member = app.auth.store().list_members(app.org).await.unwrap();
    let member = member.iter().find(|m| m.username == app.username).unwrap();

    for path in [
        "/console/settings".to_owned(),
        "/console/integrations".to_owned(),
        "/console/users".to_owned(),
        "/console/sessions".to_owned(),
        "/console/activity".to_owned(),
        "/console/activity?kind=integration_created&who=cli".to_owned(),
        format!("/console/integrations/{key}/rotate"),
        format!("/console/integrations/{key}/revoke"),
        format!("/console/users/{}/remove", member.id),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert!(page.has("<main"), "{path}");
        assert!(page.has("<nav class=\"tabs\""), "{path}");
    }
}

#[tokio::test]
async fn static_assets_are_served_by_the_binary() {
    let app = app().await;
    for (file, kind) in [
        ("console.css", "text/css"),
        ("console.js", "text/javascript"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let response = app.get(&format!("/console/static/{file}")).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    assert_eq!(app.get("/console/static/nope.css").await.status(), 404);
}

#[tokio::test]
async fn pages_forbid_framing_and_outside_resources() {
    let app = app().await;
    let page = Browser::new(&app).get("/console/").await;
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        !page.has("http://") && !page.has("https://"),
        "no external resource"
    );
}

#[tokio::test]
async fn an_unknown_console_page_is_a_translated_404_page() {
    let app = app().await;
    let page = Browser::new(&app)
        .with_header("Accept-Language", "pt-BR")
        .get("/console/nowhere")
        .await;
    assert_eq!(page.status, 404);
    assert!(page.has("Esta página não existe."));
}
