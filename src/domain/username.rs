//! Usernames are e-mail addresses, trimmed and lower-cased wherever they are stored or compared.

use std::fmt;

use super::ParseError;

/// The longest address RFC 5321 lets through a mail path.
const MAX_LEN: usize = 254;

/// A normalized username. Constructing one through [`Username::parse`] also checks that it has the
/// shape of an e-mail address; [`Username::normalize`] only normalizes, for comparing login input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Parses a username for a new account: an address with one `@`, a non-empty local part and a
    /// domain, no whitespace or control characters, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let name = Self::normalize(raw);
        let s = name.as_str();
        let invalid = || ParseError(format!("{:?} is not an e-mail address", raw.trim()));
        if s.len() > MAX_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        match s.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(name)
            }
            _ => Err(invalid()),
        }
    }

    /// Normalizes what someone typed into a login form, without judging it: a name that could
    /// never have been stored simply matches no account.
    pub fn normalize(raw: &str) -> Self {
        Self(raw.trim().to_lowercase())
    }

    /// Whether this name could be the name of a stored account (used to skip a pointless lookup,
    /// and to keep bytes such as NUL away from the database).
    pub fn could_exist(&self) -> bool {
        self.0.len() <= MAX_LEN && !self.0.chars().any(char::is_control)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_lower_cased() {
        let name = Username::parse("  Dev@Example.COM.br \n").unwrap();
        assert_eq!(name.as_str(), "dev@example.com.br");
        assert_eq!(Username::normalize(" DEV@example.com.br"), name);
    }

    #[test]
    fn usernames_must_look_like_addresses() {
        for bad in [
            "",
            "dev",
            "@example.com",
            "dev@",
            "a@b@c",
            "de v@example.com",
            "dev\0@example.com",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Username::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn login_input_with_control_characters_cannot_exist() {
        assert!(!Username::normalize("dev\0@example.com").could_exist());
        assert!(Username::normalize("dev@example.com").could_exist());
    }
}
