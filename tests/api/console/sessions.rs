//! Sessions: ending one, or all of a user's.

use serde_json::Value;

use crate::helpers::PASSWORD;

use super::*;

#[tokio::test]
async fn ending_one_session_stops_its_refresh_token() {
    let app = app().await;
    let (refresh, _) = app.login().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;

    let sessions = browser.get("/console/sessions").await;
    assert!(sessions.has(&app.username) && sessions.has("127.0.0.1"));
    let action = sessions
        .body
        .split("action=\"/console/sessions/")
        .nth(1)
        .map(|s| format!("/console/sessions/{}", &s[..s.find('"').unwrap()]))
        .unwrap();
    let page = browser.post(&action, &[]).await;
    assert_eq!(page.location(), "/console/sessions?done=ended");
    assert_eq!(app.refresh(&refresh).await.status(), 401);
    assert!(!browser.get("/console/sessions").await.has(&app.username));
}

#[tokio::test]
async fn ending_all_of_a_users_sessions() {
    let app = app().await;
    let (first, _) = app.login().await;
    let (second, _) = app.login().await;
    let id = member_id(&app, &app.username).await.unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let sessions = browser.get("/console/sessions").await;
    assert!(sessions.has(&format!("/console/users/{id}/sessions/end")));

    let page = browser
        .post(&format!("/console/users/{id}/sessions/end"), &[])
        .await;
    assert_eq!(page.location(), "/console/sessions?done=ended_all");
    assert_eq!(app.refresh(&first).await.status(), 401);
    assert_eq!(app.refresh(&second).await.status(), 401);
}

#[tokio::test]
async fn an_admin_cannot_end_an_owners_sessions() {
    let app = app().await;
    let owner = member_id(&app, OWNER).await.unwrap();
    let login = app.login_as(app.org, OWNER, PASSWORD).await;
    let refresh = login.json::<Value>().await.unwrap()["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    browser.get("/console/sessions").await;

    let page = browser
        .post(&format!("/console/users/{owner}/sessions/end"), &[])
        .await;
    assert_eq!(page.status, 403);
    assert!(page.has("Only an owner can end"));
    assert_eq!(app.refresh(&refresh).await.status(), 200);
}

#[tokio::test]
async fn the_sessions_list_shows_the_newest_50_and_the_rest_on_the_next_page() {
    let app = app().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..52 {
        app.integration_tokens(&key, &secret).await;
    }
    let mut browser = Browser::new(&app);
    browser.sign_in(ADMIN).await;
    let newest_first: Vec<String> = app
        .auth
        .store()
        .open_sessions(app.org, app.now())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.sid)
        .collect();
    assert_eq!(newest_first.len(), 52);
    // A row is its "end" button (the cursor, an id, may also be in the page's own links).
    let row = |sid: &String| format!("action=\"/console/sessions/{sid}/end\"");
    let first = browser.get("/console/sessions").await;
    assert!(newest_first[..50].iter().all(|sid| first.has(&row(sid))));
    assert!(newest_first[50..].iter().all(|sid| !first.has(&row(sid))));
    assert!(!first.has("href=\"/console/sessions\">←"), "no start link");
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .map(|s| unescape(&s[..s.find('"').unwrap()]))
        .unwrap();
    assert!(next.starts_with("/console/sessions?before="), "{next}");
    let second = browser.get(&next).await;
    assert_eq!(second.status, 200);
    assert!(newest_first[50..].iter().all(|sid| second.has(&row(sid))));
    assert!(newest_first[..50].iter().all(|sid| !second.has(&row(sid))));
    assert!(second.has("href=\"/console/sessions\">←"), "a start link");
}
