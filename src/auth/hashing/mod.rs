//! Password hashing: argon2id on a fixed set of worker threads, one per core, each hash in argon2
//! memory reused from the hash before (and freed a second or two after the last login),
//! behind a bounded queue. A flood of logins waits in the queue — or is turned away at once when
//! it is full — and never occupies the async workers that serve refreshes and bearer checks;
//! memory stays at (threads × the argon2 memory) however many logins arrive, instead of one
//! fresh allocation per hash that the allocator may keep.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::Block;
use argon2::password_hash::PasswordHash;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, oneshot};

use super::AuthError;

mod argon2id;
mod django;

pub use argon2id::{Argon2Settings, hash_password};
use argon2id::{dummy_hash, hash_with, needs_rehash, verify_with};
pub use django::{DjangoPassword, classify as classify_django_password};

/// How many logins may wait for a hashing thread before new ones get a quick 503.
const MAX_WAITING: usize = 64;
/// How often idle argon2 memory is looked for: memory unused through one whole period is freed,
/// so an idle server stays small, and a login after a quiet spell pays for one fresh allocation.
const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// How much the hashing threads step back when the cores are contended, as a nice value: with
/// every core hashing during a login flood, a bearer check or a refresh still gets a core at once
/// (the scheduler weighs a nice-10 thread at a tenth of a normal one), while logins keep the
/// cores whenever nothing else wants them. Logins wait in the queue; the requests that take
/// microseconds do not wait behind a hash that takes tens of milliseconds.
const HASHING_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority; Linux keeps a nice value per thread.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        let thread = rustix::thread::gettid();
        if let Err(e) = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS) {
            tracing::debug!(error = %e, "could not lower the hashing thread's priority");
        }
    }
}

/// The result of checking a password against a stored hash.
#[derive(Debug)]
pub struct Checked {
    pub matches: bool,
    /// A fresh hash at the current parameters, when the password matched a hash made with any
    /// other ones (see `argon2id::needs_rehash`).
    pub rehash: Option<String>,
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

pub struct PasswordHasher {
    settings: Argon2Settings,
    jobs: mpsc::Sender<Job>,
    in_flight: Arc<AtomicUsize>,
    /// A hash of a random password at the current parameters: unknown users are checked against
    /// it, so they cost the same time as known ones.
    dummy: Arc<str>,
}

/// Counts a job from the moment it is queued until it is done (or dropped unrun).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Argon2 memory blocks not in use by a hash.
type Pool = Mutex<Vec<Vec<Block>>>;
type Buffers = Arc<Pool>;

fn lock(buffers: &Pool) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    buffers.lock().unwrap_or_else(|e| e.into_inner())
}

/// Frees the unused argon2 memory once no hash has started or finished for [`RELEASE_AFTER`];
/// stops when the hasher is dropped.
async fn release_when_idle(
    buffers: std::sync::Weak<Pool>,
    hashed: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
) {
    let mut last = hashed.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(RELEASE_AFTER).await;
        let Some(buffers) = buffers.upgrade() else {
            return;
        };
        let now = hashed.load(Ordering::Relaxed);
        if now == last && in_flight.load(Ordering::Relaxed) == 0 {
            lock(&buffers).clear();
        }
        last = now;
    }
}

impl PasswordHasher {
    /// Starts `threads` hashing threads.
    pub fn new(settings: Argon2Settings, threads: usize) -> anyhow::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>(MAX_WAITING);
        let receiver = Arc::new(Mutex::new(receiver));
        // The argon2 memory of the hashing threads: at most one block per thread, reused while
        // logins keep coming, freed by `release_when_idle` once they stop.
        let buffers: Buffers = Arc::default();
        let hashed = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new(AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let buffers = buffers.clone();
            let hashed = hashed.clone();
            std::thread::Builder::new()
                .name(format!("porteiro-hash-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    loop {
                        // One thread waits for the next job; the others wait for the lock.
                        let job = receiver
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .blocking_recv();
                        let Some(job) = job else { break };
                        let mut memory = lock(&buffers).pop().unwrap_or_default();
                        job(&mut memory);
                        lock(&buffers).push(memory);
                        hashed.fetch_add(1, Ordering::Relaxed);
                    }
                })?;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(release_when_idle(
                Arc::downgrade(&buffers),
                hashed,
                in_flight.clone(),
            ));
        }
        let dummy = dummy_hash(settings)?;
        Ok(Self {
            settings,
            jobs,
            in_flight,
            dummy: dummy.into(),
        })
    }

    /// A place in the queue, or `Busy` at once when it is full. Taken before anything else is
    /// done for a login, so that a flood beyond the hashing capacity is turned away without
    /// touching the database.
    pub fn reserve(&self) -> Result<Slot<'_>, AuthError> {
        let permit = self.jobs.try_reserve().map_err(|_| AuthError::Busy)?;
        Ok(Slot {
            permit,
            hasher: self,
        })
    }

    /// Logins hashing now or waiting for a thread.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn check(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Checked, AuthError> {
        self.reserve()?.check(password, stored).await
    }

    /// Hashes a new password on the pool.
    pub async fn hash(&self, password: SecretString) -> Result<String, AuthError> {
        self.reserve()?.hash(password).await
    }
}

/// A reserved place in the hashing queue, for one job.
pub struct Slot<'a> {
    permit: mpsc::Permit<'a, Job>,
    hasher: &'a PasswordHasher,
}

impl Slot<'_> {
    /// Queues `work` for a hashing thread and waits for its result.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (sender, receiver) = oneshot::channel();
        let in_flight = &self.hasher.in_flight;
        in_flight.fetch_add(1, Ordering::Relaxed);
        let counted = InFlight(in_flight.clone());
        self.permit.send(Box::new(move |memory| {
            let _counted = counted;
            let _ = sender.send(work(memory));
        }));
        receiver
            .await
            .map_err(|_| AuthError::Internal(anyhow::anyhow!("a hashing thread stopped")))
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn check(
        self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<Checked, AuthError> {
        let settings = self.hasher.settings;
        let dummy = self.hasher.dummy.clone();
        self.run(move |memory| check_with(&password, stored.as_deref(), &dummy, settings, memory))
            .await
    }

    /// Hashes a new password.
    pub async fn hash(self, password: SecretString) -> Result<String, AuthError> {
        let settings = self.hasher.settings;
        self.run(move |memory| hash_with(&password, settings, memory))
            .await?
            .map_err(AuthError::Internal)
    }
}

/// Checks `password` against a stored hash: Porteiro's own argon2id, or a hash imported from
/// Django, which a match replaces with argon2id. A stored value that can match nothing (no
/// account, an unusable or unreadable hash) costs a check against the dummy, as a wrong password
/// for an account does.
fn check_with(
    password: &SecretString,
    stored: Option<&str>,
    dummy: &str,
    settings: Argon2Settings,
    memory: &mut Vec<Block>,
) -> Checked {
    if let Some(stored) = stored.filter(|s| django::is_django(s))
        && let Some(matches) = django::verify(password.expose_secret().as_bytes(), stored, memory)
    {
        let rehash = matches
            .then(|| hash_with(password, settings, memory).ok())
            .flatten();
        return Checked { matches, rehash };
    }
    let native = stored
        .filter(|s| !django::is_django(s))
        .and_then(|s| PasswordHash::new(s).ok());
    let known = native.is_some();
    let Some(parsed) = native.or_else(|| PasswordHash::new(dummy).ok()) else {
        return Checked {
            matches: false,
            rehash: None,
        };
    };
    // An unknown account is checked against the dummy too: the same work, never a match.
    let matches = verify_with(password, &parsed, memory) && known;
    let rehash = (matches && needs_rehash(&parsed, settings))
        .then(|| hash_with(password, settings, memory).ok())
        .flatten();
    Checked { matches, rehash }
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

    #[tokio::test]
    async fn a_hash_with_stronger_parameters_is_rehashed_on_success_too() {
        let stronger = Argon2Settings {
            memory_kib: 2048,
            iterations: 2,
            ..CHEAP
        };
        let old = hash_password(&SecretString::from("pw-123456"), stronger).unwrap();
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let checked = hasher
            .check(SecretString::from("pw-123456"), Some(old))
            .await
            .unwrap();
        assert!(checked.matches);
        assert!(checked.rehash.unwrap().contains("m=1024,t=1,p=1"));
    }

    #[tokio::test]
    async fn a_django_hash_that_matches_is_replaced_by_argon2id_and_one_that_does_not_is_kept() {
        // Made by Django 5.2 for "correct horse battery staple ✓".
        let django = "pbkdf2_sha256$1000$GxiKXsTFCtnUMRzvwZnRpt$NliBepwHR4/LK1Cjy2XMvjpGn1KKzJ9waiu9CS9W2k0=";
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let right = SecretString::from("correct horse battery staple ✓");
        let checked = hasher.check(right, Some(django.into())).await.unwrap();
        assert!(checked.matches);
        let rehash = checked.rehash.unwrap();
        assert!(rehash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        let again = hasher
            .check(
                SecretString::from("correct horse battery staple ✓"),
                Some(rehash),
            )
            .await
            .unwrap();
        assert!(again.matches && again.rehash.is_none());
        let wrong = SecretString::from("correct horse battery staple");
        let checked = hasher.check(wrong, Some(django.into())).await.unwrap();
        assert!(!checked.matches && checked.rehash.is_none());
    }

    #[tokio::test]
    async fn an_unusable_django_password_matches_nothing_not_even_itself() {
        let hasher = PasswordHasher::new(CHEAP, 1).unwrap();
        let unusable = "!Kq3vNn2XrPjGx6c8yW0dLmTbZf1hAeRuVoYsCiJ";
        let checked = hasher
            .check(SecretString::from(unusable), Some(unusable.into()))
            .await
            .unwrap();
        assert!(!checked.matches && checked.rehash.is_none());
    }
}
