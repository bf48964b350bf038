//! The JSON and form bodies every dialect reads through `Fields::from_bytes` — simplejwt's
//! token, refresh, verify and logout, `POST /auth`, OAuth's form bodies, the console's forms —
//! then each field the way its handler reads it (`text` as a Django `CharField`, `string`, `has`)
//! and into the domain type it becomes: username, password, consumer key, scopes, role, ids.
//!
//! Input: the `Content-Type` on the first line (`-` for none), the body after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use porteiro::domain::{ConsumerKey, OrgId, Password, Role, Scopes, UserId, Username};
use porteiro::request::{BodyError, FieldError, Fields, MAX_BODY_BYTES};
use secrecy::SecretString;

const NAMES: [&str; 16] = [
    "username",
    "password",
    "refresh",
    "token",
    "consumer_key",
    "secret_key",
    "refresh_token",
    "grant_type",
    "scope",
    "client_id",
    "client_secret",
    "csrf",
    "name",
    "role",
    "org",
    "active",
];

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_BODY_BYTES {
        return;
    }
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let content_type = String::from_utf8_lossy(first);
    let content_type = (content_type != "-").then_some(&*content_type);
    let fields = match Fields::from_bytes(content_type, body) {
        Ok(fields) => fields,
        Err(BodyError::Json(reason)) => {
            assert!(!reason.is_empty());
            return;
        }
        Err(_) => return,
    };
    for name in NAMES {
        let text = fields.text(name);
        let string = fields.string(name);
        assert_eq!(fields.has(name), text != Err(FieldError::Required));
        if let Ok(s) = &string {
            assert_eq!(text.as_ref(), Ok(s), "a string field is also a text field");
        }
        let Ok(value) = text else { continue };
        assert!(!value.trim().is_empty(), "blank is refused");
        match name {
            "username" => {
                let normalized = Username::normalize(&value);
                let _ = normalized.could_exist();
                if let Ok(parsed) = Username::parse(&value) {
                    assert_eq!(parsed, normalized);
                    assert!(parsed.could_exist());
                }
            }
            "password" => {
                let _ = Password::parse(SecretString::from(value));
            }
            "consumer_key" | "client_id" => {
                if let Ok(key) = ConsumerKey::parse(value.trim()) {
                    assert_eq!(ConsumerKey::parse(key.as_str()), Ok(key));
                }
            }
            "scope" => {
                if let Ok(scopes) = Scopes::parse(&[&value]) {
                    assert_eq!(Scopes::parse(&[scopes.joined()]), Ok(scopes.clone()));
                    assert_eq!(Scopes::from_db(&scopes.joined()), scopes);
                }
            }
            "role" => {
                if let Ok(role) = value.parse::<Role>() {
                    assert_eq!(role.as_str().parse::<Role>(), Ok(role));
                }
            }
            "org" => {
                let _ = value.trim().parse::<OrgId>();
                let _ = value.trim().parse::<UserId>();
            }
            _ => {}
        }
    }
});
