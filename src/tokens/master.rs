//! The master key: 32 random bytes that are never in the database. It encrypts the signing keys
//! at rest (AEAD) and is the root of the other keys Porteiro derives (HKDF with a distinct label
//! for each use), so that a copy of the database alone reveals no private key and no typed
//! username.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

/// What a derived key is for; each label gives an unrelated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The keyed digests of typed usernames and consumer keys in the login-attempt counters.
    Lockout,
    /// The AES-256-GCM key that encrypts the private signing keys.
    SigningKeys,
    /// The key-check value stored in the database, which tells a wrong master key apart from a
    /// corrupt row.
    KeyCheck,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Lockout => b"porteiro lockout",
            Purpose::SigningKeys => b"porteiro signing key encryption",
            Purpose::KeyCheck => b"porteiro key check",
        }
    }
}

/// How many bytes of the derived check key the database keeps: enough that another master key
/// matches by chance with probability 2^-128, and useless for anything but comparing.
const CHECK_LEN: usize = 16;

/// Why the master key could not be had. Each is the operator's to fix, so the server refuses to
/// start with exit status 2 and this message.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "a PostgreSQL database needs a master key: make one with `porteiro keys generate-master-key --out FILE`, keep a copy safe, and start every instance with --master-key-file FILE (or PORTEIRO_MASTER_KEY_FILE, or the key itself in PORTEIRO_MASTER_KEY)"
    )]
    Missing,
    #[error(
        "the master key in {0} is not 32 random bytes in base64; make one with `porteiro keys generate-master-key`"
    )]
    Malformed(String),
    #[error("cannot read the master key file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("cannot create the master key file {path}: {reason}")]
    Uncreatable { path: String, reason: String },
    #[error(
        "the signing keys of this database are encrypted under a master key, but its file {0} does not exist; restore it, or pass the key with --master-key-file"
    )]
    Lost(String),
    #[error(
        "the master key does not match this database: its signing keys were encrypted under another one; start with the master key the database was set up with"
    )]
    Mismatch,
}

/// A sealed private key that the master key cannot open although the key-check value matched:
/// the row is damaged, not the configuration.
#[derive(Debug, thiserror::Error)]
#[error("the private key of signing key {0} cannot be decrypted: its database row is damaged")]
pub struct CorruptKey(pub String);

/// Where the master key comes from, as configured.
#[derive(Clone, Default)]
pub enum MasterKeySource {
    /// Not configured: on SQLite `<database file>.key`, created at first start; on PostgreSQL
    /// an error.
    #[default]
    Default,
    /// `--master-key-file` / `PORTEIRO_MASTER_KEY_FILE`.
    File(PathBuf),
    /// `PORTEIRO_MASTER_KEY`: the key itself, base64.
    Inline(SecretString),
}

impl std::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Default => f.write_str("Default"),
            MasterKeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            MasterKeySource::Inline(_) => f.write_str("Inline([redacted])"),
        }
    }
}

/// Where the master key is when the settings name none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultKey {
    /// Nowhere: the key must be given (PostgreSQL).
    None,
    /// A fresh key for this process only (an in-memory SQLite database, which ends with it).
    Ephemeral,
    /// `<database file>.key`, beside the SQLite database file at this path.
    BesideDatabase(PathBuf),
}

/// The master key itself. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// Standard or URL-safe base64, padded or not: whatever an operator's tool wrote.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [
        GeneralPurpose::new(&base64::alphabet::STANDARD, config),
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, config),
    ]
    .iter()
    .find_map(|engine| engine.decode(text).ok())
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        secrecy::zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl MasterKey {
    /// A key from its 32 bytes (benchmarks and tests; servers load theirs with
    /// [`MasterKey::load`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> anyhow::Result<Self> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
        Ok(Self(bytes))
    }

    /// Parses the text of a key file or of `PORTEIRO_MASTER_KEY`: 32 bytes in base64, with any
    /// whitespace around it. `origin` names where the text came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<Self, MasterKeyError> {
        let bytes = Zeroizing::new(decode_base64(text.trim()).unwrap_or_default());
        let bytes: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::Malformed(origin.to_owned()))?;
        Ok(Self(bytes))
    }

    /// The key as a key file holds it: standard base64 with padding, 44 characters.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(general_purpose::STANDARD.encode(self.0))
    }

    /// A key for `purpose`, derived with HKDF-SHA256: never the master key itself.
    pub fn derive(&self, purpose: Purpose) -> [u8; 32] {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"porteiro").extract(&self.0);
        let mut out = [0u8; 32];
        prk.expand(&[purpose.label()], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// The key-check value the database keeps: it tells whether this is the master key its
    /// signing keys were sealed under, and reveals nothing else.
    pub fn check_value(&self) -> Vec<u8> {
        self.derive(Purpose::KeyCheck)[..CHECK_LEN].to_vec()
    }

    fn aead(&self) -> LessSafeKey {
        let key = Zeroizing::new(self.derive(Purpose::SigningKeys));
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, key.as_slice()).expect("32 bytes is an AES-256 key"),
        )
    }

    /// Encrypts the private key of signing key `kid` with AES-256-GCM under a fresh random
    /// 96-bit nonce, the kid as associated data (so a sealed key moved to another row does not
    /// open): `nonce || ciphertext || tag`.
    pub fn seal(&self, kid: &str, private_key: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| anyhow::anyhow!("no randomness"))?;
        // Room for the tag up front: growing the buffer would leave a copy of the plain text
        // behind in freed memory.
        let mut body = Vec::with_capacity(private_key.len() + AES_256_GCM.tag_len());
        body.extend_from_slice(private_key);
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut body,
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// Decrypts what [`MasterKey::seal`] made for `kid`.
    pub fn unseal(&self, kid: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CorruptKey> {
        let corrupt = || CorruptKey(kid.to_owned());
        if sealed.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
        let mut body = Zeroizing::new(body.to_vec());
        let len = self
            .aead()
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| corrupt())?
            .len();
        body.truncate(len);
        Ok(body)
    }

    /// The master key the settings name. `default` is where the key is when the settings name
    /// none; `sealed` whether the database already holds keys sealed under some master key, in
    /// which case a missing default file is not created afresh. The caller reads that from the
    /// database (its key-check value).
    pub fn load(
        source: &MasterKeySource,
        default: DefaultKey,
        sealed: bool,
    ) -> Result<Self, MasterKeyError> {
        match source {
            MasterKeySource::Inline(text) => {
                Self::parse(text.expose_secret(), "PORTEIRO_MASTER_KEY")
            }
            MasterKeySource::File(path) => Self::read(path),
            MasterKeySource::Default => match default {
                DefaultKey::None => Err(MasterKeyError::Missing),
                DefaultKey::Ephemeral => {
                    Self::generate().map_err(|e| MasterKeyError::Uncreatable {
                        path: ":memory:".into(),
                        reason: e.to_string(),
                    })
                }
                DefaultKey::BesideDatabase(db) => Self::default_file(&db, sealed),
            },
        }
    }

    fn read(path: &Path) -> Result<Self, MasterKeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| MasterKeyError::Unreadable {
            path: path.display().to_string(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "{e}; make one with `porteiro keys generate-master-key --out {}`",
                    path.display()
                ),
                _ => e.to_string(),
            },
        })?;
        let text = Zeroizing::new(text);
        warn_if_readable_by_others(path);
        Self::parse(&text, &path.display().to_string())
    }

    /// `<database file>.key`: read when it exists; otherwise created (mode 0600) with a fresh
    /// key, unless the database's keys are already sealed under one, which a fresh key would
    /// not open.
    fn default_file(database: &Path, sealed: bool) -> Result<Self, MasterKeyError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".key");
        let path = PathBuf::from(name);
        if !path.exists() {
            if sealed {
                return Err(MasterKeyError::Lost(path.display().to_string()));
            }
            let key = Self::generate().map_err(|e| MasterKeyError::Uncreatable {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let text = key.to_base64();
            let line = Zeroizing::new(format!("{}\n", text.expose_secret()));
            match crate::files::write_new_private(&path, line.as_bytes()) {
                Ok(true) => {
                    tracing::info!(file = %path.display(), "created the master key file; back it up: without it the signing keys cannot be decrypted");
                    return Ok(key);
                }
                // Another process created it first: use theirs.
                Ok(false) => {}
                Err(e) => {
                    return Err(MasterKeyError::Uncreatable {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        crate::files::restrict_to_owner(&path);
        Self::read(&path)
    }
}

/// A key file that others can read is the operator's to fix (it may belong to another account
/// that this process must not change); say so.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the master key file is readable by other users; make it readable by its owner only (chmod 600)"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_from_the_master_key_and_are_stable() {
        let master = MasterKey::from_bytes([7; 32]);
        let a = master.derive(Purpose::Lockout);
        assert_ne!(a, [7; 32]);
        assert_eq!(a, MasterKey::from_bytes([7; 32]).derive(Purpose::Lockout));
        assert_ne!(a, MasterKey::from_bytes([8; 32]).derive(Purpose::Lockout));
        assert_ne!(a, master.derive(Purpose::SigningKeys));
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(
            format!("{:?}", MasterKey::from_bytes([1; 32])),
            "MasterKey([redacted])"
        );
    }

    #[test]
    fn a_key_round_trips_through_base64_with_whitespace_around_it() {
        let key = MasterKey::generate().unwrap();
        let text = format!("  {}\n", key.to_base64().expose_secret());
        assert_eq!(MasterKey::parse(&text, "test").unwrap().0, key.0);
    }

    #[test]
    fn anything_but_32_bytes_of_base64_is_refused() {
        for text in ["", "not base64!", "AAAA", &"A".repeat(100)] {
            assert!(matches!(
                MasterKey::parse(text, "test"),
                Err(MasterKeyError::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_sealed_key_opens_with_its_kid_and_master_key_only() {
        let master = MasterKey::from_bytes([3; 32]);
        let sealed = master.seal("kid1", b"private").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 7 + 16);
        assert_eq!(
            master.unseal("kid1", &sealed).unwrap().as_slice(),
            b"private"
        );
        assert!(master.unseal("kid2", &sealed).is_err());
        assert!(
            MasterKey::from_bytes([4; 32])
                .unseal("kid1", &sealed)
                .is_err()
        );
        assert_ne!(master.seal("kid1", b"private").unwrap(), sealed);
    }
}
