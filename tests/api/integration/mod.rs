//! The integration dialect: `POST /auth`, `GET /auth?refresh_token=`, `POST /auth/refresh` (as
//! the API's contract words them), and what revoking or rotating an integration does to its
//! tokens.

mod auth;
mod client_credentials;
mod lifecycle;
mod lockout;
mod refresh;

const BAD_CREDENTIALS: &str = r#"{"status":400,"title":"Bad Request","detail":"Invalid consumer key or secret key.","validation":null}"#;
const BAD_REFRESH: &str = r#"{"status":401,"title":"Unauthorized","detail":"Invalid or expired refresh token.","validation":null}"#;

fn is_millis_utc(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && s.ends_with('Z')
}

fn epoch_of(s: &str) -> i64 {
    humantime::parse_rfc3339(s)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
