//! The admin API's lists a page at a time: `limit`, a cursor (`after` for users, `before` for
//! sessions) and an RFC 8288 `Link` to the next page until the last.

use porteiro::domain::Role;
use serde_json::{Value, json};

use super::{call, with_admins};
use crate::helpers::*;

/// One page: its rows and the target of its `Link: <…>; rel="next"`, if any.
async fn page(app: &TestApp, path: &str, token: &str) -> (Vec<Value>, Option<String>) {
    let response = call(app, reqwest::Method::GET, path, token, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let next = response.headers().get("link").map(|link| {
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        link[1..link.find('>').unwrap()].to_owned()
    });
    let rows = response.json::<Value>().await.unwrap();
    (rows.as_array().unwrap().clone(), next)
}

/// Every page from `first`, following the links: the pages' sizes and their rows in order.
async fn walk(app: &TestApp, first: &str, token: &str) -> (Vec<usize>, Vec<Value>) {
    let (mut sizes, mut rows) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let (page, link) = page(app, &path, token).await;
        sizes.push(page.len());
        rows.extend(page);
        next = link;
        assert!(sizes.len() < 20, "the links never end");
    }
    (sizes, rows)
}

async fn add_members(app: &TestApp, n: usize) {
    for i in 0..n {
        let name = format!("m{i:03}@example.com");
        app.create_user_with_hash(app.org, &name, "unused").await;
    }
}

#[tokio::test]
async fn pages_of_users_walk_every_member_once_by_id_with_a_link_until_the_last() {
    let (app, _, admin) = with_admins().await;
    add_members(&app, 7).await;
    let everyone = app.auth.store().list_members(app.org).await.unwrap();
    assert_eq!(everyone.len(), 10);

    let (sizes, rows) = walk(&app, "/api/v1/admin/users?limit=3", &admin).await;
    assert_eq!(sizes, [3, 3, 3, 1]);
    let ids: Vec<i64> = rows.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = everyone.iter().map(|m| m.id).collect();
    assert_eq!(ids, expected, "each member once, by id");
    assert_eq!(rows[0].as_object().unwrap().len(), 5, "{}", rows[0]);
    assert!(rows[0]["username"].is_string() && rows[0]["role"].is_string());

    let (sizes, _) = walk(&app, "/api/v1/admin/users?limit=5", &admin).await;
    assert_eq!(sizes, [5, 5], "no link to an empty page");
}

#[tokio::test]
async fn users_are_listed_100_to_a_page_by_default() {
    let (app, _, admin) = with_admins().await;
    add_members(&app, 101).await;
    let (rows, next) = page(&app, "/api/v1/admin/users", &admin).await;
    assert_eq!(rows.len(), 100);
    let last = rows[99]["id"].as_i64().unwrap();
    assert_eq!(
        next.as_deref(),
        Some(&*format!("/api/v1/admin/users?limit=100&after={last}"))
    );
    let (rest, next) = page(&app, &next.unwrap(), &admin).await;
    assert_eq!((rest.len(), next), (4, None));
    let (all, next) = page(&app, "/api/v1/admin/users?limit=1000", &admin).await;
    assert_eq!(
        (all.len(), next),
        (104, None),
        "a limit above 500 reads 500"
    );
}

#[tokio::test]
async fn pages_of_sessions_walk_every_open_session_once_newest_first() {
    let (app, _, admin) = with_admins().await;
    let (key, secret) = app.create_integration(&[]).await;
    for _ in 0..7 {
        app.integration_tokens(&key, &secret).await;
    }
    app.create_user(app.org, "ana@example.com", PASSWORD, Role::Member)
        .await;
    app.login_as(app.org, "ana@example.com", PASSWORD).await;
    let (all, next) = page(&app, "/api/v1/admin/sessions", &admin).await;
    assert_eq!((all.len(), next), (10, None));

    let (sizes, rows) = walk(&app, "/api/v1/admin/sessions?limit=3", &admin).await;
    assert_eq!(sizes, [3, 3, 3, 1]);
    assert_eq!(rows, all, "each session once, newest first");
    let started: Vec<&str> = rows
        .iter()
        .map(|s| s["started"].as_str().unwrap())
        .collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "{started:?}");
}

#[tokio::test]
async fn a_malformed_limit_or_cursor_is_answered_400() {
    let (app, _, admin) = with_admins().await;
    for (path, detail) in [
        ("/api/v1/admin/users?limit=0", "invalid limit"),
        ("/api/v1/admin/users?limit=ten", "invalid limit"),
        ("/api/v1/admin/users?after=first", "invalid after"),
        ("/api/v1/admin/sessions?limit=-1", "invalid limit"),
        ("/api/v1/admin/sessions?before=1733356800", "invalid before"),
        ("/api/v1/admin/sessions?before=soon.abc", "invalid before"),
        ("/api/v1/admin/activity?limit=", "invalid limit"),
        ("/api/v1/admin/activity?before=last", "invalid before"),
    ] {
        let response = call(&app, reqwest::Method::GET, path, &admin, None).await;
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": detail}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn pages_of_activity_walk_every_event_once_newest_first_and_keep_the_filter() {
    let (app, _, admin) = with_admins().await;
    for _ in 0..3 {
        app.login_as(app.org, &app.username, "wrong").await;
    }
    app.login().await;
    // The audit writer stores events in the background.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, everything) = walk(&app, "/api/v1/admin/activity?limit=500", &admin).await;
    let (sizes, rows) = walk(&app, "/api/v1/admin/activity?limit=2", &admin).await;
    assert_eq!(rows, everything, "each event once, newest first");
    assert!(sizes.len() > 2 && sizes.iter().all(|n| *n == 2 || *n == 1));

    let (sizes, rows) = walk(
        &app,
        "/api/v1/admin/activity?kind=login_failed&limit=2",
        &admin,
    )
    .await;
    assert_eq!(sizes, [2, 1], "the next page keeps the filter");
    assert!(rows.iter().all(|e| e["kind"] == "login_failed"), "{rows:?}");
    let ids: Vec<i64> = rows.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
}
