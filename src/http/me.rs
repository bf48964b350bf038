//! `GET /api/v1/me`: who a bearer access token belongs to.

use std::sync::Arc;

use axum::extract::State;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::errors::simplejwt::BearerError;
use super::extract::AccessToken;
use super::{both_slashes, get_only};
use crate::auth::{Auth, Identity};

pub fn router() -> Router<Arc<Auth>> {
    both_slashes(Router::new(), "/api/v1/me", get_only(me))
}

async fn me(
    State(auth): State<Arc<Auth>>,
    AccessToken(token): AccessToken,
) -> Result<Json<Value>, BearerError> {
    Ok(Json(match auth.identify(&token).await? {
        Identity::User(member) => json!({
            "type": "user",
            "user_id": member.id,
            "username": member.username,
            "org_id": member.org_id,
            "role": member.role,
        }),
        Identity::Integration(integration) => json!({
            "type": "integration",
            "consumer_key": integration.consumer_key,
            "name": integration.name,
            "org_id": integration.org_id.get(),
            "scope": integration.scopes.items(),
        }),
    }))
}
