//! `/api/v1/admin/sessions`: a user's sessions listed, and ended one at a time or all at once.

use serde_json::Value;

use super::{call, get, with_admins};
use crate::helpers::*;

#[tokio::test]
async fn sessions_are_listed_and_ended_one_or_all_of_a_user() {
    let (app, _, admin) = with_admins().await;
    let (_, first) = app.login().await;
    let (_, second) = app.login().await;
    let sessions = get(&app, "/api/v1/admin/sessions", &admin).await;
    let mine: Vec<&Value> = sessions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["who"] == app.username.as_str())
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["client_address"], "127.0.0.1");
    let sid = claims(&first)["sid"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/admin/sessions/{sid}");
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.me(&first).await.status(),
        401,
        "ended at once on this instance"
    );
    assert_eq!(app.me(&second).await.status(), 200);
    let user_id = claims(&second)["user_id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/users/{user_id}/sessions");
    let ended: Value = call(&app, reqwest::Method::DELETE, &path, &admin, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["ended"], 1);
    assert_eq!(app.me(&second).await.status(), 401);
}

/// PostgreSQL refuses text holding a NUL byte; no session id holds one, so it is no session.
#[tokio::test]
async fn ending_a_session_whose_id_holds_a_nul_byte_answers_404() {
    let (app, _, admin) = with_admins().await;

    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/admin/sessions/a%00b",
        &admin,
        None,
    )
    .await;

    assert_json(
        response,
        404,
        serde_json::json!({"detail": "there is no such open session"}),
    )
    .await;
}
