//! What every console request carries — its language, whether it came over HTTPS, the client's
//! address, its cookies — and the console's cookies, redirects and CSRF comparison.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::i18n::{self, Text};
use crate::auth::Auth;
use crate::i18n::Lang;
use crate::request::client_address;

/// The console session: the token `Auth::console_sign_in` returned.
pub const SESSION_COOKIE: &str = "porteiro_console";
/// The sign-in form's double-submit token, before there is a session to hold one.
pub const CSRF_COOKIE: &str = "porteiro_csrf";
pub const LANG_COOKIE: &str = "porteiro_lang";
/// The name of the hidden field that carries the CSRF token in every form.
pub const CSRF_FIELD: &str = "csrf";

/// One console request, before anyone is known.
#[derive(Clone)]
pub struct Visit {
    pub lang: Lang,
    /// Whether the browser reached us over HTTPS, as far as we can know: only a trusted proxy's
    /// `X-Forwarded-Proto` says so, since this server speaks plain HTTP itself.
    pub secure: bool,
    pub client: IpAddr,
    /// The path and query of this page, for the language switcher to come back to.
    pub here: String,
    /// Whether the issuer is `https://`: the service is reached over TLS, and its cookies are
    /// `Secure` and `__Host-` prefixed.
    https: bool,
    cookies: Vec<(String, String)>,
}

impl FromRequestParts<Arc<Auth>> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        auth: &Arc<Auth>,
    ) -> Result<Self, Self::Rejection> {
        // Read once per request, by the console's layer (`error::answer_failures`).
        if let Some(visit) = parts.extensions.get::<Visit>() {
            return Ok(visit.clone());
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip().to_canonical());
        let trusted = auth.trusted_proxies();
        let https = auth.tokens().issuer.starts_with("https://");
        let cookies = cookies(&parts.headers);
        let lang_cookie = cookie_name(https, LANG_COOKIE);
        let lang = cookies
            .iter()
            .find(|(name, _)| *name == lang_cookie)
            .and_then(|(_, value)| Lang::from_tag(value))
            .unwrap_or_else(|| Lang::preferred(&parts.headers));
        let secure = trusted.iter().any(|net| net.contains(&peer))
            && forwarded_proto_is_https(&parts.headers);
        Ok(Visit {
            lang,
            secure,
            client: client_address(peer, &parts.headers, trusted),
            here: if parts.method == Method::GET {
                parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| "/console/".to_owned(), |p| p.as_str().to_owned())
            } else {
                landing(parts.uri.path())
            },
            https,
            cookies,
        })
    }
}

/// Where the language switcher returns to from the answer to a form: the page of its section,
/// since the form's own address may not be a page.
fn landing(path: &str) -> String {
    let section = path
        .trim_start_matches("/console/")
        .split('/')
        .next()
        .unwrap_or_default();
    match section {
        "settings" | "integrations" | "users" | "sessions" | "activity" => {
            format!("/console/{section}")
        }
        _ => "/console/".to_owned(),
    }
}

/// The first (the client-facing) hop of `X-Forwarded-Proto`.
fn forwarded_proto_is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The name a console cookie has in the browser. With an https:// issuer it carries the
/// `__Host-` prefix: browsers take such a cookie only from a secure page, for `Path=/` and without
/// `Domain`, so no other host (a sibling subdomain, a plain-HTTP page on the way) can set or
/// overwrite it; a cookie of the unprefixed name is then ignored.
fn cookie_name(https: bool, name: &str) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// The `name=value` pairs of every `Cookie` header.
fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            Some((
                name.trim().to_owned(),
                value.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect()
}

impl Visit {
    pub fn t(&self) -> &'static Text {
        i18n::text(self.lang)
    }

    /// The value of the console cookie `name` (one of the `*_COOKIE` names), under the name
    /// it has in the browser.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        let name = cookie_name(self.https, name);
        self.cookies
            .iter()
            .find(|(n, v)| *n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A `Set-Cookie` value scoped to the console (to the whole host when `__Host-` prefixed,
    /// which requires it); `max_age` `None` lasts the browser session.
    pub fn set_cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
        // The language is only a preference: Lax lets it follow a link from elsewhere. The
        // session and the CSRF cookie are Strict, so no other site can ride on them.
        let same_site = if name == LANG_COOKIE { "Lax" } else { "Strict" };
        let path = if self.https { "/" } else { "/console" };
        let name = cookie_name(self.https, name);
        let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
        if let Some(seconds) = max_age {
            cookie.push_str(&format!("; Max-Age={seconds}"));
        }
        if self.secure || self.https {
            cookie.push_str("; Secure");
        }
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    pub fn clear_cookie(&self, name: &str) -> HeaderValue {
        self.set_cookie(name, "", Some(0))
    }
}

/// Compares a presented token with the expected one in constant time.
pub fn tokens_match(presented: Option<&str>, expected: &str) -> bool {
    match presented {
        Some(p) if !p.is_empty() && !expected.is_empty() => {
            verify_slices_are_equal(p.as_bytes(), expected.as_bytes()).is_ok()
        }
        _ => false,
    }
}

/// A 303 to a console path.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; porteiro_lang=es"));
        h.append(COOKIE, HeaderValue::from_static("b=\"2\""));
        let c = cookies(&h);
        assert!(c.contains(&("porteiro_lang".into(), "es".into())));
        assert!(c.contains(&("b".into(), "2".into())));
    }

    #[test]
    fn csrf_tokens_match_only_when_equal_and_present() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abd"), "abc"));
        assert!(!tokens_match(Some("ab"), "abc"));
        assert!(!tokens_match(None, "abc"));
        assert!(!tokens_match(Some(""), ""));
    }

    #[test]
    fn the_answer_to_a_form_switches_language_back_to_its_section() {
        assert_eq!(
            landing("/console/integrations/abc/rotate"),
            "/console/integrations"
        );
        assert_eq!(landing("/console/users/3/role"), "/console/users");
        assert_eq!(landing("/console/sign-in"), "/console/");
    }

    #[test]
    fn only_the_client_facing_forwarded_proto_counts() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS, http"));
        assert!(forwarded_proto_is_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(!forwarded_proto_is_https(&h));
    }
}
