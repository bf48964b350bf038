//! Resource indicators (RFC 8707): the URI of a protected resource a client asks an access token
//! for, which becomes the token's `aud` under the RFC 9068 profile.

use std::fmt;

use super::ParseError;

/// An absolute URI without a fragment (RFC 8707 §2), as written: audiences are compared as exact
/// strings (RFC 7519 §4.1.3), so nothing is normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceUri(String);

impl ResourceUri {
    /// Accepts `scheme:rest` with a scheme of RFC 3986 §3.1 and something after the colon, and
    /// no fragment, space or control character.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let invalid = |why: &str| ParseError(format!("{raw:?} is not a resource URI: {why}"));
        let (scheme, rest) = raw
            .split_once(':')
            .ok_or_else(|| invalid("it is not absolute (no scheme)"))?;
        let mut chars = scheme.chars();
        let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok || rest.is_empty() {
            return Err(invalid("it is not absolute (no scheme)"));
        }
        if raw.contains('#') {
            return Err(invalid("it has a fragment"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it holds a space or a control character"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_uris_without_a_fragment_are_resources_as_written() {
        for uri in [
            "https://api.example.com",
            "https://api.example.com/v1/",
            "urn:example:billing",
            "HTTPS://API.example.com",
        ] {
            assert_eq!(ResourceUri::parse(uri).unwrap().as_str(), uri);
        }
    }

    #[test]
    fn relative_uris_fragments_and_spaces_are_refused() {
        for bad in [
            "",
            "api.example.com",
            "/v1/documents",
            "https:",
            "1https://api.example.com",
            "https://api.example.com/#section",
            "https://api.example.com#",
            "https://api.example.com/ v1",
            "https://api.example.com/\n",
        ] {
            assert!(ResourceUri::parse(bad).is_err(), "{bad:?}");
        }
    }
}
