//! The claims every Porteiro token carries: its type, lifetime, `jti`, issuer, subject, session
//! and organization, and the user's id or the integration's consumer key and scopes.

use serde::{Deserialize, Serialize};

use crate::domain::SecretGeneration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
    pub sub: String,
    pub sid: String,
    pub org_id: i64,
    /// User tokens only: the user id, also in `sub` as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// Integration tokens only: the consumer key, also in `sub` and `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Integration tokens with scopes: space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// RFC 9068 access tokens only (`typ: at+jwt`): the one resource server the token is for.
    /// The dialects' tokens have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// 128 random bits as 32 lowercase hex digits: the form of every `jti` and `sid`.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    hex::encode(bytes)
}

/// A session id (`sid`): 32 lowercase hex digits like every id, of which the first 12 are the
/// milliseconds since the epoch and the other 20 random (80 bits). Ids made one after another
/// sort together, so a new session's entry lands at the end of the sessions' primary-key index
/// instead of at a random place in it: a batch of new sessions then changes a page or two of
/// that index, not a page per session (measured: fewer pages to write per commit through the
/// single SQLite writer). The time in it is never read back; it is not the session's `created_at`.
pub fn session_id() -> String {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&now_millis());
    aws_lc_rs::rand::fill(&mut bytes[6..]).expect("the system random source works");
    hex::encode(bytes)
}

/// An integration's session id: as [`session_id`], but with the tag of the secret its tokens
/// are issued under (see [`SecretGeneration`]) in place of the first 40 of the random bits;
/// 40 random bits remain, for sessions of one integration made in the same millisecond.
pub fn integration_session_id(generation: &SecretGeneration<'_>) -> String {
    let mut bytes = [0u8; 11];
    bytes[..6].copy_from_slice(&now_millis());
    aws_lc_rs::rand::fill(&mut bytes[6..]).expect("the system random source works");
    let hex = hex::encode(bytes);
    format!("{}{}{}", &hex[..12], generation.tag(), &hex[12..])
}

/// The milliseconds since the epoch, as the 6 low bytes, big-endian.
fn now_millis() -> [u8; 6] {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut out = [0u8; 6];
    out.copy_from_slice(&millis.to_be_bytes()[2..]);
    out
}

/// The digest under which a refresh `jti` is stored: the database never holds a usable id.
pub fn jti_digest(jti: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jti.as_bytes()).as_ref())
}

/// The `jti` that follows `jti` in a session's rotation chain. Deriving it (instead of drawing it)
/// lets a retry inside the grace window be answered with the same newest token although only
/// digests are stored; knowing a jti gains an attacker nothing without the signing key.
pub fn next_jti(sid: &str, jti: &str) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"porteiro refresh rotation\0");
    ctx.update(sid.as_bytes());
    ctx.update(b"\0");
    ctx.update(jti.as_bytes());
    hex::encode(&ctx.finish().as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_claims() -> Claims {
        Claims {
            token_type: TokenType::Access,
            exp: 200,
            iat: 100,
            jti: random_id(),
            iss: "http://127.0.0.1:8080".into(),
            sub: "5".into(),
            sid: random_id(),
            org_id: 2,
            user_id: Some(5),
            client_id: None,
            id: None,
            scope: None,
            aud: None,
        }
    }

    #[test]
    fn ids_are_32_lowercase_hex_digits_and_distinct() {
        let a = random_id();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, random_id());
        let n = next_jti(&random_id(), &a);
        assert_eq!(n.len(), 32);
        assert_ne!(n, a);
    }

    #[test]
    fn session_ids_are_ids_that_sort_in_the_order_they_were_made() {
        let first = session_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let (second, third) = (session_id(), session_id());
        for id in [&first, &second, &third] {
            assert_eq!(id.len(), 32);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
        assert!(first < second && first < third);
        assert_ne!(second, third);
    }

    #[test]
    fn integration_session_ids_carry_their_secret_and_still_sort() {
        let generation = SecretGeneration {
            consumer_key: "key",
            secret_digest: "digest",
        };
        let first = integration_session_id(&generation);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = integration_session_id(&generation);
        for id in [&first, &second] {
            assert_eq!(id.len(), 32);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            assert_eq!(
                crate::domain::secret_generation::marker_of("key", id),
                Some(generation.marker())
            );
        }
        assert!(first < second);
    }

    #[test]
    fn user_claims_carry_user_id_and_no_integration_fields() {
        let json = serde_json::to_value(user_claims()).unwrap();
        assert_eq!(json["token_type"], "access");
        assert_eq!(json["user_id"], 5);
        assert_eq!(json["sub"], "5");
        assert!(json.get("client_id").is_none());
        assert!(json.get("scope").is_none());
        assert!(json.get("aud").is_none());
    }

    #[test]
    fn the_next_jti_depends_on_session_and_predecessor() {
        let sid = random_id();
        assert_eq!(next_jti(&sid, "a"), next_jti(&sid, "a"));
        assert_ne!(next_jti(&sid, "a"), next_jti(&sid, "b"));
        assert_ne!(next_jti(&sid, "a"), next_jti(&random_id(), "a"));
    }
}
