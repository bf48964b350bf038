//! The admin JSON API under `/api/v1/admin/`: owners and admins of the token's organization only.

use porteiro::domain::Role;
use serde_json::{Value, json};

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

#[tokio::test]
async fn a_member_an_integration_and_no_token_get_nothing() {
    let (app, _, _) = with_admins().await;
    let (_, member) = app.login().await;
    let response = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/admin/integrations",
        &member,
        None,
    )
    .await;
    assert_json(
        response,
        403,
        json!({"detail": "You do not have permission to perform this action."}),
    )
    .await;
    let (key, secret) = app.create_integration(&[]).await;
    let machine = app.integration_tokens(&key, &secret).await;
    let response = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/admin/users",
        machine["access_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = app.get("/api/v1/admin/users").await;
    assert_json(
        response,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

#[tokio::test]
async fn the_organization_shows_its_id_and_only_an_owner_renames_it() {
    let (app, owner, admin) = with_admins().await;
    let org = get(&app, "/api/v1/admin/organization", &admin).await;
    assert_eq!(
        org,
        json!({"id": app.org.get(), "name": "Acme", "role": "admin"})
    );
    let response = call(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/admin/organization",
        &admin,
        Some(json!({"name": "X"})),
    )
    .await;
    assert_eq!(response.status(), 403);
    let response = call(
        &app,
        reqwest::Method::PATCH,
        "/api/v1/admin/organization",
        &owner,
        Some(json!({"name": "Acme Ltda"})),
    )
    .await;
    assert_json(
        response,
        200,
        json!({"id": app.org.get(), "name": "Acme Ltda"}),
    )
    .await;
}

#[tokio::test]
async fn an_integration_created_through_the_api_shows_its_secret_once_and_works() {
    let (app, _, admin) = with_admins().await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/integrations",
        &admin,
        Some(json!({"name": "ERP", "scope": ["read"]})),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created: Value = response.json().await.unwrap();
    let (key, secret) = (
        created["consumer_key"].as_str().unwrap(),
        created["secret_key"].as_str().unwrap(),
    );
    assert_eq!(created["scope"], json!(["read"]));
    assert_eq!(app.integration_login(key, secret).await.status(), 200);
    let list = get(&app, "/api/v1/admin/integrations", &admin).await;
    assert_eq!(list[0]["consumer_key"], key);
    assert!(list[0].get("secret_key").is_none());
    assert!(!list.to_string().contains(secret));
    assert!(list[0]["last_used"].is_string());

    let path = format!("/api/v1/admin/integrations/{key}/rotate-secret");
    let rotated: Value = call(&app, reqwest::Method::POST, &path, &admin, None)
        .await
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret_key"].as_str().unwrap();
    assert_eq!(app.integration_login(key, secret).await.status(), 400);
    assert_eq!(app.integration_login(key, new_secret).await.status(), 200);

    let path = format!("/api/v1/admin/integrations/{key}");
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        204
    );
    assert_eq!(app.integration_login(key, new_secret).await.status(), 400);
    assert_eq!(
        get(&app, "/api/v1/admin/integrations", &admin).await[0]["status"],
        "revoked"
    );
}

#[tokio::test]
async fn another_organizations_admin_cannot_touch_this_organizations_integrations() {
    let (app, _, _) = with_admins().await;
    let (key, _) = app.create_integration(&[]).await;
    let other = app.create_org("Other").await;
    app.create_user(other, "rival@example.com", PASSWORD, Role::Owner)
        .await;
    let body: Value = app
        .login_as(other, "rival@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let rival = body["access"].as_str().unwrap();
    assert_eq!(
        get(&app, "/api/v1/admin/integrations", rival).await,
        json!([])
    );
    let path = format!("/api/v1/admin/integrations/{key}");
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, rival, None)
            .await
            .status(),
        404
    );
    let path = format!("/api/v1/admin/integrations/{key}/rotate-secret");
    assert_eq!(
        call(&app, reqwest::Method::POST, &path, rival, None)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn members_are_added_changed_disabled_and_removed() {
    let (app, _, admin) = with_admins().await;
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        &admin,
        Some(json!({"username": "New@Example.com", "role": "member"})),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["username"], "new@example.com");
    let password = created["password"].as_str().unwrap();
    assert_eq!(
        app.login_as(app.org, "new@example.com", password)
            .await
            .status(),
        200
    );
    let id = created["id"].as_i64().unwrap();

    let path = format!("/api/v1/admin/users/{id}");
    let changed: Value = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &admin,
        Some(json!({"role": "admin"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(changed["role"], "admin");
    let response = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &admin,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(response.status(), 403, "an admin cannot make an owner");
    let disabled: Value = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &admin,
        Some(json!({"active": false})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(disabled["active"], false);
    assert_eq!(
        app.login_as(app.org, "new@example.com", password)
            .await
            .status(),
        401
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        204
    );
    let users = get(&app, "/api/v1/admin/users", &admin).await;
    assert!(!users.to_string().contains("new@example.com"));
}

#[tokio::test]
async fn an_existing_user_is_added_only_from_an_organization_the_admin_also_administers() {
    let (app, owner, _) = with_admins().await;
    let shared = app.create_org("Sister").await;
    let foreign = app.create_org("Foreign").await;
    app.create_user(shared, "colleague@example.com", PASSWORD, Role::Member)
        .await;
    app.create_user(foreign, "stranger@example.com", PASSWORD, Role::Member)
        .await;
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .grant(
            &porteiro::domain::Username::parse(OWNER).unwrap(),
            shared,
            Role::Admin,
            app.now(),
        )
        .await
        .unwrap();
    let add = |name: &str| json!({"username": name, "role": "member"});
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        &owner,
        Some(add("colleague@example.com")),
    )
    .await;
    assert_eq!(response.status(), 201);
    let added: Value = response.json().await.unwrap();
    assert!(
        added.get("password").is_none(),
        "an existing account keeps its password"
    );
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        &owner,
        Some(add("colleague@example.com")),
    )
    .await;
    assert_eq!(response.status(), 409, "already a member");
    // Another tenant's account is not linked: the operator does that.
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        &owner,
        Some(add("stranger@example.com")),
    )
    .await;
    assert_eq!(response.status(), 409);
    let users = get(&app, "/api/v1/admin/users", &owner).await;
    assert!(!users.to_string().contains("stranger@example.com"));
    let response = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/users",
        &owner,
        Some(json!({"username": "not-an-email"})),
    )
    .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_account_only_other_organizations_know_is_refused_with_one_message_naming_none() {
    let (app, owner, _) = with_admins().await;
    let foreign = app.create_org("Foreign").await;
    let colleagues = app.create_org("Colleagues").await;
    app.create_user(foreign, "stranger@example.com", PASSWORD, Role::Admin)
        .await;
    // An organization the owner belongs to, but only as a member: not one they administer.
    app.create_user(colleagues, "peer@example.com", PASSWORD, Role::Member)
        .await;
    grant_as_operator(&app, OWNER, colleagues, Role::Member).await;
    // An account that belongs to no organization any more.
    app.create_user(foreign, "orphan@example.com", PASSWORD, Role::Member)
        .await;
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .revoke(
            &porteiro::domain::Username::parse("orphan@example.com").unwrap(),
            foreign,
            app.now(),
        )
        .await
        .unwrap();

    for username in [
        "stranger@example.com",
        "peer@example.com",
        "orphan@example.com",
    ] {
        let response = call(
            &app,
            reqwest::Method::POST,
            "/api/v1/admin/users",
            &owner,
            Some(json!({"username": username, "role": "admin"})),
        )
        .await;
        assert_eq!(response.status(), 409, "{username}");
        let body: Value = response.json().await.unwrap();
        let refusal = json!({"detail": "this username cannot be added by an organization's admin; ask the operator to add it"});
        assert_eq!(body, refusal, "{username}");
    }
    let users = get(&app, "/api/v1/admin/users", &owner).await.to_string();
    assert!(!users.contains("stranger") && !users.contains("peer") && !users.contains("orphan"));
    let login = app
        .login_as(app.org, "stranger@example.com", PASSWORD)
        .await;
    assert_eq!(login.status(), 401);
}

/// Gives `username` a role in `org`, as the operator would.
async fn grant_as_operator(
    app: &TestApp,
    username: &str,
    org: porteiro::domain::OrgId,
    role: Role,
) {
    porteiro::auth::admin::Administration::operator(app.auth.store())
        .grant(
            &porteiro::domain::Username::parse(username).unwrap(),
            org,
            role,
            app.now(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_bodies_and_ids_get_json_errors_after_authentication() {
    let (app, owner, _) = with_admins().await;
    let response = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "no token: 401 before the body is read"
    );
    let response = app
        .client
        .post(app.url("/api/v1/admin/users"))
        .bearer_auth(&owner)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body")
    );
    let response = call(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/admin/users/abc",
        &owner,
        None,
    )
    .await;
    assert_json(response, 404, json!({"detail": "there is no user abc"})).await;
}

#[tokio::test]
async fn admins_cannot_change_owners_or_themselves() {
    let (app, _, admin) = with_admins().await;
    let users = get(&app, "/api/v1/admin/users", &admin).await;
    let id_of = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for (target, body) in [
        (OWNER, json!({"role": "member"})),
        (ADMIN, json!({"role": "member"})),
        (OWNER, json!({"active": false})),
    ] {
        let path = format!("/api/v1/admin/users/{}", id_of(target));
        assert_eq!(
            call(&app, reqwest::Method::PATCH, &path, &admin, Some(body))
                .await
                .status(),
            403
        );
    }
    let path = format!("/api/v1/admin/users/{}", id_of(OWNER));
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &path, &admin, None)
            .await
            .status(),
        403
    );
}

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

#[tokio::test]
async fn activity_records_logins_failures_and_changes_newest_first() {
    let (app, _, admin) = with_admins().await;
    app.login_as(app.org, &app.username, "wrong").await;
    let (key, secret) = app.create_integration(&[]).await;
    app.integration_tokens(&key, &secret).await;
    // The audit writer stores events in the background.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, "/api/v1/admin/activity", &admin).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "login_succeeded",
        "login_failed",
        "integration_created",
        "integration_authenticated",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let ids: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let failed = get(&app, "/api/v1/admin/activity?kind=login_failed", &admin).await;
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] == "login_failed")
    );
    assert_eq!(failed[0]["subject"], app.username.as_str());
    let of_key = get(&app, &format!("/api/v1/admin/activity?who={key}"), &admin).await;
    assert!(!of_key.as_array().unwrap().is_empty());
    assert!(
        of_key
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == key || e["subject"] == key)
    );
}

#[tokio::test]
async fn a_failed_login_of_an_unknown_name_records_no_name() {
    let (app, _, admin) = with_admins().await;
    app.login_as(app.org, "My-Secret-Passw0rd", "whatever")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, "/api/v1/admin/activity?kind=login_failed", &admin).await;
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert!(
        !events
            .to_string()
            .to_lowercase()
            .contains("my-secret-passw0rd")
    );
}

#[tokio::test]
async fn console_sign_ins_appear_in_the_organizations_activity() {
    let (app, owner, _) = with_admins().await;
    let client = "127.0.0.1".parse().unwrap();
    let wrong = app
        .auth
        .console_sign_in(ADMIN, secrecy::SecretString::from("wrong-password"), client)
        .await;
    assert!(wrong.is_err());
    app.auth
        .console_sign_in(ADMIN, secrecy::SecretString::from(PASSWORD), client)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = get(&app, &format!("/api/v1/admin/activity?who={ADMIN}"), &owner).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"login_failed"), "{kinds:?}");
    assert!(kinds.contains(&"login_succeeded"), "{kinds:?}");
}
