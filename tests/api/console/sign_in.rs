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

/// What may happen to an account between its password check and its console session's insert.
#[derive(Debug, Clone, Copy)]
enum Meanwhile {
    Nothing,
    PasswordChanged,
    Disabled,
    NoLongerAdmin,
}

/// Reads `username`'s password hash as a sign-in that has just checked it would hold it, lets
/// `meanwhile` happen, then inserts the console session with that hash; answers whether a
/// working console session came of it.
async fn console_session_after(app: &TestApp, username: &str, meanwhile: Meanwhile) -> bool {
    use porteiro::auth::admin;
    use porteiro::domain::Username;
    use porteiro::tokens::claims::{jti_digest, random_id};

    let store = app.auth.store();
    let name = Username::parse(username).unwrap();
    let checked = store.find_login(&name, None).await.unwrap().unwrap();
    let now = app.now();
    match meanwhile {
        Meanwhile::Nothing => {}
        Meanwhile::PasswordChanged => {
            let hash = porteiro::auth::hashing::hash_password(
                &secrecy::SecretString::from("Another-Password-9"),
                app.settings.argon2,
            )
            .unwrap();
            admin::Administration::operator(store)
                .set_password(&name, &hash, now)
                .await
                .unwrap();
        }
        Meanwhile::Disabled => {
            admin::Administration::operator(store)
                .set_active(&name, false, now)
                .await
                .unwrap();
        }
        Meanwhile::NoLongerAdmin => {
            admin::Administration::operator(store)
                .grant(&name, app.org, Role::Member, now)
                .await
                .unwrap();
        }
    }
    let token = random_id();
    let opened = store
        .insert_console_session(
            &jti_digest(&token),
            checked.user_id,
            app.org,
            &random_id(),
            &checked.password_hash,
            now,
        )
        .await
        .unwrap();
    let working = app.auth.console_user(&token).await.unwrap().is_some();
    assert_eq!(opened, working, "{meanwhile:?}");
    working
}

#[tokio::test]
async fn a_sign_in_whose_checked_password_changed_or_account_was_disabled_meanwhile_opens_no_session()
 {
    let app = app().await;
    let others = ["other1@example.com.br", "other2@example.com.br"];
    for other in others {
        app.create_user(app.org, other, PASSWORD, Role::Admin).await;
    }

    let unchanged = console_session_after(&app, OWNER, Meanwhile::Nothing).await;
    let password_changed = console_session_after(&app, ADMIN, Meanwhile::PasswordChanged).await;
    let disabled = console_session_after(&app, others[0], Meanwhile::Disabled).await;
    let demoted = console_session_after(&app, others[1], Meanwhile::NoLongerAdmin).await;

    assert!(unchanged, "a sign-in with nothing changed opens a session");
    assert!(
        !password_changed,
        "the password changed since it was checked"
    );
    assert!(!disabled, "the account was disabled since the check");
    assert!(!demoted, "the account is no longer an admin");
    let page = Browser::new(&app).sign_in(OWNER).await;
    assert_eq!(page.status, 200, "a normal sign-in still works");
}
