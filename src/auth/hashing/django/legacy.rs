//! The MD5 and SHA-1 formats of old Django versions: one round of a fast digest, salted or not,
//! which a stolen database gives up in hours. Imported only when the operator asks
//! (`--allow-weak-hashes`), and replaced by argon2id at each user's first login.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use md5::{Digest, Md5};

/// A salted or unsalted MD5 or SHA-1 hash: `hex` is the digest of the salt then the password.
pub(super) enum Salted<'a> {
    /// `md5$<salt>$<hex>`.
    Md5 { salt: &'a str, hex: &'a str },
    /// `sha1$<salt>$<hex>`.
    Sha1 { salt: &'a str, hex: &'a str },
    /// 32 hex digits alone, or `md5$$<hex>`.
    UnsaltedMd5 { hex: &'a str },
    /// `sha1$$<hex>`.
    UnsaltedSha1 { hex: &'a str },
}

/// Reads the legacy formats as Django's `identify_hasher` tells them apart; `Ok(None)` for any
/// other format.
pub(super) fn parse(encoded: &str) -> Result<Option<Salted<'_>>, String> {
    if encoded.len() == 32 && !encoded.contains('$') {
        return hex_digits(encoded, 32).map(|hex| Some(Salted::UnsaltedMd5 { hex }));
    }
    let Some((algorithm, rest)) = encoded.split_once('$') else {
        return Ok(None);
    };
    let width = match algorithm {
        "md5" => 32,
        "sha1" => 40,
        _ => return Ok(None),
    };
    let (salt, hex) = rest
        .split_once('$')
        .ok_or_else(|| format!("malformed {algorithm} hash"))?;
    let hex = hex_digits(hex, width)?;
    Ok(Some(match (algorithm, salt.is_empty()) {
        ("md5", true) => Salted::UnsaltedMd5 { hex },
        ("md5", false) => Salted::Md5 { salt, hex },
        (_, true) => Salted::UnsaltedSha1 { hex },
        (_, false) => Salted::Sha1 { salt, hex },
    }))
}

fn hex_digits(hex: &str, width: usize) -> Result<&str, String> {
    if hex.len() == width && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(format!("malformed hash: expected {width} hex digits"))
    }
}

impl Salted<'_> {
    pub(super) fn algorithm(&self) -> &'static str {
        match self {
            Salted::Md5 { .. } => "md5",
            Salted::Sha1 { .. } => "sha1",
            Salted::UnsaltedMd5 { .. } => "unsalted_md5",
            Salted::UnsaltedSha1 { .. } => "unsalted_sha1",
        }
    }

    /// Django compares the lower-case hex digest, in constant time.
    pub(super) fn verify(&self, password: &[u8]) -> bool {
        let (computed, hex) = match *self {
            Salted::Md5 { salt, hex } => (md5_hex(salt, password), hex),
            Salted::UnsaltedMd5 { hex } => (md5_hex("", password), hex),
            Salted::Sha1 { salt, hex } => (sha1_hex(salt, password), hex),
            Salted::UnsaltedSha1 { hex } => (sha1_hex("", password), hex),
        };
        super::same(&computed, hex)
    }
}

fn md5_hex(salt: &str, password: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update(salt.as_bytes());
    md5.update(password);
    hex::encode(md5.finalize())
}

fn sha1_hex(salt: &str, password: &[u8]) -> String {
    let salted = [salt.as_bytes(), password].concat();
    hex::encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, &salted))
}
