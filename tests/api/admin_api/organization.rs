//! `/api/v1/admin/organization`: the token's organization, renamed by an owner only.

use serde_json::json;

use super::{call, get, with_admins};
use crate::helpers::*;

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
