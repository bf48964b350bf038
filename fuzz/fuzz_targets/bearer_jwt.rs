//! The bearer path up to signature verification: the `Authorization` header as `Bearer`
//! extraction reads it, then the token through `Tokens::verify` — JWT header parsing, algorithm
//! pinning, key lookup and the signature check — against the real key rings of four servers, one
//! per algorithm. A refused token is the expected outcome; a panic is the bug.
//!
//! Input: a selector byte (the algorithm), then either an `Authorization` value (placeholders
//! `{access}`, `{header}`, `{payload}`, `{signature}` are pieces of a live token) or, after
//! `jwt:`, a JWT's header JSON, payload JSON and signature on three lines (`{kid}` is the live key
//! id), which the target encodes into a token.
#![no_main]

use std::mem::ManuallyDrop;

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use porteiro::config::Algorithm;
use porteiro::http::extract::{Bearer, bearer};
use porteiro_fuzz::Server;
use secrecy::SecretString;

struct Ring {
    server: Server,
    kid: String,
}

fn ring(algorithm: Algorithm) -> Ring {
    let server = Server::start(|settings| {
        settings.algorithm = algorithm;
        if algorithm == Algorithm::HS256 {
            settings.hs256_secret = Some(SecretString::from("a-shared-secret-of-32-bytes-or-more"));
        }
    });
    let now = server.state().auth.now();
    let kid = server
        .state()
        .auth
        .tokens()
        .ring
        .signing_key(now)
        .expect("a signing key")
        .kid
        .clone();
    Ring { server, kid }
}

thread_local! {
    // Never dropped: see `porteiro_fuzz::with_server`.
    static RINGS: ManuallyDrop<Vec<Ring>> = ManuallyDrop::new(
        [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256, Algorithm::HS256]
            .into_iter()
            .map(ring)
            .collect(),
    );
}

fn expand(ring: &Ring, text: &str) -> String {
    let access = &ring.server.live.access;
    let mut pieces = access.split('.');
    let (header, payload, signature) = (
        pieces.next().unwrap_or_default(),
        pieces.next().unwrap_or_default(),
        pieces.next().unwrap_or_default(),
    );
    text.replace("{access}", access)
        .replace("{header}", header)
        .replace("{payload}", payload)
        .replace("{signature}", signature)
        .replace("{kid}", &ring.kid)
}

fn verify(ring: &Ring, token: &str) {
    let auth = &ring.server.state().auth;
    if let Ok(claims) = auth.tokens().verify(token, auth.now()) {
        assert_eq!(
            claims.iss,
            auth.tokens().issuer,
            "a verified token has our issuer"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    RINGS.with(|rings| {
        let ring = &rings[usize::from(selector) % rings.len()];
        let value = match std::str::from_utf8(rest) {
            Ok(text) => match text.strip_prefix("jwt:") {
                Some(parts) => {
                    let mut lines = parts.splitn(3, '\n');
                    let mut part =
                        || URL_SAFE_NO_PAD.encode(expand(ring, lines.next().unwrap_or_default()));
                    let token = format!("{}.{}.{}", part(), part(), part());
                    verify(ring, &token);
                    format!("Bearer {token}").into_bytes()
                }
                None => expand(ring, text).into_bytes(),
            },
            Err(_) => rest.to_vec(),
        };
        let Ok(value) = HeaderValue::from_bytes(&value) else {
            return;
        };
        if let Ok(text) = value.to_str() {
            verify(ring, text);
        }
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        if let Bearer::Token(token) = bearer(&headers) {
            verify(ring, &token);
        }
    });
});
