//! Who is asking, as handlers take it: the signed-in user ([`Signed`]), the same user as
//! administrator of the session's organization ([`Admin`]), and a form whose CSRF token was
//! checked before anything else happens ([`Form`]). Each refuses with a [`ConsoleError`].

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;

use super::error::ConsoleError;
use super::i18n::Text;
use super::web::{CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, Visit, tokens_match};
use crate::auth::Auth;
use crate::auth::admin::{Access, OrgAdmin};
use crate::auth::console_sessions::ConsoleUser;
use crate::request::{self, Body};

/// A signed-in console user on a request.
pub struct Signed {
    pub visit: Visit,
    /// The session's token, as in its cookie.
    pub token: String,
    pub user: ConsoleUser,
}

impl FromRequestParts<Arc<Auth>> for Signed {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Self, ConsoleError> {
        let Ok(visit) = Visit::from_request_parts(parts, auth).await;
        let Some(token) = visit.cookie(SESSION_COOKIE).map(str::to_owned) else {
            return Err(ConsoleError::SignIn);
        };
        match auth.console_user(&token).await? {
            Some(user) => Ok(Signed { visit, token, user }),
            None => Err(ConsoleError::SessionExpired),
        }
    }
}

impl Signed {
    pub fn t(&self) -> &'static Text {
        self.visit.t()
    }
}

/// A signed-in user as owner or admin of the session's organization: the use-cases of
/// [`OrgAdmin`], and the session they came through.
pub struct Admin {
    pub signed: Signed,
    org_admin: OrgAdmin,
}

impl Deref for Admin {
    type Target = OrgAdmin;

    fn deref(&self) -> &OrgAdmin {
        &self.org_admin
    }
}

impl Admin {
    /// Someone who lost the role since signing in is signed out.
    async fn admit(signed: Signed, auth: &Arc<Auth>) -> Result<Self, ConsoleError> {
        let (user, org, client) = (signed.user.user, signed.user.org, signed.visit.client);
        match auth.org_admin(user, org, client).await {
            Ok(org_admin) => Ok(Admin { signed, org_admin }),
            Err(Access::Forbidden) => {
                auth.console_sign_out(&signed.token).await?;
                Err(ConsoleError::LostAccess)
            }
            Err(Access::Unauthenticated(e)) => Err(e.into()),
        }
    }

    pub fn t(&self) -> &'static Text {
        self.signed.t()
    }

    pub fn visit(&self) -> &Visit {
        &self.signed.visit
    }
}

impl FromRequestParts<Arc<Auth>> for Admin {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Self, ConsoleError> {
        let signed = Signed::from_request_parts(parts, auth).await?;
        Admin::admit(signed, auth).await
    }
}

/// Who may send a form, in three steps: who the request's head shows, the CSRF token their form
/// must carry, and (once the token matched) whether they may act.
pub trait Sender: Sized + Send {
    type Head: Send;

    fn head(
        parts: &mut Parts,
        auth: &Arc<Auth>,
    ) -> impl Future<Output = Result<Self::Head, ConsoleError>> + Send;

    fn csrf(head: &Self::Head) -> Option<&str>;

    fn admit(
        head: Self::Head,
        auth: &Arc<Auth>,
    ) -> impl Future<Output = Result<Self, ConsoleError>> + Send;
}

/// The sign-in form, before there is a session: a double-submit token, the same random value in
/// a Strict cookie and in the form, which another site can neither read nor set.
impl Sender for Visit {
    type Head = Visit;

    async fn head(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Visit, ConsoleError> {
        let Ok(visit) = Visit::from_request_parts(parts, auth).await;
        Ok(visit)
    }

    fn csrf(visit: &Visit) -> Option<&str> {
        visit.cookie(CSRF_COOKIE)
    }

    async fn admit(visit: Visit, _: &Arc<Auth>) -> Result<Visit, ConsoleError> {
        Ok(visit)
    }
}

impl Sender for Signed {
    type Head = Signed;

    async fn head(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Signed, ConsoleError> {
        Signed::from_request_parts(parts, auth).await
    }

    fn csrf(signed: &Signed) -> Option<&str> {
        Some(&signed.user.csrf_token)
    }

    async fn admit(signed: Signed, _: &Arc<Auth>) -> Result<Signed, ConsoleError> {
        Ok(signed)
    }
}

impl Sender for Admin {
    type Head = Signed;

    async fn head(parts: &mut Parts, auth: &Arc<Auth>) -> Result<Signed, ConsoleError> {
        Signed::from_request_parts(parts, auth).await
    }

    fn csrf(signed: &Signed) -> Option<&str> {
        Some(&signed.user.csrf_token)
    }

    async fn admit(signed: Signed, auth: &Arc<Auth>) -> Result<Admin, ConsoleError> {
        Admin::admit(signed, auth).await
    }
}

/// A posted form and who sent it; nothing is done for a form without its CSRF token, not even
/// the role check.
pub struct Form<Who>(pub Who, pub Fields);

impl<Who: Sender> FromRequest<Arc<Auth>> for Form<Who> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, auth: &Arc<Auth>) -> Result<Self, ConsoleError> {
        let (mut parts, body) = request.into_parts();
        let head = Who::head(&mut parts, auth).await?;
        let Ok(Body(fields)) = Body::from_request(Request::from_parts(parts, body), auth).await;
        let fields = fields.unwrap_or_default();
        let presented = fields.string(CSRF_FIELD).ok();
        if !tokens_match(presented.as_deref(), Who::csrf(&head).unwrap_or_default()) {
            return Err(ConsoleError::FormExpired);
        }
        Ok(Form(Who::admit(head, auth).await?, Fields(fields)))
    }
}

/// A form's fields.
pub struct Fields(request::Fields);

impl Fields {
    /// A text field, trimmed; empty when missing.
    pub fn get(&self, name: &str) -> String {
        self.as_typed(name)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }

    /// A text field as typed; `None` when missing or blank.
    pub fn as_typed(&self, name: &str) -> Option<String> {
        self.0.text(name).ok()
    }
}
