//! Consumer keys, secret keys and scopes of integrations (machine clients).

use std::fmt;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::ParseError;

/// A consumer key: a UUID, written lowercase and hyphenated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsumerKey(String);

impl ConsumerKey {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// Accepts the hyphenated form only (any case), and stores it lowercase.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = || ParseError(format!("{raw:?} is not a valid consumer key (a UUID)"));
        if raw.len() != 36 {
            return Err(invalid());
        }
        let uuid = uuid::Uuid::try_parse(raw).map_err(|_| invalid())?;
        Ok(Self(uuid.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConsumerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret key: 256 random bits, base64url without padding (43 characters). It is shown once
/// and only its SHA-256 digest is stored; with this much entropy a slow hash would add nothing
/// but cost.
#[derive(Debug, Clone)]
pub struct SecretKey(SecretString);

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(SecretString::from(text))
    }

    pub fn from_presented(s: String) -> Self {
        Self(SecretString::from(s))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The stored form: hex SHA-256.
    pub fn digest(&self) -> String {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.expose().as_bytes());
        hex::encode(d.as_ref())
    }

    /// Compares with a stored digest in constant time.
    pub fn matches(&self, stored_digest: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.digest().as_bytes(),
            stored_digest.as_bytes(),
        )
        .is_ok()
    }
}

/// The scopes of an integration: RFC 6749 scope tokens, without duplicates, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, ParseError> {
        let mut scopes: Vec<String> = Vec::new();
        for item in items.iter().flat_map(|s| s.as_ref().split(' ')) {
            if item.is_empty() {
                continue;
            }
            let valid = item.len() <= 128
                && item
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !valid {
                return Err(ParseError(format!("{item:?} is not a valid scope")));
            }
            if !scopes.iter().any(|s| s == item) {
                scopes.push(item.to_owned());
            }
        }
        Ok(Self(scopes))
    }

    /// Reads the stored, space-separated form.
    pub fn from_db(s: &str) -> Self {
        Self(
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The space-separated form of the `scope` claim and of storage.
    pub fn joined(&self) -> String {
        self.0.join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn items(&self) -> &[String] {
        &self.0
    }

    pub fn contains_all(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.0.contains(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_keys_are_lowercase_hyphenated_v4_uuids() {
        let key = ConsumerKey::generate();
        let s = key.as_str();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert_eq!(s, s.to_lowercase());
        let upper = ConsumerKey::parse(&s.to_uppercase()).unwrap();
        assert_eq!(upper, key);
    }

    #[test]
    fn consumer_keys_in_other_forms_are_refused() {
        let simple = uuid::Uuid::new_v4().simple().to_string();
        for bad in [
            "",
            "not-a-uuid",
            simple.as_str(),
            "{6f9619ff-8b86-d011-b42d-00cf4fc964ff}",
        ] {
            assert!(ConsumerKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_keys_carry_256_bits_and_match_only_their_digest() {
        let secret = SecretKey::generate();
        assert_eq!(secret.expose().len(), 43);
        assert!(secret.matches(&secret.digest()));
        assert!(!SecretKey::generate().matches(&secret.digest()));
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn scopes_are_rfc6749_tokens_without_duplicates() {
        let scopes = Scopes::parse(&["read", "write read", "documents:sign"]).unwrap();
        assert_eq!(scopes.joined(), "read write documents:sign");
        assert!(Scopes::parse(&["bad\"quote"]).is_err());
        assert!(Scopes::parse(&["back\\slash"]).is_err());
        assert!(scopes.contains_all(&Scopes::parse(&["write"]).unwrap()));
        assert!(!scopes.contains_all(&Scopes::parse(&["admin"]).unwrap()));
    }
}
