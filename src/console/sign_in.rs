//! Signing in and out, switching organization, and choosing the language.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use secrecy::SecretString;

use super::error::ConsoleError;
use super::extract::{Form, Signed};
use super::i18n::Text;
use super::view::{self, Frame, Notice};
use super::web::{CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE, Visit, see_other, with_cookie};
use crate::auth::Auth;
use crate::auth::AuthError;
use crate::auth::console_sessions::SignInError;
use crate::domain::OrgId;
use crate::i18n::Lang;
use crate::tokens::claims::random_id;

/// The language cookie lasts a year.
const LANG_COOKIE_SECONDS: i64 = 365 * 24 * 60 * 60;

#[derive(Template)]
#[template(path = "sign_in.html", config = "src/console/askama.toml")]
struct SignInPage<'a> {
    t: &'static Text,
    frame: Frame,
    notice: Option<Notice>,
    csrf: &'a str,
    username: &'a str,
}

/// `GET /console/`: the sign-in form, or the console for someone already signed in.
pub async fn page(
    State(auth): State<Arc<Auth>>,
    visit: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    if let Some(token) = visit.cookie(SESSION_COOKIE)
        && auth.console_user(token).await?.is_some()
    {
        return Ok(see_other("/console/settings"));
    }
    let t = visit.t();
    let notice = match query.get("note").map(String::as_str) {
        Some("expired") => Notice::error(t.session_expired),
        Some("lost_access") => Notice::error(t.lost_access),
        Some("signed_out") => Notice::done(t.signed_out),
        _ => None,
    };
    let mut response = form(&visit, StatusCode::OK, notice, "");
    if visit.cookie(SESSION_COOKIE).is_some() {
        response = with_cookie(response, visit.clear_cookie(SESSION_COOKIE));
    }
    Ok(response)
}

/// The sign-in form with a double-submit CSRF token: the same random value in a Strict cookie
/// and in the form, which another site can neither read nor set.
fn form(visit: &Visit, status: StatusCode, notice: Option<Notice>, username: &str) -> Response {
    // Reuse the browser's token when it has a well-formed one, so that two open tabs both work.
    let csrf = visit
        .cookie(CSRF_COOKIE)
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_id, str::to_owned);
    let page = SignInPage {
        t: visit.t(),
        frame: Frame::new(visit),
        notice,
        csrf: &csrf,
        username,
    };
    with_cookie(
        view::render_with(status, &page),
        visit.set_cookie(CSRF_COOKIE, &csrf, None),
    )
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy)]
pub enum SignInRefusal {
    NoPassword,
    WrongCredentials,
    /// The password was right, but the user administers no organization.
    NoAccess,
    LockedOut {
        retry_after: u64,
    },
}

/// The sign-in form again, with why the last attempt was refused.
pub fn refused(visit: &Visit, why: SignInRefusal, username: &str) -> Response {
    let t = visit.t();
    let (status, text) = match why {
        SignInRefusal::NoPassword => (StatusCode::BAD_REQUEST, t.wrong_credentials.to_owned()),
        SignInRefusal::WrongCredentials => {
            (StatusCode::UNAUTHORIZED, t.wrong_credentials.to_owned())
        }
        SignInRefusal::NoAccess => (StatusCode::FORBIDDEN, t.no_access.to_owned()),
        SignInRefusal::LockedOut { retry_after } => {
            (StatusCode::TOO_MANY_REQUESTS, t.locked_out_for(retry_after))
        }
    };
    let mut response = form(visit, status, Notice::error(&text), username);
    if let SignInRefusal::LockedOut { retry_after } = why {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}

/// `POST /console/sign-in`.
pub async fn submit(
    State(auth): State<Arc<Auth>>,
    Form(visit, fields): Form<Visit>,
) -> Result<Response, ConsoleError> {
    let username = fields.get("username");
    let refused = |why| ConsoleError::SignInRefused {
        why,
        username: username.clone(),
    };
    let Some(password) = fields.as_typed("password") else {
        return Err(refused(SignInRefusal::NoPassword));
    };
    let outcome = auth
        .console_sign_in(&username, SecretString::from(password), visit.client)
        .await;
    match outcome {
        Ok(signed_in) => Ok(with_cookie(
            see_other("/console/settings"),
            visit.set_cookie(SESSION_COOKIE, &signed_in.token, None),
        )),
        Err(SignInError::NoAccess) => Err(refused(SignInRefusal::NoAccess)),
        Err(SignInError::Auth(AuthError::InvalidCredentials)) => {
            Err(refused(SignInRefusal::WrongCredentials))
        }
        Err(SignInError::Auth(AuthError::LockedOut { retry_after })) => {
            Err(refused(SignInRefusal::LockedOut { retry_after }))
        }
        Err(SignInError::Auth(e)) => Err(e.into()),
    }
}

/// `POST /console/sign-out`.
pub async fn sign_out(
    State(auth): State<Arc<Auth>>,
    Form(signed, _): Form<Signed>,
) -> Result<Response, ConsoleError> {
    auth.console_sign_out(&signed.token).await?;
    Ok(with_cookie(
        see_other("/console/?note=signed_out"),
        signed.visit.clear_cookie(SESSION_COOKIE),
    ))
}

/// `POST /console/switch`: administer another organization.
pub async fn switch(
    State(auth): State<Arc<Auth>>,
    Form(signed, fields): Form<Signed>,
) -> Result<Response, ConsoleError> {
    let Ok(org) = fields.get("org").parse::<OrgId>() else {
        return Err(ConsoleError::NotFound);
    };
    if auth
        .console_switch(&signed.token, signed.user.user, org)
        .await?
    {
        Ok(see_other("/console/settings"))
    } else {
        Err(ConsoleError::Forbidden)
    }
}

/// `GET /console/lang?to=es&next=/console/users`: remembers the language and goes back.
pub async fn language(visit: Visit, Query(query): Query<HashMap<String, String>>) -> Response {
    let next = query
        .get("next")
        .map(String::as_str)
        .filter(|n| is_console_path(n))
        .unwrap_or("/console/");
    let response = see_other(next);
    match query.get("to").and_then(|tag| Lang::from_tag(tag)) {
        Some(lang) => with_cookie(
            response,
            visit.set_cookie(LANG_COOKIE, lang.code(), Some(LANG_COOKIE_SECONDS)),
        ),
        None => response,
    }
}

/// Only a path inside the console may be a redirect target: never another site.
fn is_console_path(path: &str) -> bool {
    (path == "/console" || path.starts_with("/console/"))
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_a_language_change() {
        assert!(is_console_path("/console/activity?kind=login_failed"));
        assert!(is_console_path("/console"));
        assert!(!is_console_path("//evil.example/console/"));
        assert!(!is_console_path("https://evil.example/"));
        assert!(!is_console_path("/consoleevil"));
        assert!(!is_console_path("/console/\\evil"));
    }
}
