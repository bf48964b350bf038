//! Django's password hashes, read and verified as Django's `check_password` does, so that users
//! imported from a Django site log in with the passwords they have (and are re-hashed to argon2id
//! at that first login). Each format's cost is bounded: an imported hash is checked on the hashing
//! threads, and one with an absurd cost would hold a thread (or its memory) for as long as it
//! asked.

use argon2::Block;
use argon2::password_hash::PasswordHash;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;

mod legacy;

/// Django 5.2's default is 1,000,000; ten times that is a second or more of one core per login.
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Django's default is 12; each step doubles the cost, and 16 is about four seconds of a core.
const MAX_BCRYPT_COST: u32 = 16;
/// Django's default is 102,400 KiB (100 MiB), held by one hashing thread while it verifies.
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_ITERATIONS: u32 = 16;
const MAX_ARGON2_LANES: u32 = 16;
/// Django's default is 16 MiB (n = 2^14, r = 8).
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
const MAX_SCRYPT_PARALLELISM: u32 = 16;

/// A Django password field, as it will be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DjangoPassword {
    /// A hash Porteiro verifies. `stored` is Django's own encoding (an unprefixed unsalted MD5
    /// gains the `md5$$` prefix Django itself also accepts, so every stored hash names its
    /// algorithm); `weak` marks the salted and unsalted MD5 and SHA-1 of old Django versions.
    Hash {
        stored: String,
        algorithm: &'static str,
        weak: bool,
    },
    /// Django's unusable password (`!` and random characters): the account cannot log in until
    /// someone sets it a password.
    Unusable,
}

/// Reads a Django password field: which format it is, or why Porteiro cannot take it. The reason
/// never quotes the hash.
pub fn classify(encoded: &str) -> Result<DjangoPassword, String> {
    if encoded.starts_with('!') {
        return Ok(DjangoPassword::Unusable);
    }
    let parsed = parse(encoded)?;
    let algorithm = parsed.algorithm();
    let stored = match parsed {
        Parsed::Salted(legacy::Salted::UnsaltedMd5 { hex }) => format!("md5$${hex}"),
        _ => encoded.to_owned(),
    };
    Ok(DjangoPassword::Hash {
        stored,
        algorithm,
        weak: matches!(parsed, Parsed::Salted(_)),
    })
}

/// Whether a stored password hash is one of Django's rather than Porteiro's own PHC string
/// (which starts with `$`).
pub(super) fn is_django(stored: &str) -> bool {
    !stored.starts_with('$')
}

/// Checks `password` against a Django hash as Django would; `None` when the hash cannot match
/// any password (unusable, or not a format Porteiro reads), so that the caller spends the same
/// work on it as on an unknown account.
pub(super) fn verify(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> Option<bool> {
    if stored.starts_with('!') {
        return None;
    }
    let parsed = parse(stored).ok()?;
    Some(match parsed {
        Parsed::Pbkdf2 {
            sha1,
            iterations,
            salt,
            hash,
        } => {
            // aws-lc's PBKDF2, as fast in a debug build as in a release one; Django compares
            // whole encodings, so a stored hash of another length than the digest never matches.
            let (algorithm, len) = if sha1 {
                (aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1, 20)
            } else {
                (aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256, 32)
            };
            let expected = STANDARD.decode(hash).ok().filter(|h| h.len() == len)?;
            let iterations = std::num::NonZeroU32::new(iterations)?;
            aws_lc_rs::pbkdf2::verify(algorithm, iterations, salt.as_bytes(), password, &expected)
                .is_ok()
        }
        Parsed::Argon2 { phc } => verify_argon2(password, &phc, memory)?,
        Parsed::Bcrypt { sha256, data } => {
            if sha256 {
                // Django hashes the password first, so that bcrypt's 72-byte limit does not cut it.
                let prehashed = hex::encode(digest::digest(&digest::SHA256, password));
                verify_bcrypt(prehashed.as_bytes(), data)?
            } else {
                verify_bcrypt(password, data)?
            }
        }
        Parsed::Scrypt {
            log_n,
            salt,
            r,
            p,
            hash,
        } => {
            let params = scrypt::Params::new(log_n, r, p, 64).ok()?;
            let mut out = [0u8; 64];
            scrypt::scrypt(password, salt.as_bytes(), &params, &mut out).ok()?;
            same(&STANDARD.encode(out), hash)
        }
        Parsed::Salted(salted) => salted.verify(password),
    })
}

/// Compares two encodings in constant time (their lengths are not secret).
fn same(computed: &str, stored: &str) -> bool {
    computed.as_bytes().ct_eq(stored.as_bytes()).into()
}

/// A Django hash taken apart.
enum Parsed<'a> {
    /// `pbkdf2_sha256$<iterations>$<salt>$<base64>` (and `pbkdf2_sha1`).
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: &'a str,
        hash: &'a str,
    },
    /// `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: argon2-cffi's PHC string, behind
    /// Django's `argon2` and without its leading `$` (kept here with it).
    Argon2 { phc: String },
    /// `bcrypt_sha256$$2b$<cost>$<salt and hash>` and `bcrypt$$2b$…`: bcrypt's own string.
    Bcrypt { sha256: bool, data: &'a str },
    /// `scrypt$<n>$<salt>$<r>$<p>$<base64 of 64 bytes>`.
    Scrypt {
        log_n: u8,
        salt: &'a str,
        r: u32,
        p: u32,
        hash: &'a str,
    },
    /// The MD5 and SHA-1 formats of old Django versions.
    Salted(legacy::Salted<'a>),
}

impl Parsed<'_> {
    fn algorithm(&self) -> &'static str {
        match self {
            Parsed::Pbkdf2 { sha1: false, .. } => "pbkdf2_sha256",
            Parsed::Pbkdf2 { sha1: true, .. } => "pbkdf2_sha1",
            Parsed::Argon2 { .. } => "argon2",
            Parsed::Bcrypt { sha256: true, .. } => "bcrypt_sha256",
            Parsed::Bcrypt { sha256: false, .. } => "bcrypt",
            Parsed::Scrypt { .. } => "scrypt",
            Parsed::Salted(salted) => salted.algorithm(),
        }
    }
}

fn number<T: std::str::FromStr>(field: &str, what: &str) -> Result<T, String> {
    field.parse().map_err(|_| format!("{what} is not a number"))
}

fn parse(encoded: &str) -> Result<Parsed<'_>, String> {
    if let Some(salted) = legacy::parse(encoded)? {
        return Ok(Parsed::Salted(salted));
    }
    let (algorithm, rest) = encoded
        .split_once('$')
        .ok_or_else(|| "not a Django password hash (no `algorithm$` prefix)".to_owned())?;
    match algorithm {
        "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let malformed = || format!("malformed {algorithm} hash");
            let mut fields = rest.splitn(3, '$');
            let (Some(iterations), Some(salt), Some(hash)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed());
            };
            let iterations: u32 = number(iterations, "the iteration count")?;
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(format!(
                    "{algorithm} iteration count {iterations} is outside 1..={MAX_PBKDF2_ITERATIONS}"
                ));
            }
            if hash.is_empty() {
                return Err(malformed());
            }
            Ok(Parsed::Pbkdf2 {
                sha1: algorithm == "pbkdf2_sha1",
                iterations,
                salt,
                hash,
            })
        }
        "argon2" => {
            let phc = format!("${rest}");
            check_argon2(&phc)?;
            Ok(Parsed::Argon2 { phc })
        }
        "bcrypt_sha256" | "bcrypt" => {
            let (cost, _, _) =
                bcrypt_parts(rest).ok_or_else(|| format!("malformed {algorithm} hash"))?;
            if !(4..=MAX_BCRYPT_COST).contains(&cost) {
                return Err(format!(
                    "{algorithm} cost {cost} is outside 4..={MAX_BCRYPT_COST}"
                ));
            }
            Ok(Parsed::Bcrypt {
                sha256: algorithm == "bcrypt_sha256",
                data: rest,
            })
        }
        "scrypt" => {
            let fields: Vec<&str> = rest.split('$').collect();
            let [n, salt, r, p, hash] = fields[..] else {
                return Err("malformed scrypt hash".to_owned());
            };
            let (n, r, p): (u64, u32, u32) = (
                number(n, "the work factor")?,
                number(r, "the block size")?,
                number(p, "the parallelism")?,
            );
            if !n.is_power_of_two() || n < 2 {
                return Err("scrypt work factor is not a power of two".to_owned());
            }
            if r == 0 || p == 0 || p > MAX_SCRYPT_PARALLELISM {
                return Err("scrypt block size or parallelism out of range".to_owned());
            }
            if 128 * u64::from(r) * n > MAX_SCRYPT_MEMORY {
                return Err(format!(
                    "scrypt needs more than {} MiB",
                    MAX_SCRYPT_MEMORY >> 20
                ));
            }
            let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| "bad work factor")?;
            scrypt::Params::new(log_n, r, p, 64)
                .map_err(|_| "scrypt parameters out of range".to_owned())?;
            Ok(Parsed::Scrypt {
                log_n,
                salt,
                r,
                p,
                hash,
            })
        }
        "crypt" => Err(
            "crypt(3) hashes are not supported (Django removed them in 5.0): \
             the user needs a new password"
                .to_owned(),
        ),
        other => {
            let name: String = other.chars().take(32).collect();
            Err(format!("unknown Django hash algorithm `{name}`"))
        }
    }
}

/// Refuses an argon2 PHC string Porteiro cannot verify, or whose cost is out of bounds.
fn check_argon2(phc: &str) -> Result<(), String> {
    let (_, params) = argon2_parts(phc).ok_or("malformed argon2 hash")?;
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB
        || params.t_cost() > MAX_ARGON2_ITERATIONS
        || params.p_cost() > MAX_ARGON2_LANES
    {
        return Err(format!(
            "argon2 cost above m={MAX_ARGON2_MEMORY_KIB},t={MAX_ARGON2_ITERATIONS},p={MAX_ARGON2_LANES}"
        ));
    }
    Ok(())
}

fn argon2_parts(phc: &str) -> Option<(PasswordHash<'_>, argon2::Params)> {
    let hash = PasswordHash::new(phc).ok()?;
    argon2::Algorithm::try_from(hash.algorithm).ok()?;
    let params = argon2::Params::try_from(&hash).ok()?;
    hash.salt?;
    hash.hash?;
    Some((hash, params))
}

fn verify_argon2(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> Option<bool> {
    let (hash, params) = argon2_parts(phc)?;
    let algorithm = argon2::Algorithm::try_from(hash.algorithm).ok()?;
    // argon2-cffi, like the reference implementation, reads a string without `v=` as version 1.0.
    let version = match hash.version {
        Some(v) => argon2::Version::try_from(v).ok()?,
        None => argon2::Version::V0x10,
    };
    let mut salt = [0u8; 128];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?;
    let expected = hash.hash?;
    let mut out = vec![0u8; expected.len()];
    super::argon2id::compute_with(algorithm, version, params, password, salt, &mut out, memory)
        .ok()?;
    Some(out.ct_eq(expected.as_bytes()).into())
}

/// `$2b$<cost>$<22 characters of salt><31 of hash>`: cost, salt and hash.
fn bcrypt_parts(data: &str) -> Option<(u32, [u8; 16], &str)> {
    let rest = ["$2b$", "$2a$", "$2y$"]
        .iter()
        .find_map(|prefix| data.strip_prefix(prefix))?;
    let (cost, salt_and_hash) = rest.split_once('$')?;
    if cost.len() != 2 || salt_and_hash.len() != 53 || !salt_and_hash.is_ascii() {
        return None;
    }
    let cost = cost.parse().ok()?;
    let (salt, hash) = salt_and_hash.split_at(22);
    let salt = bcrypt::BASE_64.decode(salt).ok()?.try_into().ok()?;
    Some((cost, salt, hash))
}

fn verify_bcrypt(password: &[u8], data: &str) -> Option<bool> {
    let (cost, salt, hash) = bcrypt_parts(data)?;
    if !(4..=MAX_BCRYPT_COST).contains(&cost) {
        return None;
    }
    // bcrypt reads the password with its terminating NUL, and no more than 72 bytes of it.
    let mut key = Vec::with_capacity(password.len() + 1);
    key.extend_from_slice(password);
    key.push(0);
    key.truncate(72);
    let out = bcrypt::bcrypt(cost, salt, &key);
    Some(same(&bcrypt::BASE_64.encode(&out[..23]), hash))
}

#[cfg(test)]
mod tests;
