//! Liveness, readiness and the JWKS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use super::get_only;
use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get_only(healthz))
        .route("/readyz", get_only(readyz))
        .route("/.well-known/jwks.json", get_only(jwks))
}

/// The process is up.
async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// The database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    let probe =
        tokio::time::timeout(std::time::Duration::from_secs(3), state.auth.store.ping()).await;
    if matches!(probe, Ok(true)) {
        Json(json!({"status": "ok"})).into_response()
    } else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "detail": "The database is unreachable."})),
        )
            .into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(5u64),
        );
        response
    }
}

/// Public keys of every published signing key (none with HS256).
async fn jwks(State(state): State<AppState>) -> Response {
    let keys: Vec<serde_json::Value> = state
        .auth
        .tokens
        .ring
        .published(state.auth.now())
        .iter()
        .filter_map(|k| k.jwk.clone())
        .collect();
    let mut response = Json(json!({"keys": keys})).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=60"),
    );
    response
}
