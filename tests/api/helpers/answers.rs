//! Reading answers: a JWT's claims and header, a body asserted whole, and the fixed error bodies
//! of the token endpoints.

use reqwest::Response;
use serde_json::Value;

/// The claims of a JWT, read without verification.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The header of a JWT, read without verification.
pub fn header(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Asserts status and exact JSON body.
pub async fn assert_json(response: Response, status: u16, expected: Value) {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, expected);
}

/// Asserts status and the body's bytes: for key order and exact shape.
pub async fn assert_body_text(response: Response, status: u16, expected: &str) {
    assert_eq!(response.status(), status, "unexpected status");
    assert_eq!(response.text().await.unwrap(), expected);
}

/// The 401 of the token endpoints.
pub const TOKEN_NOT_VALID: &str =
    r#"{"detail":"Token is invalid or expired","code":"token_not_valid"}"#;
/// The 401 of bearer-authenticated endpoints for a bad token.
pub const BEARER_NOT_VALID: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}"#;
pub const NO_ACTIVE_ACCOUNT: &str =
    r#"{"detail":"No active account found with the given credentials"}"#;
