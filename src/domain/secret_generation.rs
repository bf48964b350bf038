//! Which secret of an integration its tokens were issued under.
//!
//! A client-credentials token has no refresh token and so needs no session row: nothing is ever
//! rotated in it, and writing one per token was most of what such a token cost the database.
//! What a row gave it is what ends it: revoking the integration or rotating its secret. Those
//! end every token issued under the secret that was current, so each integration token's session
//! id carries a tag of that secret ([`SecretGeneration::tag`]), and the change records one ended
//! marker, [`SecretGeneration::marker`], in the sessions table. Bearer checks refuse a token
//! whose session id or whose generation's marker has ended; markers travel between instances
//! exactly as ended sessions do.

/// Hex digits of the tag in a session id: 40 bits, so that a new secret's tag equals the old
/// one's once in a trillion rotations (which would let the old secret's tokens live on until
/// they expire).
pub const TAG_HEX_LEN: usize = 10;

/// The secret digest an integration's tokens are issued under, with its consumer key.
#[derive(Debug, Clone, Copy)]
pub struct SecretGeneration<'a> {
    pub consumer_key: &'a str,
    pub secret_digest: &'a str,
}

impl SecretGeneration<'_> {
    /// The tag of this secret in session ids: hex of the first 40 bits of a hash of its digest.
    /// The digest is a stored value, not the secret; the tag tells nothing about either.
    pub fn tag(&self) -> String {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"porteiro secret generation\0");
        ctx.update(self.secret_digest.as_bytes());
        let mut tag = hex::encode(&ctx.finish().as_ref()[..TAG_HEX_LEN / 2]);
        tag.truncate(TAG_HEX_LEN);
        tag
    }

    /// The id of the ended marker that ends every token of this generation.
    pub fn marker(&self) -> String {
        marker(self.consumer_key, &self.tag())
    }
}

/// The marker of the generation an integration token's session id names, if it is one of ours.
pub fn marker_of(consumer_key: &str, sid: &str) -> Option<String> {
    session_tag(sid).map(|tag| marker(consumer_key, tag))
}

/// The tag in an integration session id: the 10 hex digits after its 12 of milliseconds.
pub fn session_tag(sid: &str) -> Option<&str> {
    sid.get(12..12 + TAG_HEX_LEN)
}

/// A consumer key, a dot and a tag: never the 32 hex digits of a session id, so a marker can
/// share the sessions table (and its primary key) with real sessions.
fn marker(consumer_key: &str, tag: &str) -> String {
    format!("{consumer_key}.{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5b1c4a7e-2f0d-4d7b-9c1e-0a3f6e8d2b41";

    #[test]
    fn a_new_secret_has_another_marker_and_a_token_finds_its_own() {
        let old = SecretGeneration {
            consumer_key: KEY,
            secret_digest: "aa",
        };
        let new = SecretGeneration {
            consumer_key: KEY,
            secret_digest: "bb",
        };
        assert_eq!(old.tag().len(), TAG_HEX_LEN);
        assert_ne!(old.marker(), new.marker());
        let sid = format!("0123456789ab{}0123456789", old.tag());
        assert_eq!(marker_of(KEY, &sid), Some(old.marker()));
        assert_ne!(marker_of(KEY, &sid), Some(new.marker()));
        // The same secret digest under another consumer key is another generation.
        let other = SecretGeneration {
            consumer_key: "another",
            secret_digest: "aa",
        };
        assert_ne!(marker_of(other.consumer_key, &sid), Some(old.marker()));
        assert_eq!(marker_of(KEY, "short"), None);
    }
}
