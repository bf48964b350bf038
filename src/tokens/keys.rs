//! Signing keys: generation, parsing once into ready-to-use key pairs, signing, and the public
//! JWK of each. A key is parsed once when the ring loads it, because building a signer from DER
//! on every request costs more than the signature itself.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::DecodingKey;
use serde_json::json;

use super::{Algorithm, JwtType};

/// A key ready to sign and verify with.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    /// The order of creation (see `StoredKey::seq`): of the active keys, the latest signs.
    pub seq: i64,
    /// When it starts to sign (epoch seconds); it verifies and is published from creation.
    pub activates_at: i64,
    /// Set when the key leaves the ring (`keys retire`): tokens it signed that were verified
    /// before are refused from then on too.
    withdrawn: AtomicBool,
    /// `base64url(header)` with `typ: JWT`, the same for every such token this key signs.
    header_b64: String,
    /// `base64url(header)` with `typ: at+jwt`, for RFC 9068 access tokens.
    at_jwt_header_b64: String,
    pair: Pair,
    pub decoding: DecodingKey,
    /// The public JWK, absent for HS256.
    pub jwk: Option<serde_json::Value>,
}

// One value per key, parsed once; the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(RsaKeyPair),
    Hs256(aws_lc_rs::hmac::Key),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot use signing key {kid}: {reason}")]
pub struct KeyError {
    kid: String,
    reason: String,
}

/// Generates a fresh private key for `algorithm`, as PKCS#8 DER. Not for HS256.
pub fn generate_private_key(algorithm: Algorithm) -> anyhow::Result<Vec<u8>> {
    let err = |_| anyhow::anyhow!("key generation failed");
    Ok(match algorithm {
        Algorithm::ES256 => EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(err)?
            .to_pkcs8v1()
            .map_err(err)?
            .as_ref()
            .to_vec(),
        Algorithm::EdDSA => Ed25519KeyPair::generate()
            .map_err(err)?
            .to_pkcs8v1()
            .map_err(err)?
            .as_ref()
            .to_vec(),
        Algorithm::RS256 => aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(err)?
            .as_der()
            .map_err(err)?
            .as_ref()
            .to_vec(),
        Algorithm::HS256 => anyhow::bail!("HS256 keys come from PORTEIRO_HS256_SECRET"),
    })
}

impl SigningKey {
    /// Parses a stored asymmetric key (its PKCS#8 DER, opened).
    pub fn from_pkcs8(
        kid: &str,
        algorithm: Algorithm,
        der: &[u8],
        seq: i64,
        activates_at: i64,
    ) -> Result<Self, KeyError> {
        let fail = |reason: String| KeyError {
            kid: kid.to_owned(),
            reason,
        };
        let (pair, decoding, jwk) = match algorithm {
            Algorithm::ES256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                        .map_err(|e| fail(e.to_string()))?;
                // An uncompressed point: 0x04, then x and y of 32 bytes each.
                let point = pair.public_key().as_ref();
                let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..65]));
                let decoding =
                    DecodingKey::from_ec_components(&x, &y).map_err(|e| fail(e.to_string()))?;
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
                (Pair::Es256(pair), decoding, jwk)
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|e| fail(e.to_string()))?;
                let x = B64.encode(pair.public_key().as_ref());
                let decoding =
                    DecodingKey::from_ed_components(&x).map_err(|e| fail(e.to_string()))?;
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": x});
                (Pair::EdDsa(pair), decoding, jwk)
            }
            Algorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| fail(e.to_string()))?;
                let parts = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                let decoding = DecodingKey::from_rsa_raw_components(&parts.n, &parts.e);
                let jwk =
                    json!({"kty": "RSA", "n": B64.encode(&parts.n), "e": B64.encode(&parts.e)});
                (Pair::Rs256(pair), decoding, jwk)
            }
            Algorithm::HS256 => return Err(fail("HS256 keys are not stored".into())),
        };
        let mut jwk = jwk;
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(algorithm.as_str());
        jwk["use"] = json!("sig");
        Ok(Self::assemble(
            kid,
            algorithm,
            (seq, activates_at),
            pair,
            decoding,
            Some(jwk),
        ))
    }

    /// The HS256 key made from the shared secret. Its kid is derived from the secret's digest, so
    /// every instance with the same secret names it alike, and a changed secret gets a new kid.
    pub fn hs256(secret: &[u8]) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret);
        let kid = format!("hs256-{}", hex::encode(&digest.as_ref()[..8]));
        let pair = Pair::Hs256(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            secret,
        ));
        Self::assemble(
            &kid,
            Algorithm::HS256,
            (0, 0),
            pair,
            DecodingKey::from_secret(secret),
            None,
        )
    }

    fn assemble(
        kid: &str,
        algorithm: Algorithm,
        (seq, activates_at): (i64, i64),
        pair: Pair,
        decoding: DecodingKey,
        jwk: Option<serde_json::Value>,
    ) -> Self {
        let header =
            |typ: JwtType| json!({"alg": algorithm.as_str(), "typ": typ.as_str(), "kid": kid});
        Self {
            kid: kid.to_owned(),
            algorithm,
            seq,
            activates_at,
            withdrawn: AtomicBool::new(false),
            header_b64: B64.encode(header(JwtType::Jwt).to_string()),
            at_jwt_header_b64: B64.encode(header(JwtType::AtJwt).to_string()),
            pair,
            decoding,
            jwk,
        }
    }

    /// Whether the key has left the ring, so that nothing it signed is accepted any more.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn.load(Ordering::Acquire)
    }

    pub(crate) fn withdraw(&self) {
        self.withdrawn.store(true, Ordering::Release);
    }

    /// Signs `claims` into a compact JWS with `typ: JWT`.
    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> anyhow::Result<String> {
        self.sign_as(JwtType::Jwt, claims)
    }

    /// Signs `claims` into a compact JWS with the header type `typ`.
    pub fn sign_as<T: serde::Serialize>(&self, typ: JwtType, claims: &T) -> anyhow::Result<String> {
        let header_b64 = match typ {
            JwtType::Jwt => &self.header_b64,
            JwtType::AtJwt => &self.at_jwt_header_b64,
        };
        let payload = serde_json::to_vec(claims)?;
        let mut token = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 100);
        token.push_str(header_b64);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let signature = self.signature(token.as_bytes())?;
        token.push('.');
        B64.encode_string(&signature, &mut token);
        Ok(token)
    }

    fn signature(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let err = |_| anyhow::anyhow!("signing failed");
        Ok(match &self.pair {
            Pair::Es256(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map_err(err)?
                .as_ref()
                .to_vec(),
            Pair::EdDsa(pair) => pair.sign(message).as_ref().to_vec(),
            Pair::Rs256(pair) => {
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut out,
                )
                .map_err(err)?;
                out
            }
            Pair::Hs256(key) => aws_lc_rs::hmac::sign(key, message).as_ref().to_vec(),
        })
    }
}

/// A new random key id: 16 lowercase hex digits.
pub fn new_kid() -> String {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    hex::encode(bytes)
}
