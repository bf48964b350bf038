//! The admin API's refusals: simplejwt's bodies for authentication, `{"detail"}` with the
//! status of each refused change.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::auth::admin::AdminError;
use crate::http::errors::{
    from_database, internal, json_response, simplejwt, too_large, unavailable,
};

/// Why an admin API request failed: a refused or failed use-case, or a request this API cannot
/// read.
#[derive(Debug)]
pub enum ApiError {
    /// No bearer token.
    NoCredentials,
    /// An `Authorization` header that is not one bearer token.
    BadAuthorizationHeader,
    /// A token that is not a valid access token of an open session (or a failure checking it).
    Unauthenticated(AuthError),
    /// Someone who is not an owner or admin of the token's organization.
    NotAnAdmin,
    Admin(AdminError),
    /// A body that is not the JSON asked for, with the parser's reason.
    Body(String),
    /// A change of a member that gives neither a role nor `active`.
    NothingToChange,
    /// A body over the size limit.
    TooLarge,
    /// A list's `limit`, `after` or `before` that is not one, named.
    BadPageParameter(&'static str),
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        ApiError::Admin(e)
    }
}

/// The status of a refused administrative change.
fn status(e: &AdminError) -> StatusCode {
    match e {
        AdminError::Malformed(_)
        | AdminError::BadName(_)
        | AdminError::PasswordChoiceNeeded { .. }
        | AdminError::IntegrationRevoked(_) => StatusCode::BAD_REQUEST,
        AdminError::UnknownOrganization(_)
        | AdminError::OrganizationGone
        | AdminError::UnknownUser(_)
        | AdminError::UnknownMember(_)
        | AdminError::NotMember { .. }
        | AdminError::UnknownIntegration(_)
        | AdminError::UnknownSession => StatusCode::NOT_FOUND,
        AdminError::OrganizationNameTaken(_)
        | AdminError::AlreadyMember(_)
        | AdminError::UsernameTaken(_)
        | AdminError::NotAddable
        | AdminError::ConsumerKeyCollision
        | AdminError::IntegrationAlreadyRevoked(_) => StatusCode::CONFLICT,
        AdminError::OwnersOnly(_) | AdminError::OwnMembership | AdminError::BelongsElsewhere => {
            StatusCode::FORBIDDEN
        }
        AdminError::Busy | AdminError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        failure(self)
    }
}

fn failure(e: ApiError) -> Response {
    let e = match e {
        ApiError::NoCredentials => return simplejwt::credentials_not_provided(),
        ApiError::BadAuthorizationHeader => return simplejwt::bad_authorization_header(),
        ApiError::Unauthenticated(e) => return simplejwt::bearer(e),
        ApiError::NotAnAdmin => {
            let detail = "You do not have permission to perform this action.";
            return json_response(StatusCode::FORBIDDEN, json!({"detail": detail}));
        }
        ApiError::Body(reason) => {
            let detail = format!("invalid JSON body: {reason}");
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::TooLarge => return too_large(),
        ApiError::NothingToChange => {
            let detail = "give a role or active";
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::BadPageParameter(name) => {
            let detail = format!("invalid {name}");
            return json_response(StatusCode::BAD_REQUEST, json!({"detail": detail}));
        }
        ApiError::Admin(e) => e,
    };
    match e {
        // The answer of a login when the hashing threads are all taken.
        AdminError::Busy => unavailable(1),
        AdminError::Unavailable(cause) => from_database(unavailable(5), cause),
        AdminError::Internal(e) => internal(&e),
        refused => json_response(status(&refused), json!({"detail": refused.to_string()})),
    }
}
