//! The route table: every surface's router (the API in `http`, the admin console in `console`)
//! merged, the answer to an unknown path, and the middleware every request passes through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::http::header::{STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Auth;
use crate::http::errors;
use crate::request::MAX_BODY_BYTES;

/// The whole HTTP surface.
pub fn routes(auth: Arc<Auth>) -> Router {
    let https = auth.tokens().issuer.starts_with("https://");
    let router = Router::new()
        .merge(crate::http::router())
        .merge(crate::console::router(&auth))
        .fallback(|| async { errors::not_found() })
        .layer(middleware::from_fn_with_state(auth.clone(), watch_database))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(crate::http::i18n::translate_errors))
        .layer(middleware::from_fn(answer_within_deadline))
        .layer(middleware::from_fn_with_state(auth.clone(), log_request))
        .with_state(auth)
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

/// Records the database's "try later" errors that requests met (their 503s carry the cause, see
/// `http::errors::from_database`) in the store: the instance is unready until the database can
/// be written to again.
async fn watch_database(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(cause) = response.extensions().get::<crate::outage::Unavailable>() {
        auth.store().note_unavailable(*cause);
    }
    response
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
async fn log_request(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let response = next.run(request).await;
    auth.metrics().response(response.status().as_u16());
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
