//! Passwords are kept exactly as given: never trimmed, never altered, never printed.

use secrecy::{ExposeSecret, SecretString};

use super::ParseError;

/// Long enough to resist guessing behind the lockout, short enough to bound hashing input.
const MIN_CHARS: usize = 8;
const MAX_BYTES: usize = 1024;

/// A password accepted for a new or changed account. `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: SecretString) -> Result<Self, ParseError> {
        let s = raw.expose_secret();
        if s.chars().count() < MIN_CHARS {
            return Err(ParseError(format!(
                "a password needs at least {MIN_CHARS} characters"
            )));
        }
        if s.len() > MAX_BYTES {
            return Err(ParseError(format!(
                "a password may have at most {MAX_BYTES} bytes"
            )));
        }
        Ok(Self(raw))
    }

    /// A random password of 20 letters and digits (about 119 bits), for accounts made without one.
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut bytes = [0u8; 20];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        // 256 is not a multiple of the alphabet size; the bias is under 0.4 % per character
        // and leaves well over 100 bits, which is plenty for a password shown once.
        let s: String = bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        Self(SecretString::from(s))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_keep_their_spaces_and_are_redacted_in_debug() {
        let p = Password::parse(SecretString::from("  spaced out  ")).unwrap();
        assert_eq!(p.expose(), "  spaced out  ");
        assert!(!format!("{p:?}").contains("spaced"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(Password::parse(SecretString::from("short")).is_err());
        assert!(Password::parse(SecretString::from("x".repeat(1025))).is_err());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = Password::generate();
        let b = Password::generate();
        assert_eq!(a.expose().len(), 20);
        assert_ne!(a.expose(), b.expose());
    }
}
