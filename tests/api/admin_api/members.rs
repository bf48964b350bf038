//! `/api/v1/admin/users`: adding, changing, disabling and removing members, and what an admin
//! may not do to an owner or to themselves.

use porteiro::domain::Role;
use serde_json::{Value, json};

use super::{ADMIN, OWNER, call, get, with_admins};
use crate::helpers::*;

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
