//! The shape of the access tokens `POST /oauth/token` issues: by default the same JWT as every
//! other token (`typ: JWT`, no `aud`); under the RFC 9068 profile a JWT access token
//! (`typ: at+jwt`) whose `aud` is the resource the client asked for (RFC 8707), among those the
//! operator allows, or the default audience. The dialects' tokens never change shape.

use super::{Auth, AuthError};
use crate::domain::ResourceUri;

/// Which profile OAuth access tokens follow (`--oauth-token-profile`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OAuthTokenProfile {
    /// The JWT every Porteiro token is: `typ: JWT`, no `aud`. A `resource` is ignored.
    #[default]
    Jwt,
    /// RFC 9068's JWT profile for OAuth 2 access tokens: `typ: at+jwt` and an `aud`.
    Rfc9068,
}

impl OAuthTokenProfile {
    /// The value of `--oauth-token-profile`.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthTokenProfile::Jwt => "jwt",
            OAuthTokenProfile::Rfc9068 => "rfc9068",
        }
    }
}

/// How the token endpoint shapes access tokens, as configured.
#[derive(Debug, Clone, Default)]
pub enum OAuthAccessTokens {
    /// The default profile.
    #[default]
    Jwt,
    /// The RFC 9068 profile, with the audience of a request that names no resource and the
    /// other resources a request may name.
    Rfc9068 {
        default_audience: ResourceUri,
        resources: Vec<ResourceUri>,
    },
}

impl Auth {
    /// The audience of an access token from `POST /oauth/token`, given the `resource`
    /// parameters of the request: `None` under the default profile (which ignores them), the
    /// default audience when none is given, or the one resource asked for. More than one
    /// resource, one that is not an absolute URI without a fragment, or one the operator did not
    /// allow is `InvalidTarget` (RFC 8707 §2): a token for several resource servers could be
    /// replayed by any of them at the others, so Porteiro issues one audience per token.
    pub fn oauth_audience(&self, resources: &[String]) -> Result<Option<String>, AuthError> {
        let OAuthAccessTokens::Rfc9068 {
            default_audience,
            resources: allowed,
        } = &self.oauth_access_tokens
        else {
            return Ok(None);
        };
        match resources {
            [] => Ok(Some(default_audience.to_string())),
            [one] => {
                let asked = ResourceUri::parse(one).map_err(|_| AuthError::InvalidTarget)?;
                if asked == *default_audience || allowed.contains(&asked) {
                    Ok(Some(asked.to_string()))
                } else {
                    Err(AuthError::InvalidTarget)
                }
            }
            _ => Err(AuthError::InvalidTarget),
        }
    }
}
