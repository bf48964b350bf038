//! OAuth client authentication: HTTP Basic (base64 of the form-encoded client id and secret, RFC
//! 6749 §2.3.1) or `client_id` and `client_secret` in the form body, one method only — as
//! `oauth::client_credentials_of` reads them for the token, introspection and revocation
//! endpoints.
//!
//! Input: the `Authorization` value on the first line, the form body after it.
#![no_main]

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use porteiro::http::oauth::client_credentials_of;
use porteiro::request::Fields;

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(first) {
        headers.insert(AUTHORIZATION, value);
    }
    let Ok(fields) = Fields::from_bytes(Some("application/x-www-form-urlencoded"), body) else {
        return;
    };
    if let Ok(client) = client_credentials_of(&headers, &fields) {
        let _ = client.client_secret.digest();
    }
});
