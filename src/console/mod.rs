//! The admin console, served at `/console/`: server-rendered pages in Portuguese (Brazil),
//! English and Spanish over the same use-cases as the admin API (`auth::manage::OrgAdmin`).
//! Actions post a form with the session's CSRF token and redirect (post-redirect-get), except
//! those that show a secret or a generated password once: those answer with the page itself.

// Handlers return early with a finished page as their error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod activity;
mod assets;
pub mod i18n;
mod integrations;
mod sessions;
mod settings;
mod sign_in;
mod users;
mod view;
mod web;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};

use crate::app::AppState;

/// Every console route, under `/console`, with the hardening headers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(sign_in::page))
        .route("/console/sign-in", post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/switch", post(sign_in::switch))
        .route("/console/lang", get(sign_in::language))
        .route(
            "/console/settings",
            get(settings::page).post(settings::rename),
        )
        .route(
            "/console/integrations",
            get(integrations::page).post(integrations::create),
        )
        .route(
            "/console/integrations/{key}/rotate",
            get(integrations::confirm_rotate).post(integrations::rotate),
        )
        .route(
            "/console/integrations/{key}/revoke",
            get(integrations::confirm_revoke).post(integrations::revoke),
        )
        .route("/console/users", get(users::page).post(users::add))
        .route("/console/users/{id}/role", post(users::change_role))
        .route("/console/users/{id}/active", post(users::set_active))
        .route(
            "/console/users/{id}/remove",
            get(users::confirm_remove).post(users::remove),
        )
        .route(
            "/console/users/{id}/sessions/end",
            post(users::end_sessions),
        )
        .route("/console/sessions", get(sessions::page))
        .route("/console/sessions/{sid}/end", post(sessions::end))
        .route("/console/activity", get(activity::page))
        .route("/console/static/{file}", get(assets::serve))
        .route("/console/{*rest}", get(not_found))
        .layer(middleware::from_fn(harden))
}

async fn not_found(visit: web::Visit) -> Response {
    view::not_found(&visit)
}

/// Headers on every console response: no framing, no sniffing, nothing from elsewhere, and no
/// page kept by a cache (pages are personal, and some show a secret once).
async fn harden(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/console/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !is_asset {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
