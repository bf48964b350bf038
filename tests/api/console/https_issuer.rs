//! With an `https://` issuer the console's cookies are `Secure` and `__Host-` prefixed, and only
//! those are read back.

use porteiro::domain::Role;

use crate::helpers::{PASSWORD, TestApp};

use super::*;

async fn https_app() -> TestApp {
    let app = TestApp::spawn_with(|s| s.issuer = Some("https://auth.example.com".to_owned())).await;
    app.create_user(app.org, OWNER, PASSWORD, Role::Owner).await;
    app
}

/// A host-only, secure cookie: what the `__Host-` prefix requires of it.
fn assert_host_prefixed(cookie: &str) {
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; Path=/;"), "{cookie}");
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
}

#[tokio::test]
async fn with_an_https_issuer_every_console_cookie_is_secure_and_host_prefixed() {
    let app = https_app().await;
    let mut browser = Browser::new(&app);

    let form = browser.get("/console/").await;
    assert_host_prefixed(&form.set_cookie("__Host-porteiro_csrf").unwrap());
    let signed_in = browser.try_sign_in(OWNER, PASSWORD).await;
    assert_host_prefixed(&signed_in.set_cookie("__Host-porteiro_console").unwrap());
    assert!(signed_in.set_cookie("porteiro_console").is_none());
    let switched = browser
        .get("/console/lang?to=es&next=%2Fconsole%2Fsettings")
        .await;
    assert_host_prefixed(&switched.set_cookie("__Host-porteiro_lang").unwrap());
}

#[tokio::test]
async fn with_an_https_issuer_the_console_reads_its_prefixed_cookies_back() {
    let app = https_app().await;
    let mut browser = Browser::new(&app);

    let settings = browser.sign_in(OWNER).await;
    assert!(settings.has("<h1>Settings</h1>"));
    let saved = browser
        .post("/console/settings", &[("name", "Acme Secure")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(org_name(&app).await, "Acme Secure");
    let switched = browser
        .get("/console/lang?to=es&next=%2Fconsole%2Fsettings")
        .await;
    assert!(
        browser
            .follow(&switched)
            .await
            .has("<h1>Configuración</h1>")
    );

    let signed_out = browser.post("/console/sign-out", &[]).await;
    assert_eq!(signed_out.location(), "/console/?note=signed_out");
    assert!(browser.cookie("__Host-porteiro_console").is_none());
}

#[tokio::test]
async fn with_an_https_issuer_a_session_cookie_without_the_prefix_is_ignored() {
    let app = https_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(OWNER).await;
    let token = browser
        .cookie("__Host-porteiro_console")
        .unwrap()
        .to_owned();

    let mut other = Browser::new(&app);
    other.set("porteiro_console", &token);

    assert_eq!(other.get("/console/settings").await.location(), "/console/");
}
