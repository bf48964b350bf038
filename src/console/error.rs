//! The console's one error type: why a request gets no page of its own, and what it is answered
//! instead — a redirect to sign-in, a page with one message (403, 404, 500, 503 with
//! `Retry-After`), or a form shown again with its notice — in the visitor's language.
//!
//! `IntoResponse` has no request to read the language from, so an answer is finished in two
//! steps: [`ConsoleError::into_response`] logs what must be logged and sets the rest aside in the
//! response's extensions, and [`answer_failures`], a layer around every console route, renders it
//! for the request's [`Visit`].

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::sign_in::{self, SignInRefusal};
use super::view::message;
use super::web::{SESSION_COOKIE, Visit, see_other, with_cookie};
use crate::auth::admin::AdminError;
use crate::auth::{Auth, AuthError};
use crate::outage::Unavailable;

/// Why a console request was not answered with the page it asked for.
#[derive(Debug)]
pub enum ConsoleError {
    /// No console session: to the sign-in form.
    SignIn,
    /// A session cookie without a live session behind it (idle too long, or ended elsewhere): to
    /// the sign-in form with a notice, the cookie cleared.
    SessionExpired,
    /// Someone no longer an owner or admin of the session's organization, now signed out: to the
    /// sign-in form with a notice, the cookie cleared.
    LostAccess,
    /// A form without the CSRF token it must carry: 403.
    FormExpired,
    /// An organization this user does not administer: 403.
    Forbidden,
    /// 404.
    NotFound,
    /// A refused sign-in: the form again with why, keeping the username typed.
    SignInRefused {
        why: SignInRefusal,
        username: String,
    },
    /// A refused action: its page again with the refusal's notice. The handler renders it, since
    /// it shows what the organization holds.
    Refused(Box<Response>),
    /// A failed session use-case: 503 while the database is away or the hashing threads are all
    /// taken, else 500 (logged, opaque).
    Auth(AuthError),
    /// A failed administration use-case: what vanished meanwhile is 404, the database away 503,
    /// anything else 500 (logged, opaque).
    Admin(AdminError),
}

impl ConsoleError {
    /// An action's page shown again with its refusal.
    pub fn refused(page: Response) -> Self {
        ConsoleError::Refused(Box::new(page))
    }
}

impl From<AuthError> for ConsoleError {
    fn from(e: AuthError) -> Self {
        ConsoleError::Auth(e)
    }
}

impl From<AdminError> for ConsoleError {
    fn from(e: AdminError) -> Self {
        ConsoleError::Admin(e)
    }
}

/// What to tell the user when a use-case refuses, by kind of refusal, in the words of the action.
pub struct Refusals {
    pub invalid: &'static str,
    pub not_found: &'static str,
    pub duplicate: &'static str,
    pub forbidden: &'static str,
}

/// The status and message for a refused action; a failure is no refusal, and stays an error.
pub fn refusal(e: AdminError, words: Refusals) -> Result<(StatusCode, &'static str), ConsoleError> {
    match e {
        AdminError::Malformed(_)
        | AdminError::BadName(_)
        | AdminError::PasswordChoiceNeeded { .. }
        | AdminError::IntegrationRevoked(_) => Ok((StatusCode::BAD_REQUEST, words.invalid)),
        AdminError::UnknownOrganization(_)
        | AdminError::OrganizationGone
        | AdminError::UnknownUser(_)
        | AdminError::UnknownMember(_)
        | AdminError::NotMember { .. }
        | AdminError::UnknownIntegration(_)
        | AdminError::UnknownSession => Ok((StatusCode::NOT_FOUND, words.not_found)),
        AdminError::OrganizationNameTaken(_)
        | AdminError::AlreadyMember(_)
        | AdminError::UsernameTaken(_)
        | AdminError::NotAddable
        | AdminError::ConsumerKeyCollision
        | AdminError::IntegrationAlreadyRevoked(_) => Ok((StatusCode::CONFLICT, words.duplicate)),
        AdminError::OwnersOnly(_) | AdminError::OwnMembership | AdminError::BelongsElsewhere => {
            Ok((StatusCode::FORBIDDEN, words.forbidden))
        }
        e @ (AdminError::Busy | AdminError::Unavailable(_) | AdminError::Internal(_)) => {
            Err(e.into())
        }
    }
}

/// What is left of a [`ConsoleError`] to render once the visitor is known. Response extensions
/// hold only `Clone` values, so causes are logged before and not kept.
#[derive(Clone)]
enum Unrendered {
    SessionExpired,
    LostAccess,
    FormExpired,
    Forbidden,
    NotFound,
    SignInRefused {
        why: SignInRefusal,
        username: String,
    },
    /// The database's cause, for the middleware that keeps the instance unready meanwhile.
    Unavailable(Option<Unavailable>),
    Internal,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let unrendered = match self {
            ConsoleError::SignIn => return see_other("/console/"),
            ConsoleError::Refused(page) => return *page,
            ConsoleError::SessionExpired => Unrendered::SessionExpired,
            ConsoleError::LostAccess => Unrendered::LostAccess,
            ConsoleError::FormExpired => Unrendered::FormExpired,
            ConsoleError::Forbidden => Unrendered::Forbidden,
            ConsoleError::NotFound => Unrendered::NotFound,
            ConsoleError::SignInRefused { why, username } => {
                Unrendered::SignInRefused { why, username }
            }
            ConsoleError::Auth(AuthError::Busy) => Unrendered::Unavailable(None),
            ConsoleError::Auth(AuthError::Unavailable(cause)) => {
                Unrendered::Unavailable(Some(cause))
            }
            ConsoleError::Auth(AuthError::Internal(e)) => internal(&e),
            ConsoleError::Auth(other) => internal(&anyhow::anyhow!("unexpected: {other}")),
            ConsoleError::Admin(e) => match e {
                AdminError::Busy => Unrendered::Unavailable(None),
                AdminError::Unavailable(cause) => Unrendered::Unavailable(Some(cause)),
                AdminError::Internal(e) => internal(&e),
                AdminError::UnknownOrganization(_)
                | AdminError::OrganizationGone
                | AdminError::UnknownUser(_)
                | AdminError::UnknownMember(_)
                | AdminError::NotMember { .. }
                | AdminError::UnknownIntegration(_)
                | AdminError::UnknownSession => Unrendered::NotFound,
                other => internal(&anyhow::anyhow!("unexpected: {other}")),
            },
        };
        // Replaced by the layer; a route outside it would answer a bare 500, never a leak.
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(unrendered);
        response
    }
}

fn internal(e: &anyhow::Error) -> Unrendered {
    tracing::error!(error = format!("{e:#}"), "internal error");
    Unrendered::Internal
}

impl Unrendered {
    fn render(self, visit: &Visit) -> Response {
        let t = visit.t();
        match self {
            Unrendered::SessionExpired => with_cookie(
                see_other("/console/?note=expired"),
                visit.clear_cookie(SESSION_COOKIE),
            ),
            Unrendered::LostAccess => with_cookie(
                see_other("/console/?note=lost_access"),
                visit.clear_cookie(SESSION_COOKIE),
            ),
            Unrendered::FormExpired => {
                message(visit, StatusCode::FORBIDDEN, t.error, t.form_expired)
            }
            Unrendered::Forbidden => message(visit, StatusCode::FORBIDDEN, t.error, t.lost_access),
            Unrendered::NotFound => message(visit, StatusCode::NOT_FOUND, t.error, t.not_found),
            Unrendered::SignInRefused { why, username } => sign_in::refused(visit, why, &username),
            Unrendered::Unavailable(cause) => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                let mut response = message(visit, status, t.error, t.unavailable);
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("5"));
                if let Some(cause) = cause {
                    response.extensions_mut().insert(cause);
                }
                response
            }
            Unrendered::Internal => message(
                visit,
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error,
                t.internal_error,
            ),
        }
    }
}

/// The layer that finishes a [`ConsoleError`]'s answer in the visitor's language. It reads the
/// [`Visit`] once and leaves it in the request for the handler's extractors.
pub async fn answer_failures(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(visit) = Visit::from_request_parts(&mut parts, &auth).await;
    parts.extensions.insert(visit.clone());
    let mut response = next.run(Request::from_parts(parts, body)).await;
    match response.extensions_mut().remove::<Unrendered>() {
        Some(unrendered) => unrendered.render(&visit),
        None => response,
    }
}
