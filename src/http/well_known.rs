//! Discovery: the JWKS (RFC 7517) and the authorization server metadata (RFC 8414).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::get_only;
use crate::auth::Auth;

pub fn router() -> Router<Arc<Auth>> {
    Router::new()
        .route("/.well-known/jwks.json", get_only(jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get_only(metadata),
        )
}

/// RFC 7517: the public signing keys (none with HS256).
#[derive(Serialize, ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

/// RFC 8414: every endpoint is the issuer followed by its path.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    grant_types_supported: [&'static str; 2],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    response_types_supported: [&'static str; 0],
}

/// Public keys of every published signing key (none with HS256). Cached briefly: a new key is
/// published minutes before it signs.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "discovery",
    responses((status = 200, description = "The published public keys.", body = Jwks,
        headers(("Cache-Control" = String, description = "`public, max-age=60`")))),
)]
async fn jwks(State(auth): State<Arc<Auth>>) -> Response {
    let keys: Vec<serde_json::Value> = auth
        .tokens()
        .ring
        .published(auth.now())
        .iter()
        .filter_map(|k| k.jwk.clone())
        .collect();
    let mut response = Json(Jwks { keys }).into_response();
    response.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}

/// The authorization server's metadata (RFC 8414).
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "discovery",
    responses((status = 200, description = "Every endpoint is the issuer followed by its path.", body = ServerMetadata)),
)]
async fn metadata(State(auth): State<Arc<Auth>>) -> Json<ServerMetadata> {
    let issuer = &auth.tokens().issuer;
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    Json(ServerMetadata {
        issuer: issuer.clone(),
        token_endpoint: format!("{issuer}/oauth/token"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        introspection_endpoint: format!("{issuer}/oauth/introspect"),
        revocation_endpoint: format!("{issuer}/oauth/revoke"),
        grant_types_supported: ["client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported: auth_methods,
        introspection_endpoint_auth_methods_supported: auth_methods,
        revocation_endpoint_auth_methods_supported: auth_methods,
        response_types_supported: [],
    })
}
