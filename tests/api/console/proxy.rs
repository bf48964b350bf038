//! Cookies are Secure exactly when a trusted proxy says the browser came over HTTPS.

use porteiro::domain::Role;

use crate::helpers::PASSWORD;
use crate::helpers::TestApp;

use super::*;

#[tokio::test]
async fn behind_a_trusted_proxy_over_https_every_cookie_is_secure() {
    let app = TestApp::spawn_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.create_user(app.org, ADMIN, PASSWORD, Role::Admin).await;
    let mut browser = Browser::new(&app).with_header("X-Forwarded-Proto", "https");

    let form = browser.get("/console/").await;
    assert!(
        form.set_cookie("porteiro_csrf")
            .unwrap()
            .contains("; Secure")
    );
    let signed_in = browser.try_sign_in(ADMIN, PASSWORD).await;
    let cookie = signed_in.set_cookie("porteiro_console").unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let mut plain = Browser::new(&app);
    let cookie = plain
        .try_sign_in(ADMIN, PASSWORD)
        .await
        .set_cookie("porteiro_console");
    assert!(
        !cookie.unwrap().contains("Secure"),
        "plain HTTP through the proxy"
    );
}

#[tokio::test]
async fn an_untrusted_peer_claiming_https_gets_no_secure_cookie() {
    let app = app().await;
    let mut browser = Browser::new(&app).with_header("X-Forwarded-Proto", "https");
    let page = browser.try_sign_in(ADMIN, PASSWORD).await;
    assert!(
        !page
            .set_cookie("porteiro_console")
            .unwrap()
            .contains("Secure")
    );
}
