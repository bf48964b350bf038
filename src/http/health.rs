//! Liveness, readiness and the Prometheus metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::get_only;
use crate::auth::Auth;

pub fn router() -> Router<Arc<Auth>> {
    Router::new()
        .route("/healthz", get_only(healthz))
        .route("/readyz", get_only(readyz))
        .route("/metrics", get_only(metrics))
}

/// `{"status": "ok"}`, or `unavailable` with a `detail`.
#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'static str>,
}

const OK: HealthStatus = HealthStatus {
    status: "ok",
    detail: None,
};

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = HealthStatus)),
)]
async fn healthz() -> Json<HealthStatus> {
    Json(OK)
}

/// Whether the database answers.
///
/// The database answers, and no "try later" error of it is under way (a full disk answers
/// `SELECT 1`: during such an episode a probe write decides, see `Store::ready`).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`", body = HealthStatus),
        (status = 503, description = "The database cannot be used.", body = HealthStatus,
            headers(("Retry-After" = u64, description = "Whole seconds."))),
    ),
)]
async fn readyz(State(auth): State<Arc<Auth>>) -> Response {
    let probe =
        tokio::time::timeout(std::time::Duration::from_secs(3), auth.database_ready()).await;
    if matches!(probe, Ok(true)) {
        Json(OK).into_response()
    } else {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthStatus {
                status: "unavailable",
                detail: Some("The database is unreachable."),
            }),
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
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses((status = 200, description = "Every metric name starts with `porteiro_`.", body = String,
        content_type = "text/plain; version=0.0.4")),
)]
async fn metrics(State(auth): State<Arc<Auth>>) -> Response {
    let probe = tokio::time::timeout(std::time::Duration::from_secs(2), auth.database_up()).await;
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
