//! HTTP: one module per dialect or resource, each with its own `router()`, merged here. Handlers
//! extract, call one `auth` function, and map its result to the dialect's body.

// Handlers return early with a finished `Response` as their error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod admin;
mod errors;
pub mod extract;
mod health;
pub mod i18n;
mod integration;
mod me;
pub mod oauth;
pub mod serve;
mod user_login;
mod well_known;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::header::{STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let https = state.auth.tokens.issuer.starts_with("https://");
    let router = Router::new()
        .merge(user_login::router())
        .merge(me::router())
        .merge(admin::router())
        .merge(crate::console::router())
        .merge(integration::router())
        .merge(oauth::router())
        .merge(well_known::router())
        .merge(health::router())
        .fallback(|| async { errors::not_found() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            health::watch_database,
        ))
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(middleware::from_fn(i18n::translate_errors))
        .layer(middleware::from_fn(answer_within_deadline))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
        // Outermost, so that every answer has them: errors, 404s, 405s, 413s and timeouts too.
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    if https {
        // Only an https:// issuer says the service is reached over TLS (at a proxy); HSTS on a
        // plain-HTTP deployment would lock browsers out of it for a year.
        router.layer(SetResponseHeaderLayer::overriding(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    }
}

/// Serves `path` with and without its trailing slash.
fn both_slashes(
    router: Router<AppState>,
    path: &str,
    route: MethodRouter<AppState>,
) -> Router<AppState> {
    router
        .route(path, route.clone())
        .route(&format!("{path}/"), route)
}

/// A POST-only route; other methods get simplejwt's 405 body.
fn post_only<H: Handler<T, AppState>, T: 'static>(handler: H) -> MethodRouter<AppState> {
    post(handler)
        .fallback(|method: Method| async move { errors::method_not_allowed(&method, "POST") })
}

/// A GET-only route (HEAD included); other methods get a 405 body.
fn get_only<H: Handler<T, AppState>, T: 'static>(handler: H) -> MethodRouter<AppState> {
    get(handler)
        .fallback(|method: Method| async move { errors::method_not_allowed(&method, "GET, HEAD") })
}

/// No request may hang: whatever it waits for (a database that stopped answering, most likely),
/// after this long it is answered 503 with `Retry-After`.
const REQUEST_DEADLINE: Duration = Duration::from_millis(4500);

async fn answer_within_deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request timed out");
            errors::unavailable(5)
        }
    }
}

/// One line per request. The path is logged without its query string, which may carry a token.
async fn log_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let response = next.run(request).await;
    state.auth.metrics.response(response.status().as_u16());
    tracing::info!(
        target: "porteiro::request",
        %method,
        path = %truncate(&path, 200),
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        peer,
        "request"
    );
    response
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
