//! OAuth 2: the token endpoint (client credentials, refresh token), introspection
//! (RFC 7662) and revocation (RFC 7009). Clients authenticate with HTTP Basic or with
//! `client_id` and `client_secret` in the form body; the client id is the consumer key.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::errors::oauth::{self, Error};
use super::extract::ClientAddr;
use super::openapi::OAuthUnavailable;
use super::openapi::schemas::{Detail, Introspection as IntrospectionBody, OAuthError};
use super::openapi::schemas::{TokenLookup, TokenRequest, TokenResponse};
use crate::auth::Auth;
use crate::auth::{ClientAuth, Introspection};
use crate::domain::{Integration, Scopes, SecretKey};
use crate::request::{Body, BodyError, Fields};
use crate::tokens::TokenType;

/// The OAuth endpoints.
pub fn router() -> Router<Arc<Auth>> {
    Router::new()
        .route("/oauth/token", post_only(token))
        .route("/oauth/introspect", post_only(introspect))
        .route("/oauth/revoke", post_only(revoke))
}

fn post_only<H: axum::handler::Handler<T, Arc<Auth>>, T: 'static>(
    handler: H,
) -> MethodRouter<Arc<Auth>> {
    post(handler).fallback(|method: Method| async move {
        let mut response = oauth::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            &format!("Method \"{method}\" not allowed."),
        );
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, HeaderValue::from_static("POST"));
        response
    })
}

/// The form body of an OAuth request; anything else is `invalid_request`.
fn form(headers: &HeaderMap, body: Body) -> Result<Fields, Error> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    match body.0 {
        Err(BodyError::TooLarge) => Err(Error::TooLarge),
        Ok(fields) if is_form => Ok(fields),
        _ => Err(Error::NotAForm),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component, as RFC 6749 §2.3.1 encodes the
/// client id and secret inside HTTP Basic.
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client's credentials: HTTP Basic, or `client_id` and `client_secret` in the body — one
/// method only. Public for the fuzz targets.
pub fn client_credentials_of(headers: &HeaderMap, fields: &Fields) -> Result<ClientAuth, Error> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, value)| value.trim().to_owned());
    let in_body = fields.has("client_secret");
    match basic {
        Some(_) if in_body => Err(Error::TwoClientAuthentications),
        Some(encoded) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(Error::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(Error::InvalidClient)?;
            Ok(ClientAuth {
                client_id: form_decode(id),
                client_secret: SecretKey::from_presented(form_decode(secret)),
            })
        }
        None => match (fields.string("client_id"), fields.string("client_secret")) {
            (Ok(id), Ok(secret)) => Ok(ClientAuth {
                client_id: id,
                client_secret: SecretKey::from_presented(secret),
            }),
            _ => Err(Error::InvalidClient),
        },
    }
}

async fn authenticated(
    auth: &Auth,
    headers: &HeaderMap,
    fields: &Fields,
    client: IpAddr,
    for_tokens: bool,
) -> Result<Integration, Error> {
    let credentials = client_credentials_of(headers, fields)?;
    Ok(auth
        .authenticate_client(&credentials, client, for_tokens)
        .await?)
}

/// A required string field.
fn required(fields: &Fields, name: &'static str) -> Result<String, Error> {
    fields.string(name).map_err(|_| Error::Missing(name))
}

/// The scopes asked for, if any. A `scope` that is present must name scopes: blank or malformed
/// is refused, never widened.
fn requested_scopes(fields: &Fields) -> Result<Option<Scopes>, Error> {
    if !fields.has("scope") {
        return Ok(None);
    }
    let scope = fields.string("scope").map_err(|_| Error::MalformedScope)?;
    match Scopes::parse(&[scope]) {
        Ok(scopes) if !scopes.is_empty() => Ok(Some(scopes)),
        _ => Err(Error::MalformedScope),
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Tokens for a client: the client credentials grant, or a refresh token issued by `POST /auth`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    request_body(content((TokenRequest = "application/x-www-form-urlencoded"))),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "An access token (and with `refresh_token`, a rotated refresh token).", body = TokenResponse, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        (status = 400, description = "`invalid_request` (not a form, a missing field, two client authentications), `unsupported_grant_type`, `invalid_grant`, `invalid_scope`, or `invalid_target` (under the RFC 9068 profile: a `resource` not allowed, not an absolute URI, or more than one).", body = OAuthError, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`invalid_client`: no, unreadable or wrong client credentials, an unknown or revoked client.", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"porteiro\"`"))),
        (status = 429, description = "`slow_down`: locked out.", body = OAuthError,
            headers(("Retry-After" = u64, description = "Whole seconds."))),
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        OAuthUnavailable,
    ),
)]
async fn token(
    State(auth): State<Arc<Auth>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let fields = form(&headers, body)?;
    let grant_type = required(&fields, "grant_type")?;
    if grant_type != "client_credentials" && grant_type != "refresh_token" {
        return Err(Error::UnsupportedGrantType);
    }
    let requested = requested_scopes(&fields)?;
    let refresh_token = if grant_type == "refresh_token" {
        Some(required(&fields, "refresh_token")?)
    } else {
        None
    };
    // RFC 8707 resource indicators: they shape the token under the RFC 9068 profile only.
    let resources = fields.every("resource");
    let integration = authenticated(&auth, &headers, &fields, client, true).await?;
    let (pair, scopes) = match refresh_token {
        None => {
            auth.client_credentials(&integration, requested, &resources, client)
                .await?
        }
        Some(token) => {
            let pair = auth
                .refresh_oauth_client(&token, &integration, &resources)
                .await?;
            (pair, integration.scopes.clone())
        }
    };
    let mut body = Map::new();
    body.insert("access_token".into(), json!(pair.access));
    body.insert("token_type".into(), json!("Bearer"));
    let lifetime = auth.session_settings().integration.access;
    body.insert("expires_in".into(), json!(lifetime));
    if let Some(refresh) = pair.refresh {
        body.insert("refresh_token".into(), json!(refresh));
    }
    if !scopes.is_empty() {
        body.insert("scope".into(), json!(scopes.joined()));
    }
    Ok(no_store(Json(Value::Object(body)).into_response()))
}

fn introspection_body(found: Option<Introspection>) -> Value {
    let Some(Introspection { claims, username }) = found else {
        return json!({"active": false});
    };
    let mut body = Map::new();
    body.insert("active".into(), json!(true));
    body.insert(
        "scope".into(),
        json!(claims.scope.clone().unwrap_or_default()),
    );
    if let Some(client_id) = &claims.client_id {
        body.insert("client_id".into(), json!(client_id));
    }
    if let Some(username) = username {
        body.insert("username".into(), json!(username));
    }
    let token_type = match claims.token_type {
        TokenType::Access => "Bearer",
        TokenType::Refresh => "refresh_token",
    };
    body.insert("token_type".into(), json!(token_type));
    body.insert("exp".into(), json!(claims.exp));
    body.insert("iat".into(), json!(claims.iat));
    body.insert("sub".into(), json!(claims.sub));
    body.insert("iss".into(), json!(claims.iss));
    body.insert("jti".into(), json!(claims.jti));
    if let Some(aud) = &claims.aud {
        body.insert("aud".into(), json!(aud));
    }
    body.insert("org_id".into(), json!(claims.org_id));
    if let Some(user_id) = claims.user_id {
        body.insert("user_id".into(), json!(user_id));
    }
    Value::Object(body)
}

/// What introspection and revocation both begin with: the form body, the client authenticated
/// (for a look at tokens, not for new ones), then the `token` to act on.
async fn client_and_token(
    auth: &Auth,
    client: IpAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Integration, String), Error> {
    let fields = form(headers, body)?;
    let integration = authenticated(auth, headers, &fields, client, false).await?;
    let token = required(&fields, "token")?;
    Ok((integration, token))
}

/// Introspect a token of the client's organization (RFC 7662).
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "oauth",
    request_body(content((TokenLookup = "application/x-www-form-urlencoded"))),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "`{\"active\": false}`, or the token's claims.", body = IntrospectionBody, headers(("Cache-Control" = String, description = "`no-store`"), ("Pragma" = String, description = "`no-cache`"))),
        (status = 400, description = "`invalid_request`: not a form, no `token`, two client authentications.", body = OAuthError, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`invalid_client`: no, unreadable or wrong client credentials, an unknown or revoked client.", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"porteiro\"`"))),
        (status = 429, description = "`slow_down`: locked out.", body = OAuthError,
            headers(("Retry-After" = u64, description = "Whole seconds."))),
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        OAuthUnavailable,
    ),
)]
async fn introspect(
    State(auth): State<Arc<Auth>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let (integration, token) = client_and_token(&auth, client, &headers, body).await?;
    let found = auth.introspect(&integration, &token).await?;
    Ok(no_store(Json(introspection_body(found)).into_response()))
}

/// Revoke one of the client's tokens, ending its session (RFC 7009).
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    request_body(content((TokenLookup = "application/x-www-form-urlencoded"))),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or not a token of this client: nothing happens."),
        (status = 400, description = "`invalid_request`: not a form, no `token`, two client authentications.", body = OAuthError, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`invalid_client`: no, unreadable or wrong client credentials, an unknown or revoked client.", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"porteiro\"`"))),
        (status = 429, description = "`slow_down`: locked out.", body = OAuthError,
            headers(("Retry-After" = u64, description = "Whole seconds."))),
        (status = 413, description = "A body over 64 KiB.", body = Detail),
        OAuthUnavailable,
    ),
)]
async fn revoke(
    State(auth): State<Arc<Auth>>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, Error> {
    let (integration, token) = client_and_token(&auth, client, &headers, body).await?;
    auth.revoke_token(&integration, &token).await?;
    Ok(StatusCode::OK)
}
