//! Liveness, readiness and the JWKS.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;

use super::get_only;
use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get_only(healthz))
        .route("/readyz", get_only(readyz))
        .route("/metrics", get_only(metrics))
}

/// The process is up.
async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Records the database's "try later" errors that requests met (their 503s carry the cause, see
/// `errors::from_database`) in the store: the instance is unready until the database can be
/// written to again.
pub async fn watch_database(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(cause) = response.extensions().get::<crate::store::Unavailable>() {
        state.auth.store().note_unavailable(*cause);
    }
    response
}

/// The database answers, and no "try later" error of it is under way (a full disk answers
/// `SELECT 1`: during such an episode a probe write decides, see `Store::ready`).
async fn readyz(State(state): State<AppState>) -> Response {
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        state.auth.store().ready(),
    )
    .await;
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

/// Prometheus text: counters since start, and a few gauges read now.
async fn metrics(State(state): State<AppState>) -> Response {
    let auth = &state.auth;
    let probe = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        auth.store().trouble().is_none() && auth.store().ping().await
    })
    .await;
    let gauges = crate::metrics::Gauges {
        hashing_in_flight: auth.hashing_in_flight(),
        ended_sessions_remembered: auth.ended_sessions_remembered(),
        signing_keys_published: auth.tokens().ring.published(auth.now()).len(),
        database_up: matches!(probe, Ok(true)),
    };
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        auth.metrics().render(&gauges),
    )
        .into_response()
}
