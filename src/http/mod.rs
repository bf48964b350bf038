//! The API: one module per dialect or resource, each with its own `router()`, merged by
//! [`router`]; the console is its sibling, and `app` mounts both. Handlers extract, call one
//! `auth` function, and map its result to the dialect's body (`errors`).

mod admin;
pub mod errors;
pub mod extract;
mod health;
pub mod i18n;
mod integration;
mod me;
pub mod oauth;
pub mod openapi;
mod user_login;
mod well_known;

use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};

use crate::auth::Auth;

/// Every API route: the dialects, the admin API, discovery and health. The route table in `app`
/// mounts it beside the console, with the fallback and the middleware.
pub fn router() -> Router<Arc<Auth>> {
    Router::new()
        .merge(user_login::router())
        .merge(me::router())
        .merge(admin::router())
        .merge(integration::router())
        .merge(oauth::router())
        .merge(well_known::router())
        .merge(health::router())
        .merge(openapi::router())
}

/// Serves `path` with and without its trailing slash.
fn both_slashes(
    router: Router<Arc<Auth>>,
    path: &str,
    route: MethodRouter<Arc<Auth>>,
) -> Router<Arc<Auth>> {
    router
        .route(path, route.clone())
        .route(&format!("{path}/"), route)
}

/// A POST-only route; other methods get simplejwt's 405 body.
fn post_only<H: Handler<T, Arc<Auth>>, T: 'static>(handler: H) -> MethodRouter<Arc<Auth>> {
    post(handler)
        .fallback(|method: Method| async move { errors::method_not_allowed(&method, "POST") })
}

/// A GET-only route (HEAD included); other methods get a 405 body.
fn get_only<H: Handler<T, Arc<Auth>>, T: 'static>(handler: H) -> MethodRouter<Arc<Auth>> {
    get(handler)
        .fallback(|method: Method| async move { errors::method_not_allowed(&method, "GET, HEAD") })
}
