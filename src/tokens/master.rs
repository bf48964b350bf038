//! The master key: 32 random bytes that are never in the database. It encrypts the signing keys
//! at rest (AEAD) and is the root of the other keys Porteiro derives (HKDF with a distinct label
//! for each use), so that a copy of the database alone reveals no private key and no typed
//! username.

use aws_lc_rs::hkdf;

/// What a derived key is for; each label gives an unrelated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The keyed digests of typed usernames and consumer keys in the login-attempt counters.
    Lockout,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Lockout => b"porteiro lockout",
        }
    }
}

/// The master key itself. `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> anyhow::Result<Self> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness"))?;
        Ok(Self(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
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
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(
            format!("{:?}", MasterKey::from_bytes([1; 32])),
            "MasterKey([redacted])"
        );
    }
}
