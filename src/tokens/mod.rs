//! Tokens: claims, signing keys, the key ring, and the signer/verifier that pins the configured
//! algorithm. No I/O on the database: the callers read and write the stored keys (see
//! [`stored`]) and hand them to the ring.

pub mod cache;
pub mod claims;
pub mod keys;
pub mod master;
pub mod ring;
pub mod stored;

use jsonwebtoken::Validation;

pub use claims::{Claims, TokenType};
pub use ring::KeyRing;

/// The token signing algorithms Porteiro can be pinned to, named as in a JWT's `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    ES256,
    EdDSA,
    RS256,
    HS256,
}

impl Algorithm {
    /// Every algorithm, in the order `--help` lists them.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::RS256,
        Algorithm::HS256,
    ];

    /// The algorithm's name: a JWT's `alg`, the value of `--algorithm`, a stored key's algorithm.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }
}

/// A name that is not one of [`Algorithm::ALL`]'s, exactly as written (case counts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signing algorithm {0}")]
pub struct UnknownAlgorithm(pub String);

impl std::str::FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
            .ok_or_else(|| UnknownAlgorithm(name.to_owned()))
    }
}

/// The `typ` header of a token Porteiro signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtType {
    /// `JWT`: every token of the user-login and integration dialects, every refresh token, and
    /// OAuth access tokens under the default profile.
    Jwt,
    /// `at+jwt` (RFC 9068 §2.1): OAuth access tokens under the RFC 9068 profile, so that a
    /// resource server can tell an access token from any other JWT.
    AtJwt,
}

impl JwtType {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtType::Jwt => "JWT",
            JwtType::AtJwt => "at+jwt",
        }
    }
}

/// Longer than any token Porteiro signs; anything longer is refused before parsing.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a token was refused. Callers answer every case alike; the kinds exist for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("malformed token")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("unknown key id")]
    UnknownKey,
    #[error("bad signature or claims")]
    Signature,
    #[error("wrong issuer")]
    Issuer,
    #[error("expired")]
    Expired,
}

/// Signs and verifies with the key ring, pinned to one algorithm and one issuer.
pub struct Tokens {
    pub ring: KeyRing,
    pub issuer: String,
    algorithm: Algorithm,
    leeway: i64,
    validation: Validation,
    verified: cache::VerifiedTokens,
}

impl Tokens {
    pub fn new(ring: KeyRing, algorithm: Algorithm, issuer: String, leeway: i64) -> Self {
        let alg = match algorithm {
            Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        };
        let mut validation = Validation::new(alg);
        // Expiry and issuer are checked against the injected clock below, not the system's.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Self {
            ring,
            issuer,
            algorithm,
            leeway,
            validation,
            verified: Default::default(),
        }
    }

    /// Signs claims with the key that signs now, with `typ: JWT`.
    pub fn sign(&self, claims: &Claims, now: i64) -> anyhow::Result<String> {
        self.sign_as(JwtType::Jwt, claims, now)
    }

    /// Signs claims with the key that signs now, with the header type `typ`.
    pub fn sign_as(&self, typ: JwtType, claims: &Claims, now: i64) -> anyhow::Result<String> {
        let key = self
            .ring
            .signing_key(now)
            .ok_or_else(|| anyhow::anyhow!("no signing key is active"))?;
        key.sign_as(typ, claims)
    }

    /// Checks algorithm, key id, signature, issuer and expiry, and that the header's `typ` is
    /// the one Porteiro signs such claims with. No audience is checked: any token of this issuer
    /// is Porteiro's own to answer about. Whether the session has ended is the caller's business.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, InvalidToken> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(InvalidToken::Malformed);
        }
        if let Some(claims) = self.verified.get(token, now, self.leeway) {
            return Ok(claims);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken::Malformed)?;
        let typ = match header.typ.as_deref() {
            Some("JWT") => JwtType::Jwt,
            Some("at+jwt") => JwtType::AtJwt,
            _ => return Err(InvalidToken::Malformed),
        };
        if header.alg != self.validation.algorithms[0] {
            return Err(InvalidToken::Algorithm);
        }
        let kid = header.kid.ok_or(InvalidToken::UnknownKey)?;
        let key = self
            .ring
            .verifying_key(&kid, now)
            .ok_or(InvalidToken::UnknownKey)?;
        debug_assert_eq!(key.algorithm, self.algorithm);
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)
            .map_err(|_| InvalidToken::Signature)?;
        let claims = data.claims;
        // Porteiro signs `at+jwt` only over an OAuth access token with an audience, and an
        // audience only into those: any other combination is not a token of ours.
        let rfc9068 = claims.token_type == TokenType::Access
            && claims.aud.is_some()
            && claims.client_id.is_some();
        if (typ == JwtType::AtJwt) != rfc9068 {
            return Err(InvalidToken::Signature);
        }
        if claims.iss != self.issuer {
            return Err(InvalidToken::Issuer);
        }
        if claims.exp.saturating_add(self.leeway) <= now {
            return Err(InvalidToken::Expired);
        }
        self.verified.insert(token, &claims, key, now);
        Ok(claims)
    }
}
