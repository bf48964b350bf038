//! The admin JSON API under `/api/v1/admin/`: owners and admins of the token's organization only.

mod access;
mod activity;
mod integrations;
mod members;
mod organization;
mod pages;
mod sessions;

use porteiro::domain::Role;
use serde_json::Value;

use crate::helpers::*;

const OWNER: &str = "owner@example.com";
const ADMIN: &str = "admin@example.com";

/// An app with an owner and an admin besides the default member; returns the owner's and the
/// admin's access tokens.
async fn with_admins() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    app.create_user(app.org, OWNER, PASSWORD, Role::Owner).await;
    app.create_user(app.org, ADMIN, PASSWORD, Role::Admin).await;
    let owner = access_of(&app, OWNER).await;
    let admin = access_of(&app, ADMIN).await;
    (app, owner, admin)
}

async fn access_of(app: &TestApp, username: &str) -> String {
    let body: Value = app
        .login_as(app.org, username, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    body["access"].as_str().unwrap().to_owned()
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let response = call(app, reqwest::Method::GET, path, token, None).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}
