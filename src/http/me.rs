//! `GET /api/v1/me`: who a bearer access token belongs to (CONTRACT §7).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use super::errors::simplejwt;
use super::extract::Bearer;
use super::{both_slashes, get_only};
use crate::auth::Auth;
use crate::auth::Identity;

pub fn router() -> Router<Arc<Auth>> {
    both_slashes(Router::new(), "/api/v1/me", get_only(me))
}

async fn me(State(auth): State<Arc<Auth>>, bearer: Bearer) -> Response {
    let token = match bearer {
        Bearer::Missing => return simplejwt::credentials_not_provided(),
        Bearer::Malformed => return simplejwt::bad_authorization_header(),
        Bearer::Token(token) => token,
    };
    match auth.identify(&token).await {
        Ok(Identity::User(member)) => Json(json!({
            "type": "user",
            "user_id": member.id,
            "username": member.username,
            "org_id": member.org_id,
            "role": member.role,
        }))
        .into_response(),
        Ok(Identity::Integration(integration)) => Json(json!({
            "type": "integration",
            "consumer_key": integration.consumer_key,
            "name": integration.name,
            "org_id": integration.org_id.get(),
            "scope": integration.scopes.items(),
        }))
        .into_response(),
        Err(e) => simplejwt::bearer(e),
    }
}
