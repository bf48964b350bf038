//! Login throttling (CONTRACT §5): failures counted per account and per client address in the
//! database, counted before the credential is checked so that no more than the limit are ever
//! checked, on one instance or many.

use std::net::IpAddr;

use super::recent::Recent;
use crate::config::LockoutSettings;
use crate::store::{AttemptCount, Store};
use crate::tokens::claims::jti_digest;

/// The counters one attempt touches.
#[derive(Debug, Clone)]
pub struct AttemptKeys {
    account: String,
    address: String,
}

impl AttemptKeys {
    /// Keys for a user login. The username is stored as a digest: no address book in the table,
    /// and a bounded key whatever was typed.
    pub fn user(normalized_username: &str, address: IpAddr) -> Self {
        Self {
            account: format!("account:{}", jti_digest(normalized_username)),
            address: address_key(address),
        }
    }

    /// Keys for an integration's consumer key.
    pub fn integration(consumer_key: &str, address: IpAddr) -> Self {
        Self {
            account: format!("client:{consumer_key}"),
            address: address_key(address),
        }
    }
}

/// The counter of a client address. An IPv6 client usually holds a whole /64, so it is counted
/// per /64: otherwise one host could spread its guesses over 2^64 counters.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

pub struct Throttle {
    store: Store,
    limits: LockoutSettings,
    /// Pairs of counters a peek found clear, remembered for a second (see [`Throttle::peek`]).
    clear: Recent<Peek>,
}

impl Throttle {
    pub fn new(store: Store, limits: LockoutSettings) -> Self {
        Self {
            store,
            limits,
            clear: Recent::default(),
        }
    }

    /// Counts an attempt. `Some(retry_after)` when the address or the account is locked out, in
    /// which case no credential may be checked.
    pub async fn admit(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Option<u64>> {
        let window = self.limits.window.as_secs() as i64;
        let lock_for = self.limits.duration.as_secs() as i64;
        let address_limit = i64::from(self.limits.address_failures);
        let address = self
            .store
            .count_attempt(&keys.address, now, address_limit, window, lock_for)
            .await?;
        if let Some(wait) = refusal(address, address_limit, now, lock_for) {
            return Ok(Some(wait));
        }
        let account_limit = i64::from(self.limits.account_failures);
        let account = self
            .store
            .count_attempt(&keys.account, now, account_limit, window, lock_for)
            .await?;
        let refused = refusal(account, account_limit, now, lock_for);
        if refused.is_some() {
            // Refused without a check: not a failure of this address.
            self.store
                .uncount_attempt(&keys.address, address_limit)
                .await?;
        }
        Ok(refused)
    }

    /// Takes back an admitted attempt whose credential could not be checked (the hashing queue
    /// was full): it was no failure.
    pub async fn release(&self, keys: &AttemptKeys) -> sqlx::Result<()> {
        self.store
            .uncount_attempt(&keys.account, i64::from(self.limits.account_failures))
            .await?;
        self.store
            .uncount_attempt(&keys.address, i64::from(self.limits.address_failures))
            .await
    }

    /// A success resets the account and takes back the address's count of this attempt.
    pub async fn succeeded(&self, keys: &AttemptKeys) -> sqlx::Result<()> {
        self.store.clear_attempts(&keys.account).await?;
        self.store
            .uncount_attempt(&keys.address, i64::from(self.limits.address_failures))
            .await
    }
}

/// What a look at the counters found, before a cheap credential is checked.
#[derive(Debug, Clone, Copy)]
pub struct Peek {
    /// Seconds to wait when the address or the account is locked now.
    pub locked: Option<u64>,
    /// Whether the account has failures to forget after a success.
    pub account_failed: bool,
}

impl Throttle {
    /// For high-entropy secrets, whose check costs a digest comparison: a read-only look at the
    /// counters. A locked address or account is refused without a check; otherwise the secret is
    /// checked first and only a failure is counted (see [`Throttle::failed`]), so a success writes
    /// nothing. The answers are those of counting first: the N-th failure gets the ordinary answer
    /// and every later one the lockout, also under parallel requests, because failures are counted
    /// atomically before they are answered.
    ///
    /// A client that succeeds keeps asking, so a peek that found nothing against the pair is
    /// remembered for a second, until a failure is counted here. The one thing that can slip
    /// through meanwhile is the right secret presented here in the second after another
    /// instance locked the pair; a wrong one is still counted, and refused past the limit.
    pub async fn peek(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Peek> {
        let pair = format!("{} {}", keys.account, keys.address);
        if let Some(peek) = self.clear.get(&pair, now) {
            return Ok(peek);
        }
        let [account, address] = self
            .store
            .peek_attempts([&keys.account, &keys.address])
            .await?;
        let lock_for = self.limits.duration.as_secs() as i64;
        let locked = [account, address]
            .into_iter()
            .flatten()
            .filter_map(|c| c.locked_until.filter(|until| *until > now))
            .max()
            .map(|until| (until - now).clamp(1, lock_for.max(1)) as u64);
        let peek = Peek {
            locked,
            account_failed: account.is_some_and(|c| c.failures > 0),
        };
        if peek.locked.is_none() && !peek.account_failed {
            self.clear.insert(&pair, &peek, now);
        }
        Ok(peek)
    }

    /// Counts a failed check against the address and the account; `Some(retry_after)` when this
    /// failure is past a limit and must be answered as a lockout.
    pub async fn failed(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Option<u64>> {
        self.clear.clear();
        let window = self.limits.window.as_secs() as i64;
        let lock_for = self.limits.duration.as_secs() as i64;
        let address_limit = i64::from(self.limits.address_failures);
        let account_limit = i64::from(self.limits.account_failures);
        let address = self
            .store
            .count_attempt(&keys.address, now, address_limit, window, lock_for)
            .await?;
        let account = self
            .store
            .count_attempt(&keys.account, now, account_limit, window, lock_for)
            .await?;
        Ok(refusal(address, address_limit, now, lock_for).or(refusal(
            account,
            account_limit,
            now,
            lock_for,
        )))
    }

    /// After a success on the peek path: forgets the account's failures, if it had any.
    pub async fn forget(&self, keys: &AttemptKeys, peek: Peek) -> sqlx::Result<()> {
        if peek.account_failed {
            self.store.clear_attempts(&keys.account).await?;
        }
        Ok(())
    }
}

/// The whole seconds to wait when `count` is past the limit: more than 0, at most the remaining lock.
fn refusal(count: AttemptCount, limit: i64, now: i64, lock_for: i64) -> Option<u64> {
    if count.failures <= limit {
        return None;
    }
    let remaining = count.locked_until.map_or(lock_for, |until| until - now);
    Some(remaining.clamp(1, lock_for.max(1)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_up_to_the_limit_are_admitted() {
        let count = AttemptCount {
            failures: 5,
            locked_until: Some(1_900),
        };
        assert_eq!(refusal(count, 5, 1_000, 900), None);
    }

    #[test]
    fn the_attempt_after_the_limit_waits_for_the_rest_of_the_lock() {
        let count = AttemptCount {
            failures: 6,
            locked_until: Some(1_900),
        };
        assert_eq!(refusal(count, 5, 1_000, 900), Some(900));
        assert_eq!(refusal(count, 5, 1_899, 900), Some(1));
    }

    #[test]
    fn retry_after_is_never_zero() {
        let count = AttemptCount {
            failures: 9,
            locked_until: Some(1_000),
        };
        assert_eq!(refusal(count, 5, 1_000, 900), Some(1));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = AttemptKeys::user("x", "2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = AttemptKeys::user("x", "2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a.address, b.address);
        assert_eq!(a.address, "address:2001:db8:1:2::/64");
    }

    #[test]
    fn account_keys_do_not_reveal_the_username() {
        let keys = AttemptKeys::user("dev@example.com", "10.0.0.1".parse().unwrap());
        assert!(!keys.account.contains("dev@"));
        assert_eq!(keys.address, "address:10.0.0.1");
    }
}
