//! `GET /api/v1/me`: who a bearer access token belongs to.

use std::sync::Arc;

use axum::extract::State;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::simplejwt::BearerError;
use super::extract::AccessToken;
use super::openapi::{BearerRefused, Unavailable};
use super::{both_slashes, get_only};
use crate::auth::{Auth, Identity};

pub fn router() -> Router<Arc<Auth>> {
    both_slashes(Router::new(), "/api/v1/me", get_only(me))
}

/// Who a token belongs to: `{"type": "user", …}` or `{"type": "integration", …}`, `type` first.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Me {
    User {
        user_id: i64,
        username: String,
        org_id: i64,
        /// `owner`, `admin` or `member`.
        role: String,
    },
    Integration {
        consumer_key: String,
        name: String,
        org_id: i64,
        /// The scopes the token carries, which may be fewer than the integration has.
        scope: Vec<String>,
    },
}

/// Who the bearer access token belongs to.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's user or integration.", body = Me),
        BearerRefused, Unavailable,
    ),
)]
async fn me(
    State(auth): State<Arc<Auth>>,
    AccessToken(token): AccessToken,
) -> Result<Json<Me>, BearerError> {
    Ok(Json(match auth.identify(&token).await? {
        Identity::User(member) => Me::User {
            user_id: member.id,
            username: member.username,
            org_id: member.org_id,
            role: member.role,
        },
        Identity::Integration(integration) => Me::Integration {
            consumer_key: integration.consumer_key,
            name: integration.name,
            org_id: integration.org_id.get(),
            scope: integration.scopes.items().to_vec(),
        },
    }))
}
