//! Argon2id itself: hashing a password into a PHC string in memory the caller keeps, checking a
//! password against one, and whether a stored hash was made with other parameters than a new
//! one would be.

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Argon2, Block, Params};
use secrecy::{ExposeSecret, SecretString};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// The length of the hash output, argon2's default.
const OUTPUT_LEN: usize = 32;
/// Argon2 memory is allocated at least this large, of which only what the parameters need is
/// ever touched (and resident). glibc gives an allocation above its largest mmap threshold
/// (32 MiB) a mapping of its own and returns it to the system when it is freed. A 19 MiB block
/// would instead come from a thread's heap once the first one had been freed (glibc raises its
/// threshold then), and that memory would stay with the process: 31 MiB idle after one login
/// instead of 12. (The `porteiro` binary allocates with jemalloc, which serves any allocation
/// above 8 MiB from an arena of its own and returns it as promptly; this is for glibc, which
/// the library's other users, the tests among them, allocate with.)
const MIN_ALLOCATION: usize = 33 << 20;

fn params(settings: Argon2Settings) -> Params {
    Params::new(
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        Some(OUTPUT_LEN),
    )
    .expect("argon2 parameters are checked when settings are resolved")
}

/// Runs argon2id into `out` in `memory`, grown to the size the parameters need and kept for the
/// next hash: allocated at the first login, not at start, so an idle server stays small.
fn compute(
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> anyhow::Result<()> {
    compute_with(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
        password,
        salt,
        out,
        memory,
    )
}

/// Runs any argon2 variant as [`compute`] does: for imported hashes (Django's argon2i and older
/// versions), in the same reused memory.
pub(super) fn compute_with(
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> anyhow::Result<()> {
    let needed = params.block_count();
    if memory.len() < needed {
        let blocks = needed.max(MIN_ALLOCATION / size_of::<Block>());
        memory.reserve_exact(blocks - memory.len());
        memory.resize(needed, Block::default());
    }
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), using `memory`.
pub(super) fn hash_with(
    password: &SecretString,
    settings: Argon2Settings,
    memory: &mut Vec<Block>,
) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let params = params(settings);
    let mut out = [0u8; OUTPUT_LEN];
    compute(
        params.clone(),
        password.expose_secret().as_bytes(),
        &salt,
        &mut out,
        memory,
    )?;
    phc_string(&params, &salt, &out)
}

/// A PHC string at `settings` whose salt and output are random: checking any password against it
/// costs a full hash and never matches. Made without hashing, so that starting costs neither the
/// time nor the argon2 memory of a hash.
pub(super) fn dummy_hash(settings: Argon2Settings) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    let mut out = [0u8; OUTPUT_LEN];
    let none = |_| anyhow::anyhow!("no randomness");
    aws_lc_rs::rand::fill(&mut salt).map_err(none)?;
    aws_lc_rs::rand::fill(&mut out).map_err(none)?;
    phc_string(&params(settings), &salt, &out)
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
fn phc_string(params: &Params, salt: &[u8], out: &[u8]) -> anyhow::Result<String> {
    let err = |e: argon2::password_hash::Error| anyhow::anyhow!("{e}");
    let salt = SaltString::encode_b64(salt).map_err(err)?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(err)?,
        salt: Some(Salt::from(&salt)),
        hash: Some(Output::new(out).map_err(err)?),
    };
    Ok(hash.to_string())
}

/// Hashes a password on the current thread: for the command line.
pub fn hash_password(password: &SecretString, settings: Argon2Settings) -> anyhow::Result<String> {
    hash_with(password, settings, &mut Vec::new())
}

/// Whether `password` matches the PHC string `stored`; the comparison is constant-time.
pub(super) fn verify_with(
    password: &SecretString,
    stored: &PasswordHash<'_>,
    memory: &mut Vec<Block>,
) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    if stored.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(
        params,
        password.expose_secret().as_bytes(),
        salt,
        &mut out,
        memory,
    )
    .is_err()
    {
        return false;
    }
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// Whether a stored hash was made otherwise than a new one would be: another algorithm or
/// version, or other cost parameters — weaker ones, which an attacker would crack faster, but
/// also stronger ones: unknown users are checked against a dummy hash at the current parameters,
/// so a real user whose hash costs more (or less) than that could be told apart by timing. Each
/// user's hash is brought to the current parameters at their next successful login.
pub(super) fn needs_rehash(hash: &PasswordHash<'_>, settings: Argon2Settings) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || hash.version != Some(argon2::Version::V0x13.into())
        || hash.hash.is_none_or(|h| h.len() != OUTPUT_LEN)
        || params.m_cost() != settings.memory_kib
        || params.t_cost() != settings.iterations
        || params.p_cost() != settings.parallelism
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Settings = Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_verifier() {
        use argon2::password_hash::PasswordVerifier;
        let hash = hash_password(&SecretString::from("interop-123"), CHEAP).unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop-123", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"interop-124", &parsed)
                .is_err()
        );
    }
}
