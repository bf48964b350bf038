//! The counters of an attempt: an (account, address) pair, the address, and for user accounts
//! the account from every address, keyed by an HMAC of what was typed under the lockout key.

use std::net::IpAddr;

use aws_lc_rs::hmac;

/// The counters one attempt touches.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    /// The account at this client address.
    pub(super) pair: String,
    /// The account from every address: user accounts only, and only with the backstop on.
    pub(super) account: Option<String>,
    pub(super) address: String,
}

impl AttemptKeys {
    pub(super) fn user(key: &hmac::Key, backstop: bool, username: &str, address: IpAddr) -> Self {
        let address = address_key(address);
        Self {
            pair: format!("pair:{}", keyed_digest(key, &["user", username, &address])),
            account: backstop
                .then(|| format!("account:{}", keyed_digest(key, &["user", username]))),
            address,
        }
    }

    pub(super) fn integration(key: &hmac::Key, consumer_key: &str, address: IpAddr) -> Self {
        let address = address_key(address);
        Self {
            pair: format!(
                "pair:{}",
                keyed_digest(key, &["client", consumer_key, &address])
            ),
            account: None,
            address,
        }
    }
}

/// The counter of a client address. An IPv6 client usually holds a whole /64, so it is counted
/// per /64: otherwise one host could spread its guesses over 2^64 counters.
pub(super) fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// HMAC-SHA256 of `parts` under the lockout key, in hex. Each part is preceded by its length,
/// so that no two different lists of parts are digested alike.
fn keyed_digest(key: &hmac::Key, parts: &[&str]) -> String {
    let mut ctx = hmac::Context::with_key(key);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    hex::encode(ctx.sign().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(key: [u8; 32], backstop: bool, username: &str, address: &str) -> AttemptKeys {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        AttemptKeys::user(&key, backstop, username, address.parse().unwrap())
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = address_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = address_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(a, "address:2001:db8:1:2::/64");
    }

    #[test]
    fn account_keys_reveal_neither_the_username_nor_its_plain_digest() {
        let keys = user([7; 32], true, "dev@example.com", "10.0.0.1");
        let plain = crate::tokens::claims::jti_digest("dev@example.com");
        let account = keys.account.unwrap();
        for key in [&keys.pair, &account] {
            assert!(!key.contains("dev@"), "{key}");
            assert!(!key.contains(&plain), "{key}");
        }
        assert_eq!(keys.address, "address:10.0.0.1");
    }

    #[test]
    fn the_pair_depends_on_the_address_and_the_account_does_not() {
        let here = user([7; 32], true, "dev@example.com", "10.0.0.1");
        let there = user([7; 32], true, "dev@example.com", "10.0.0.2");
        assert_ne!(here.pair, there.pair);
        assert_eq!(here.account, there.account);
    }

    #[test]
    fn keys_depend_on_the_lockout_key() {
        let a = user([7; 32], true, "dev@example.com", "10.0.0.1");
        let b = user([8; 32], true, "dev@example.com", "10.0.0.1");
        assert_ne!(a.pair, b.pair);
        assert_ne!(a.account, b.account);
    }

    #[test]
    fn parts_are_digested_with_their_lengths() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        assert_ne!(
            keyed_digest(&key, &["user", "a", "bc"]),
            keyed_digest(&key, &["user", "ab", "c"])
        );
    }

    #[test]
    fn integrations_have_no_account_counter_and_a_pair_apart_from_users() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let address = "10.0.0.1".parse().unwrap();
        let client = AttemptKeys::integration(&key, "k", address);
        assert!(client.account.is_none());
        assert_ne!(
            client.pair,
            AttemptKeys::user(&key, true, "k", address).pair
        );
    }

    #[test]
    fn without_the_backstop_a_user_has_no_account_counter() {
        assert!(user([7; 32], false, "x", "10.0.0.1").account.is_none());
    }
}
