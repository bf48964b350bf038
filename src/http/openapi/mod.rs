//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations and the wire
//! types (`utoipa`), served at `GET /openapi.json` and committed as `docs/openapi.json` (a test
//! fails when the two differ; `UPDATE_OPENAPI=1 cargo test --test api openapi` rewrites the copy).

pub mod admin;
mod responses;
pub mod schemas;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::get_only;
use crate::auth::Auth;

pub use responses::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Porteiro",
        description = "A self-hosted token service for multi-tenant APIs: the simplejwt user-login \
            dialect, the integration dialect (`POST /auth`), OAuth 2, `/api/v1/me`, the admin API, \
            discovery and health. The simplejwt paths are also served without their trailing slash, \
            `/auth` and `/auth/refresh` and `/api/v1/me` also with one. Any other method on a \
            documented path is answered 405 with an `Allow` header, in the path's dialect; every \
            answer to a request that waited more than 4.5 seconds is 503 with `Retry-After`; an \
            internal failure is an opaque 500 in the path's error shape.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::user_login::obtain,
        super::user_login::refresh,
        super::user_login::verify,
        super::user_login::blacklist,
        super::integration::obtain,
        super::integration::refresh_by_query,
        super::integration::refresh_by_body,
        super::oauth::token,
        super::oauth::introspect,
        super::oauth::revoke,
        super::me::me,
        super::admin::organization,
        super::admin::rename,
        super::admin::organizations,
        super::admin::integrations,
        super::admin::create_integration,
        super::admin::revoke_integration,
        super::admin::rotate_secret,
        super::admin::members::users,
        super::admin::members::add_user,
        super::admin::members::change_user,
        super::admin::members::remove_user,
        super::admin::members::end_user_sessions,
        super::admin::sessions::sessions,
        super::admin::sessions::end_session,
        super::admin::sessions::activity,
        super::well_known::jwks,
        super::well_known::metadata,
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        openapi_json,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "simplejwt", description = "User login: simplejwt's token, refresh, verify and blacklist."),
        (name = "integration", description = "Machine clients: `POST /auth` with a consumer key and secret key."),
        (name = "oauth", description = "OAuth 2: token endpoint, introspection (RFC 7662), revocation (RFC 7009)."),
        (name = "me", description = "Who a bearer access token belongs to."),
        (name = "admin", description = "The admin API, for an access token of an owner or admin of the token's organization."),
        (name = "discovery", description = "JWKS (RFC 7517) and authorization server metadata (RFC 8414)."),
        (name = "health", description = "Liveness, readiness, Prometheus metrics and this document."),
    ),
)]
struct Document;

/// The security schemes the operations name: a bearer access token (`/api/v1/me`, the admin
/// API) and HTTP Basic client credentials (OAuth; `client_secret_post` is the form's fields).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from a login (either dialect or OAuth).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_secret_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The consumer key and secret key of an integration (RFC 6749 §2.3.1).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    Document::openapi()
}

/// The document as the committed `docs/openapi.json` holds it: pretty-printed, ending in a
/// newline. Paths, schemas and properties are in sorted order, so the text is stable.
pub fn document_json() -> String {
    let mut text = document()
        .to_pretty_json()
        .unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

pub fn router() -> Router<Arc<Auth>> {
    Router::new().route("/openapi.json", get_only(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object)),
)]
async fn openapi_json() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document_json(),
    )
        .into_response()
}
