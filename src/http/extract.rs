//! The API's own extractors: who is asking (the bearer token) and from where (the client
//! address). Bodies are read with [`crate::request`], which the console shares.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::errors::simplejwt::BearerError;
use crate::auth::Auth;
use crate::request::client_address;

/// The client's address: the TCP peer, or — when the peer is a trusted proxy — the rightmost
/// address of `X-Forwarded-For` that is not itself a trusted proxy.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<Arc<Auth>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        auth: &Arc<Auth>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddr(client_address(
            peer,
            &parts.headers,
            auth.trusted_proxies(),
        )))
    }
}

/// What the `Authorization` header held, in the terms of simplejwt's authentication class.
#[derive(Debug, PartialEq, Eq)]
pub enum Bearer {
    /// No header, or another scheme.
    Missing,
    /// `Bearer` alone, or with more than one value.
    Malformed,
    Token(String),
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(bearer(&parts.headers))
    }
}

/// The bearer token of a request that needs one; refused in simplejwt's words when the header
/// does not hold exactly one.
pub struct AccessToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = BearerError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match bearer(&parts.headers) {
            Bearer::Missing => Err(BearerError::Missing),
            Bearer::Malformed => Err(BearerError::Malformed),
            Bearer::Token(token) => Ok(AccessToken(token)),
        }
    }
}

pub fn bearer(headers: &HeaderMap) -> Bearer {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Bearer::Missing;
    };
    let mut parts = value.split_whitespace();
    match parts.next() {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer") => {}
        _ => return Bearer::Missing,
    }
    match (parts.next(), parts.next()) {
        (Some(token), None) => Bearer::Token(token.to_owned()),
        _ => Bearer::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_parsing_follows_simplejwt() {
        assert_eq!(bearer(&headers(&[])), Bearer::Missing);
        assert_eq!(
            bearer(&headers(&[("authorization", "Basic abc")])),
            Bearer::Missing
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer")])),
            Bearer::Malformed
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer a b")])),
            Bearer::Malformed
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bEaReR tok")])),
            Bearer::Token("tok".into())
        );
    }
}
