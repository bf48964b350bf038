//! Password hashing: argon2id on a bounded pool of blocking threads, one permit per core, with a
//! bounded queue in front. A flood of logins waits here — or is turned away at once when the
//! queue is full — and never occupies the async workers that serve refreshes and bearer checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Argon2, Params};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::AuthError;
use crate::config::Argon2Settings;

/// How many logins may wait for a hashing thread before new ones get a quick 503.
const MAX_WAITING: usize = 64;

fn argon2(settings: Argon2Settings) -> Argon2<'static> {
    let params = Params::new(
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        None,
    )
    .expect("argon2 parameters are checked when settings are resolved");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes a password on the current thread. For the command line, and inside the pool.
pub fn hash_password(password: &SecretString, settings: Argon2Settings) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = argon2(settings)
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// The result of checking a password against a stored hash.
#[derive(Debug)]
pub struct Checked {
    pub matches: bool,
    /// A fresh hash at the current parameters, when the password matched a hash made with weaker ones.
    pub rehash: Option<String>,
}

pub struct PasswordHasher {
    settings: Argon2Settings,
    permits: Arc<Semaphore>,
    threads: usize,
    waiting: Arc<AtomicUsize>,
    /// A hash of a random password at the current parameters: unknown users are checked against
    /// it, so they cost the same time as known ones.
    dummy: Arc<str>,
}

/// Counts a request as waiting until it is dropped, also when its client goes away.
struct WaitGuard(Arc<AtomicUsize>);

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHasher {
    pub fn new(settings: Argon2Settings, threads: usize) -> anyhow::Result<Self> {
        let dummy = hash_password(
            &SecretString::from(crate::tokens::claims::random_id()),
            settings,
        )?;
        Ok(Self {
            settings,
            permits: Arc::new(Semaphore::new(threads.max(1))),
            threads: threads.max(1),
            waiting: Arc::new(AtomicUsize::new(0)),
            dummy: dummy.into(),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        // Requests holding a permit count as waiting too, until their hash is done.
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING + self.threads {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(AuthError::Busy);
        }
        let _waiting = WaitGuard(self.waiting.clone());
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AuthError::Internal(e.into()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| AuthError::Internal(e.into()))
    }

    /// Logins hashing now or waiting for a thread.
    pub fn in_flight(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn check(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Checked, AuthError> {
        let settings = self.settings;
        let known = stored.is_some();
        let hash: String = stored.unwrap_or_else(|| self.dummy.to_string());
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return Checked {
                    matches: false,
                    rehash: None,
                };
            };
            let matches = known
                && argon2(settings)
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok();
            if !known {
                // Spend the same work on an unknown account.
                let _ =
                    argon2(settings).verify_password(password.expose_secret().as_bytes(), &parsed);
            }
            let rehash = (matches && is_weaker(&parsed, settings))
                .then(|| hash_password(&password, settings).ok())
                .flatten();
            Checked { matches, rehash }
        })
        .await
    }

    /// Hashes a new password on the pool.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        let settings = self.settings;
        self.run(move || hash_password(&password, settings))
            .await?
            .map_err(AuthError::Internal)
    }
}

/// Whether a stored hash was made with other parameters than the current ones.
fn is_weaker(hash: &PasswordHash<'_>, settings: Argon2Settings) -> bool {
    let Ok(params) = Params::try_from(hash) else {
        return true;
    };
    hash.algorithm.as_str() != "argon2id"
        || params.m_cost() < settings.memory_kib
        || params.t_cost() < settings.iterations
        || params.p_cost() < settings.parallelism
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Settings = Argon2Settings {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::new(CHEAP, 2).unwrap();
        let hash = hasher
            .hash(SecretString::from("correct horse"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let ok = hasher
            .check(SecretString::from("correct horse"), Some(hash.clone()))
            .await
            .unwrap();
        assert!(ok.matches && ok.rehash.is_none());
        let bad = hasher
            .check(SecretString::from("correct horse "), Some(hash))
            .await
            .unwrap();
        assert!(!bad.matches);
    }

    #[tokio::test]
    async fn an_unknown_account_never_matches_even_the_dummy_password() {
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("anything"), None)
            .await
            .unwrap();
        assert!(!checked.matches);
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_is_rehashed_on_success() {
        let old = hash_password(&SecretString::from("pw-123456"), CHEAP).unwrap();
        let stronger = Argon2Settings {
            memory_kib: 2048,
            ..CHEAP
        };
        let hasher = PasswordHasher::new(stronger, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("pw-123456"), Some(old))
            .await
            .unwrap();
        assert!(checked.matches);
        assert!(checked.rehash.unwrap().contains("m=2048"));
    }
}
