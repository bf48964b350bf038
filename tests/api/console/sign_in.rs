//! Signing in: the form and its double-submit token, who may enter, wrong passwords and the
//! lockout the API shares.

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn an_owner_signs_in_with_a_strict_http_only_session_cookie() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.try_sign_in(OWNER, PASSWORD).await;

    assert_eq!(page.status, 303);
    let cookie = page.set_cookie("porteiro_console").unwrap();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("; Path=/console"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let settings = browser.follow(&page).await;
    assert_eq!(settings.status, 200);
    assert!(settings.has("Acme") && settings.has(OWNER));
}

#[tokio::test]
async fn an_admin_signs_in() {
    let app = app().await;
    let page = Browser::new(&app).sign_in(ADMIN).await;
    assert_eq!(page.status, 200);
    assert!(page.has("<h1>Settings</h1>"));
}

#[tokio::test]
async fn a_member_is_told_plainly_that_they_have_no_access() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.try_sign_in(&app.username, PASSWORD).await;

    assert_eq!(page.status, 403);
    assert!(page.has("no access to the console"));
    assert!(page.set_cookie("porteiro_console").is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_message() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let wrong = browser.try_sign_in(OWNER, "not-the-password").await;
    let unknown = browser.try_sign_in("nobody@example.com.br", PASSWORD).await;

    for page in [&wrong, &unknown] {
        assert_eq!(page.status, 401);
        assert!(page.has("The username or password is incorrect."));
    }
    assert!(browser.cookie("porteiro_console").is_none());
}

#[tokio::test]
async fn five_failed_console_sign_ins_lock_the_account_for_the_api_too() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(
            browser.try_sign_in(OWNER, "wrong-password").await.status,
            401
        );
    }

    let locked = browser.try_sign_in(OWNER, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert!(locked.has("Sign-in is locked"));
    assert!(locked.headers.contains_key("retry-after"));
    let api = app.login_as(app.org, OWNER, PASSWORD).await;
    assert_eq!(api.status(), 400, "the API shares the counter");
}

#[tokio::test]
async fn failed_api_logins_lock_the_console_too() {
    let app = app().await;
    for _ in 0..5 {
        assert_eq!(
            app.login_as(app.org, ADMIN, "wrong-password")
                .await
                .status(),
            401
        );
    }
    let page = Browser::new(&app).try_sign_in(ADMIN, PASSWORD).await;
    assert_eq!(page.status, 429);
}

#[tokio::test]
async fn the_sign_in_form_needs_its_double_submit_token() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.get("/console/").await;
    let csrf = browser.csrf.clone().unwrap();
    assert_eq!(browser.cookie("porteiro_csrf"), Some(csrf.as_str()));

    let form = [("username", OWNER), ("password", PASSWORD)];
    let without_field = browser.post_raw("/console/sign-in", &form).await;
    let wrong = [
        ("csrf", "0123456789abcdef0123456789abcdef"),
        form[0],
        form[1],
    ];
    let wrong_field = browser.post_raw("/console/sign-in", &wrong).await;
    browser.cookies.clear();
    let right = [("csrf", csrf.as_str()), form[0], form[1]];
    let without_cookie = browser.post_raw("/console/sign-in", &right).await;

    for page in [without_field, wrong_field, without_cookie] {
        assert_eq!(page.status, 403);
        assert!(page.set_cookie("porteiro_console").is_none());
    }
}
