//! Login throttling (the contract's section 5): failures counted in the database per (account, address)
//! pair, per client address, and — for user accounts — per account from every address, counted
//! before the credential is checked so that no more than the limit are ever checked, on one
//! instance or many.
//!
//! The pair is what locks an account: a guesser at one address locks only themselves out, and
//! the account's owner elsewhere keeps logging in. The address counter stops one client that
//! tries many accounts; the per-user backstop stops a guesser who spreads over many addresses.
//! Integrations have no account-wide counter: their secrets cannot be guessed and their
//! consumer keys are in every token, so such a lock would only let anyone lock them out.
//!
//! Accounts are keyed by an HMAC of what was typed under a key derived from the master key: a
//! password typed into the username field is not kept as a digest anyone can test guesses
//! against, and a copy of the table alone does not tell which accounts were tried.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use aws_lc_rs::hmac;

mod keys;

pub use keys::AttemptKeys;
use keys::address_key;

use crate::auth::recent::Recent;
use crate::store::{AttemptCount, Counter, Store};

/// The limits of login throttling.
#[derive(Debug, Clone)]
pub struct LockoutSettings {
    /// The limit of one (account, address) pair.
    pub account_failures: u32,
    /// The limit of one user account from any addresses; 0: no such limit.
    pub account_backstop: u32,
    pub address_failures: u32,
    pub window: Duration,
    pub duration: Duration,
}

/// The lockout of every credential check: counts, peeks and resets the counters of attempts.
pub struct Throttle {
    store: Store,
    limits: LockoutSettings,
    /// Keys the account and pair counters (see the module's documentation).
    key: hmac::Key,
    /// Pairs of counters a peek found clear, remembered for a second (see [`Throttle::peek`]).
    clear: Recent<Peek>,
    /// Lockouts this instance has written to the activity log: (organization, address counter)
    /// → until when (see [`Throttle::first_report`]).
    reported: Mutex<HashMap<(i64, String), i64>>,
}

/// How many reported lockouts are remembered before the expired ones are dropped.
const REPORTED_CAPACITY: usize = 10_000;

impl Throttle {
    /// `key` is the lockout key derived from the master key. Every instance of a service must
    /// have the same one, or each would count under keys of its own.
    pub fn new(store: Store, limits: LockoutSettings, key: [u8; 32]) -> Self {
        Self {
            store,
            limits,
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
            clear: Recent::default(),
            reported: Mutex::default(),
        }
    }

    /// Whether a refusal of `client` in organization `org`, locked for `retry_after` more
    /// seconds, is the first this instance sees of that lock, and so is to be written to the
    /// activity log. A refused attempt costs the sender nothing — no password is checked — so an
    /// event for each would let anyone fill an organization's log as fast as they can send; one
    /// per organization and address until the lock ends (per instance) says all there is to say.
    pub fn first_report(&self, org: i64, client: IpAddr, retry_after: u64, now: i64) -> bool {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if reported.len() >= REPORTED_CAPACITY {
            reported.retain(|_, until| *until > now);
            if reported.len() >= REPORTED_CAPACITY {
                reported.clear();
            }
        }
        let until = now.saturating_add(i64::try_from(retry_after).unwrap_or(i64::MAX));
        let known = reported
            .entry((org, address_key(client)))
            .or_insert(i64::MIN);
        let first = *known <= now;
        *known = (*known).max(until);
        first
    }

    /// Keys for a user login: the pair, the address and (with the backstop on) the account.
    pub fn user_keys(&self, normalized_username: &str, address: IpAddr) -> AttemptKeys {
        let backstop = self.limits.account_backstop > 0;
        AttemptKeys::user(&self.key, backstop, normalized_username, address)
    }

    /// Keys for an integration's consumer key: the pair and the address, no account-wide one.
    pub fn integration_keys(&self, consumer_key: &str, address: IpAddr) -> AttemptKeys {
        AttemptKeys::integration(&self.key, consumer_key, address)
    }

    /// The counters of an attempt with their limits: address, pair and account.
    fn counters<'a>(&self, keys: &'a AttemptKeys) -> Vec<Counter<'a>> {
        let mut counters = vec![
            Counter {
                key: &keys.address,
                limit: i64::from(self.limits.address_failures),
            },
            Counter {
                key: &keys.pair,
                limit: i64::from(self.limits.account_failures),
            },
        ];
        if let Some(account) = &keys.account {
            counters.push(Counter {
                key: account,
                limit: i64::from(self.limits.account_backstop),
            });
        }
        counters
    }

    fn window(&self) -> i64 {
        self.limits.window.as_secs() as i64
    }

    fn lock_for(&self) -> i64 {
        self.limits.duration.as_secs() as i64
    }

    /// Counts an attempt against all its counters at once. `Some(retry_after)` when the
    /// address, the pair or the account is locked out, in which case no credential may be
    /// checked.
    pub async fn admit(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Option<u64>> {
        let counters = self.counters(keys);
        let counts = self
            .store
            .count_attempts(&counters, now, self.window(), self.lock_for())
            .await?;
        self.answer(&counters, &counts, now).await
    }

    /// The answer to an attempt just counted: `Some(retry_after)` when a counter is past its
    /// limit. A refused attempt checks no credential, so it is no failure: the counters that did
    /// not refuse it take it back, as if it had been refused before they counted it.
    async fn answer(
        &self,
        counters: &[Counter<'_>],
        counts: &[AttemptCount],
        now: i64,
    ) -> sqlx::Result<Option<u64>> {
        let lock_for = self.lock_for();
        let refusals: Vec<Option<u64>> = counters
            .iter()
            .zip(counts)
            .map(|(c, count)| refusal(*count, c.limit, now, lock_for))
            .collect();
        // Locked until the last of the locks ends: waiting less would only be refused again.
        let wait = refusals.iter().flatten().copied().max();
        if wait.is_some() {
            let not_refusing: Vec<Counter> = counters
                .iter()
                .zip(&refusals)
                .filter(|(_, r)| r.is_none())
                .map(|(c, _)| *c)
                .collect();
            self.store.uncount_attempts(&not_refusing).await?;
        }
        Ok(wait)
    }

    /// Takes back an admitted attempt whose credential could not be checked (the hashing queue
    /// was full): it was no failure.
    pub async fn release(&self, keys: &AttemptKeys) -> sqlx::Result<()> {
        self.store.uncount_attempts(&self.counters(keys)).await
    }

    /// A success resets the account's counters (this pair, and the account's from every
    /// address) and takes back the address's count of this attempt. Pairs of the account at
    /// other addresses keep their counts: they may be a guesser's.
    pub async fn succeeded(&self, keys: &AttemptKeys) -> sqlx::Result<()> {
        self.store.clear_attempts(&account_keys(keys)).await?;
        self.store
            .uncount_attempts(&[Counter {
                key: &keys.address,
                limit: i64::from(self.limits.address_failures),
            }])
            .await
    }
}

/// The counters a success resets.
fn account_keys(keys: &AttemptKeys) -> Vec<&str> {
    std::iter::once(keys.pair.as_str())
        .chain(keys.account.as_deref())
        .collect()
}

/// What a look at the counters found, before a cheap credential is checked.
#[derive(Debug, Clone, Copy)]
pub struct Peek {
    /// Seconds to wait when the address, the pair or the account is locked now.
    pub locked: Option<u64>,
    /// Whether the account has failures to forget after a success.
    pub account_failed: bool,
}

impl Throttle {
    /// For high-entropy secrets, whose check costs a digest comparison: a read-only look at all
    /// the counters, in one statement. A locked address or pair is refused without a check;
    /// otherwise the secret is checked first and only a failure is counted (see
    /// [`Throttle::failed`]), so a success writes nothing. The answers are those of counting
    /// first: the N-th failure gets the ordinary answer and every later one the lockout, also
    /// under parallel requests, because failures are counted atomically before they are
    /// answered.
    ///
    /// A client that succeeds keeps asking, so a peek that found nothing against the pair is
    /// remembered for a second, until a failure is counted here. The one thing that can slip
    /// through meanwhile is the right secret presented here in the second after another
    /// instance locked the pair; a wrong one is still counted, and refused past the limit.
    pub async fn peek(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Peek> {
        if let Some(peek) = self.clear.get(&keys.pair, now) {
            return Ok(peek);
        }
        let counters = self.counters(keys);
        let names: Vec<&str> = counters.iter().map(|c| c.key).collect();
        let found = self.store.peek_attempts(&names).await?;
        let lock_for = self.lock_for();
        let locked = found
            .iter()
            .flatten()
            .filter_map(|c| c.locked_until.filter(|until| *until > now))
            .max()
            .map(|until| (until - now).clamp(1, lock_for.max(1)) as u64);
        let account_failed = counters
            .iter()
            .zip(&found)
            .any(|(c, count)| c.key != keys.address && count.is_some_and(|n| n.failures > 0));
        let peek = Peek {
            locked,
            account_failed,
        };
        if peek.locked.is_none() && !peek.account_failed {
            self.clear.insert(&keys.pair, &peek, now);
        }
        Ok(peek)
    }

    /// Counts a failed check against all the attempt's counters; `Some(retry_after)` when this
    /// failure is past a limit and must be answered as a lockout.
    pub async fn failed(&self, keys: &AttemptKeys, now: i64) -> sqlx::Result<Option<u64>> {
        self.clear.clear();
        let counters = self.counters(keys);
        let counts = self
            .store
            .count_attempts(&counters, now, self.window(), self.lock_for())
            .await?;
        self.answer(&counters, &counts, now).await
    }

    /// After a success on the peek path: forgets the account's failures, if it had any.
    pub async fn forget(&self, keys: &AttemptKeys, peek: Peek) -> sqlx::Result<()> {
        if peek.account_failed {
            self.store.clear_attempts(&account_keys(keys)).await?;
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
}
