//! The admin console, served at `/console/`: server-rendered pages in Portuguese (Brazil),
//! English and Spanish over the same use-cases as the admin API.

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
