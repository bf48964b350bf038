//! Schemas of the bodies that handlers build as JSON values (error bodies, OAuth answers, the
//! admin API's records): the wire shapes, written once as types so the document can name them.
//! The schemathesis run (scripts/schemathesis) checks every answer against them.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

// --- shared and simplejwt ---------------------------------------------------------------------

/// `{"detail": …}`: the simplejwt dialect's error, also the admin API's, the health and the
/// shared 404, 405, 413, 500 and 503 answers. Bearer failures add `code` and `messages`.
#[derive(Serialize, ToSchema)]
pub struct Detail {
    pub detail: String,
    /// `token_not_valid` or `bad_authorization_header`.
    pub code: Option<String>,
    pub messages: Option<Vec<TokenMessage>>,
}

/// One entry of `messages` in a `token_not_valid` answer.
#[derive(Serialize, ToSchema)]
pub struct TokenMessage {
    pub token_class: String,
    pub token_type: String,
    pub message: String,
}

/// `{"<field>": ["<message>"]}`: every failing field at once (`non_field_errors` for a body
/// that is not an object).
#[derive(Serialize, ToSchema)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// `{"message": "Rate limit exceeded"}`: a user login refused while locked out.
#[derive(Serialize, ToSchema)]
pub struct RateLimited {
    pub message: String,
}

/// A simplejwt 400: invalid fields, an unreadable body, or a lockout.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SimpleJwtBadRequest {
    Fields(FieldErrors),
    Detail(Detail),
    RateLimited(RateLimited),
}

/// `{"username", "password"}`.
#[derive(Serialize, ToSchema)]
pub struct UserCredentials {
    pub username: String,
    pub password: String,
}

/// `{"refresh": "<jwt>"}`.
#[derive(Serialize, ToSchema)]
pub struct RefreshTokenField {
    pub refresh: String,
}

/// `{"token": "<jwt>"}`.
#[derive(Serialize, ToSchema)]
pub struct TokenField {
    pub token: String,
}

/// `{}`.
#[derive(Serialize, ToSchema)]
pub struct Empty {}

// --- the integration dialect ------------------------------------------------------------------

/// `{"consumer_key", "secret_key"}`.
#[derive(Serialize, ToSchema)]
pub struct IntegrationCredentials {
    /// A UUID.
    pub consumer_key: String,
    pub secret_key: String,
}

/// `{"refresh_token": "<jwt>"}`.
#[derive(Serialize, ToSchema)]
pub struct IntegrationRefresh {
    pub refresh_token: String,
}

/// The integration dialect's error: `{"status", "title", "detail", "validation"}`.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    pub status: u16,
    pub title: String,
    pub detail: String,
    /// Each failing field, or null.
    #[schema(required)]
    pub validation: Option<Vec<FieldProblem>>,
}

/// One failing field of a [`Problem`].
#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

// --- OAuth 2 ----------------------------------------------------------------------------------

/// The grant types of the token endpoint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
    RefreshToken,
}

/// The token endpoint's form. The client authenticates with HTTP Basic or with `client_id` and
/// `client_secret` here, never both.
#[derive(Serialize, ToSchema)]
pub struct TokenRequest {
    pub grant_type: GrantType,
    /// Space-separated; at most the client's scopes.
    pub scope: Option<String>,
    /// Required with `grant_type=refresh_token`.
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// RFC 8707: the one resource server the access token is for. Read under the RFC 9068
    /// profile only (`--oauth-token-profile rfc9068`), where it must be the default audience or
    /// one of `--oauth-resources`; otherwise ignored.
    pub resource: Option<String>,
}

/// The form of introspection and revocation.
#[derive(Serialize, ToSchema)]
pub struct TokenLookup {
    pub token: String,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    /// With `grant_type=refresh_token` only: the rotated refresh token.
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// RFC 7662: `{"active": false}`, or the token's claims.
#[derive(Serialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    /// `Bearer` or `refresh_token`.
    pub token_type: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub sub: Option<String>,
    pub iss: Option<String>,
    /// RFC 9068 access tokens only: the resource server the token is for.
    pub aud: Option<String>,
    pub jti: Option<String>,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// RFC 6749 §5.2: `{"error", "error_description"}`.
#[derive(Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `invalid_scope`, `invalid_target`,
    /// `unsupported_grant_type`, `slow_down`, `temporarily_unavailable` or `server_error`.
    pub error: String,
    pub error_description: String,
}
